"""The data commands: `generate`, `import`, `mappings`, `rebuild`, `rejected` and `retract`.

While `deskpulse serve` holds the data folder, `import` sends its events to the server's
ingest and `rejected` reads through the server's API (remote.py); `import --mapping`,
`rebuild` and `retract` need the store itself and say so.
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from deskpulse.cli.context import Cli
from deskpulse.cli.loading import (
    dry_run,
    generate_events,
    import_files,
    import_with_mapping,
    load_mapping,
    mapped_paths,
    print_import,
    print_mapped,
    refresh,
)
from deskpulse.cli.options import OutputFormat
from deskpulse.cli.remote import as_served, client_for, write_json

# -- generate -------------------------------------------------------------------------------


def generate_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="JSON Lines file to write; '-' for stdout."),
    ] = None,
    conversations: Annotated[int, typer.Option(min=1, help="Conversations to simulate.")] = 50_000,
    days: Annotated[int, typer.Option(min=1, help="Days of history.")] = 120,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 7,
    end: Annotated[
        datetime | None,
        typer.Option(help="End of the simulated window (UTC). Default: now, to the hour."),
    ] = None,
    planted: Annotated[
        bool,
        typer.Option(
            "--planted/--no-planted",
            help="Plant the stories (degrading queues, incident, experiment, AI regression, "
            "volume trend, staff turnover); --no-planted gives a stable data set.",
        ),
    ] = True,
) -> None:
    """Write a realistic synthetic support organisation's events as JSON Lines."""
    cli = Cli.of(ctx)
    end_at = end.replace(tzinfo=UTC) if end is not None and end.tzinfo is None else end
    if out is not None and str(out) == "-":
        generate_events(
            cli,
            None,
            conversations=conversations,
            days=days,
            seed=seed,
            end=end_at,
            stream=sys.stdout.buffer,
            planted=planted,
        )
        return
    target = out or cli.settings.data_dir / "generated.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    summary = generate_events(
        cli, target, conversations=conversations, days=days, seed=seed, end=end_at, planted=planted
    )
    cli.console.print(
        f"wrote [bold]{summary.events:,}[/] events for {summary.conversations:,} conversations "
        f"and {summary.agents} agents to {target}"
    )


# -- import ---------------------------------------------------------------------------------


def import_command(
    ctx: typer.Context,
    files: Annotated[
        list[str], typer.Argument(help="JSON Lines or JSON array files; '-' = stdin.")
    ],
    mapping: Annotated[
        str | None,
        typer.Option(
            help="Mapping file (TOML) or shipped mapping name (see `deskpulse mappings`): "
            "import CSV / JSON exports that are not contract events."
        ),
    ] = None,
    dry_run_only: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="With --mapping: show mapped events and every problem; store nothing."
        ),
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="With --mapping: read at most N rows per file.")
    ] = None,
) -> None:
    """Validate and store events from files (gzip accepted), then update the facts."""
    cli = Cli.of(ctx)
    if mapping is None:
        if dry_run_only or limit is not None:
            raise cli.fail("--dry-run and --limit need --mapping")
        summary = import_files(cli, files)
        print_import(cli, summary)
        return
    chosen = load_mapping(cli, mapping)
    paths = mapped_paths(cli, files)
    if dry_run_only:
        dry_run(cli, chosen, paths, limit)
        return
    cli.refuse_while_served(
        "import --mapping stores through this machine's event store: stop the server "
        "first (--dry-run works while it runs)"
    )
    with cli.store() as store:
        mapped = import_with_mapping(cli, store, chosen, paths, limit)
    print_mapped(cli, mapped)


def mappings_command(ctx: typer.Context) -> None:
    """List the mappings shipped with deskpulse (use one with import --mapping NAME)."""
    from deskpulse.connectors.mapping import load_mapping as load
    from deskpulse.connectors.mapping import shipped_mappings

    table = Table(title="shipped mappings")
    for column in ("name", "recipe", "description", "file"):
        table.add_column(column, overflow="fold")
    for name, path in shipped_mappings().items():
        mapping = load(path)
        table.add_row(name, mapping.recipe, mapping.description, str(path))
    Cli.of(ctx).console.print(table)


# -- rebuild --------------------------------------------------------------------------------


