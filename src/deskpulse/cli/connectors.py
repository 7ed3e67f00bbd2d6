"""`deskpulse connect zendesk import PATH...`: import saved Zendesk export pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

zendesk_app = typer.Typer(
    help="Import Zendesk Incremental Export files (tickets, ticket events or audits, "
    "satisfaction ratings, ticket metrics, users).",
    no_args_is_help=True,
)

console = Console()
errors = Console(stderr=True)


@zendesk_app.command("import")
def import_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="Saved API pages (.json) or folders of them.")
    ],
    inquiry_field: Annotated[
        int | None,
        typer.Option(help="Custom ticket field id holding the inquiry type (default: first tag)."),
    ] = None,
    inbox_from: Annotated[
        str, typer.Option(help="What a deskpulse inbox is: 'brand' or 'group'.")
    ] = "brand",
    batch_size: Annotated[int, typer.Option(min=1, help="Events stored per batch.")] = 5_000,
) -> None:
    """Map the pages to events, store them, update the facts and print a summary."""
    # Imported here: deskpulse.cli imports the connectors' CLI to wire it in.
    from deskpulse.cli import fail, opened_store, settings_of
    from deskpulse.connectors.zendesk import ZendeskOptions, import_zendesk

    for path in paths:
        if not path.exists():
            raise fail(f"no such file or folder: {path}")
    if inbox_from not in ("brand", "group"):
        raise fail("--inbox-from must be 'brand' or 'group'")
    options = ZendeskOptions(
        inquiry_field_id=inquiry_field,
        inbox_from="brand" if inbox_from == "brand" else "group",
    )
    with (
        opened_store(settings_of(ctx)) as store,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
        ) as progress,
    ):
        task = progress.add_task("storing Zendesk events", total=None)
        summary = import_zendesk(
            store,
            paths,
            options,
            batch_size=batch_size,
            on_events=lambda total: progress.update(task, total=total),
            progress=lambda stored: progress.advance(task, stored),
        )
    print_summary(summary)


def print_summary(summary: Any) -> None:
    table = Table(title="Zendesk import", show_header=False)
    table.add_row("files read", f"{summary.files_read:,}")
    table.add_row("records read", f"{summary.records_read:,}")
    for kind, count in sorted(summary.records_by_kind.items()):
        table.add_row(f"  {kind.replace('_', ' ')}s", f"{count:,}")
    table.add_row("events made", f"{summary.events_made:,}")
    table.add_row("stored", f"{summary.accepted:,}")
    table.add_row("already there", f"{summary.duplicates:,}")
    table.add_row("rejected", f"{len(summary.rejected):,}")
    table.add_row("conversations", f"{summary.conversations:,}")
    table.add_row("agents", f"{summary.agents:,}")
    for reason, count in sorted(summary.skipped.items()):
        table.add_row(f"skipped: {reason}", f"{count:,}")
    console.print(table)
    if summary.rejected:
        rejected = Table(title="rejected records (first 20)")
        for column in ("file", "kind", "id", "field", "reason"):
            rejected.add_column(column)
        for r in summary.rejected[:20]:
            rejected.add_row(
                Path(r.file).name, r.kind, r.record_id or "-", r.field or "-", r.reason
            )
        console.print(rejected)
    if summary.metric_checks:
        checks = Table(title="Zendesk ticket metrics vs deskpulse")
        for column in ("ticket", "metric", "Zendesk", "deskpulse", "", "note"):
            checks.add_column(column)
        for c in summary.metric_checks:
            checks.add_row(
                c.ticket_id,
                c.metric,
                _number(c.zendesk),
                _number(c.deskpulse),
                "[green]agrees[/]" if c.agrees else "[yellow]differs[/]",
                c.note,
            )
        console.print(checks)
        console.print(
            f"{len(summary.disagreements)} of {len(summary.metric_checks)} checks differ; "
            "see docs/connectors-zendesk.md, 'Cross-check' for the usual reasons."
        )


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}"
