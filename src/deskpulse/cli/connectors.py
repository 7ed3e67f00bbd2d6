"""`deskpulse connect …`: one sub-command per helpdesk connector.

`connect chatwoot webhook` makes a webhook connector (the connectors feature's service
in the app database); `connect chatwoot backfill` reads an account through Chatwoot's
REST API; `connect zendesk import` maps saved Zendesk export pages. The mapping itself
is the core's (deskpulse.connectors); this module reads options and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from deskpulse.cli.context import Cli

if TYPE_CHECKING:
    from deskpulse.connectors.zendesk import ImportSummary as ZendeskImportSummary

connect_app = typer.Typer(help="Connect helpdesks to deskpulse.", no_args_is_help=True)
chatwoot_app = typer.Typer(
    help="Chatwoot: receive its webhooks, or backfill history from its API.",
    no_args_is_help=True,
)
zendesk_app = typer.Typer(
    help="Import Zendesk Incremental Export files (tickets, ticket events or audits, "
    "satisfaction ratings, ticket metrics, users).",
    no_args_is_help=True,
)
connect_app.add_typer(chatwoot_app, name="chatwoot")
connect_app.add_typer(zendesk_app, name="zendesk")


# -- Chatwoot -------------------------------------------------------------------------------


@chatwoot_app.command("webhook")
def webhook_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="A name to tell connectors apart.")] = "chatwoot",
    account_id: Annotated[
        int | None,
        typer.Option(
            "--account-id",
            help="The Chatwoot account id (in its URLs: /app/accounts/<id>/). Needed because "
            "Chatwoot's conversation webhooks do not name their account.",
        ),
    ] = None,
) -> None:
    """Create a webhook connector and print its URL path (the secret is shown only once)."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.connectors.service import create_connector

    console = cli.console
    connector, secret = create_connector("chatwoot", name, account_id=account_id)
    console.print(f"connector [bold]{connector.name}[/] created (id {connector.pk}).")
    console.print("In Chatwoot: Settings → Integrations → Webhooks → Add new webhook, URL:")
    console.print(
        f"  https://<your deskpulse host>/api/v1/connectors/chatwoot/{secret}", soft_wrap=True
    )
    console.print(
        "tick: conversation_created, conversation_status_changed, conversation_updated, "
        "message_created, message_updated. This URL is not shown again."
    )


@chatwoot_app.command("backfill")
def backfill_command(
    ctx: typer.Context,
    url: Annotated[str, typer.Option(help="Chatwoot's base URL, e.g. https://app.chatwoot.com")],
    token: Annotated[
        str,
        typer.Option(
            envvar="CHATWOOT_API_TOKEN",
            help="An access token (Profile Settings → Access Token); sent as api_access_token.",
        ),
    ],
    account_id: Annotated[int, typer.Option("--account-id", help="The Chatwoot account id.")],
    label_map: Annotated[
        list[str] | None,
        typer.Option("--label", help="LABEL=INQUIRY; repeat. Default: the first label."),
    ] = None,
) -> None:
    """Read every conversation and message of an account and store them as events."""
    from deskpulse.connectors.chatwoot import ChatwootOptions
    from deskpulse.connectors.chatwoot_backfill import BackfillError, ChatwootClient, backfill
    from deskpulse.events.store import open_store

    cli = Cli.of(ctx)
    console = cli.console
    labels: dict[str, str] = {}
    for item in label_map or []:
        label, sep, inquiry = item.partition("=")
        if not sep or not label or not inquiry:
            raise cli.fail(f"--label {item!r}: write LABEL=INQUIRY")
        labels[label] = inquiry
    client = ChatwootClient(url, token, account_id)
    store = open_store(cli.settings)
    try:
        result = backfill(
            store, client, options=ChatwootOptions(account_id=account_id, label_map=labels)
        )
    except BackfillError as error:
        raise cli.fail(str(error)) from error
    finally:
        store.close()
    console.print(
        f"{result.conversations:,} conversations, {result.messages:,} messages, "
        f"{result.schedules:,} inbox working-hours schedules: "
        f"{result.accepted:,} events stored, {result.duplicates:,} already there, "
        f"{result.rejected:,} rejected."
    )
    for display, field, reason in result.problems[:20]:
        what = display if display.startswith("inbox ") else f"conversation {display}"
        console.print(f"  {what}: {field}: {reason}")
    if result.problems or result.rejected:
        console.print("every rejected record, with its reason: [bold]deskpulse rejected[/]")


# -- Zendesk --------------------------------------------------------------------------------


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
    from deskpulse.connectors.zendesk import ZendeskOptions, import_zendesk

    cli = Cli.of(ctx)
    for path in paths:
        if not path.exists():
            raise cli.fail(f"no such file or folder: {path}")
    if inbox_from not in ("brand", "group"):
        raise cli.fail("--inbox-from must be 'brand' or 'group'")
    options = ZendeskOptions(
        inquiry_field_id=inquiry_field,
        inbox_from="brand" if inbox_from == "brand" else "group",
    )
    with (
        cli.store() as store,
        Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=cli.errors,
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
    _print_summary(cli, summary)


def _print_summary(cli: Cli, summary: ZendeskImportSummary) -> None:
    console = cli.console
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


from deskpulse.cli.intercom import intercom_app  # noqa: E402 (registered last, on purpose)

connect_app.add_typer(intercom_app, name="intercom")