def rebuild_command(
    ctx: typer.Context,
    incremental: Annotated[
        bool, typer.Option(help="Only recompute conversations touched since the last build.")
    ] = False,
) -> None:
    """Recompute the facts from the stored events."""
    cli = Cli.of(ctx)
    cli.refuse_while_served(
        "the server refreshes the facts itself after every import; to rebuild them all "
        "from the events, stop it first"
    )
    with cli.store() as store:
        summary = refresh(cli, store, full=not incremental)
        cli.console.print(
            f"facts {summary.mode}: {summary.conversations:,} conversations "
            f"in {summary.seconds:.1f} s"
        )


# -- rejected and retract ---------------------------------------------------------------------


def rejected_command(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="How many to list, newest first.")
    ] = 50,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
) -> None:
    """List rejected events, quarantined conversations and retracted events, with why
    (through the running server when one holds the data folder)."""
    cli = Cli.of(ctx)
    found = _data_health(cli, limit)
    if output is OutputFormat.json:
        write_json(found)
        return
    counts = found["counts"]
    table = Table(title=f"rejected events ({counts['rejected']:,} in all, newest first)")
    for column in ("received", "source", "position", "event id", "type", "field", "reason"):
        table.add_column(column)
    for row in found["rejected"]:
        table.add_row(
            str(row["received_at"])[:19].replace("T", " "),
            str(row["source"]),
            str(row["position"]),
            str(row["event_id"] or "-"),
            str(row["type"] or "-"),
            str(row["field"] or "-"),
            str(row["reason"]),
        )
    cli.console.print(table)
    quarantine = Table(
        title=f"quarantined conversations ({counts['quarantined']:,}): left out of the facts "
        "until an "
        "event to them computes"
    )
    for column in ("conversation", "since", "last failed", "reason"):
        quarantine.add_column(column)
    for item in found["quarantined"]:
        quarantine.add_row(
            str(item["conversation_id"]),
            str(item["first_seen_at"])[:19],
            str(item["last_seen_at"])[:19],
            str(item["reason"]),
        )
    cli.console.print(quarantine)
    retracted = Table(title=f"retracted events ({counts['retracted']:,}, newest first)")
    for column in ("retracted", "event id", "type", "conversation", "by", "reason"):
        retracted.add_column(column)
    for item in found["retracted"]:
        retracted.add_row(
            str(item["retracted_at"])[:19],
            str(item["event_id"]),
            str(item["event_type"] or "-"),
            str(item["conversation_id"] or "-"),
            str(item["retracted_by"]),
            str(item["reason"]),
        )
    cli.console.print(retracted)


def _data_health(cli: Cli, limit: int) -> dict[str, Any]:
    """GET /api/v1/data-health's answer: from the running server, else from the store."""
    from deskpulse.facts.data_health import health_summary

    client = client_for(cli.settings)
    if client is not None:
        found: dict[str, Any] = client.get_json("/api/v1/data-health", {"limit": limit})
        return found
    with cli.store() as store:
        served: dict[str, Any] = as_served(health_summary(store, limit=limit))
    return served


def retract_command(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="The id of the accepted event to retract.")],
    reason: Annotated[str, typer.Option(help="Why it should not count (kept with it).")],
    by: Annotated[
        str | None,
        typer.Option(help="Who retracts it, as recorded (default: cli:<your login>)."),
    ] = None,
) -> None:
    """Retract an accepted event: a tombstone is stored, nothing is deleted, and the facts
    of its conversation are recomputed without it."""
    from deskpulse.events.retraction import RetractionError, retract_event

    cli = Cli.of(ctx)
    who = by.strip() if by and by.strip() else f"cli:{getpass.getuser()}"
    with cli.store() as store:
        try:
            done = retract_event(store, event_id, reason=reason, retracted_by=who)
        except RetractionError as error:
            raise cli.fail(error.message) from None
        refresh(cli, store)
    where = f" on conversation {done.conversation_id}" if done.conversation_id else ""
    cli.console.print(
        f"retracted [bold]{done.event_id}[/] ({done.event_type}{where}) by {done.retracted_by}: "
        f"{done.reason}",
        highlight=False,
    )
    cli.console.print("the facts are recomputed without it; the audit trail: deskpulse rejected")
