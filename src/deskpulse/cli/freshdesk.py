"""`deskpulse connect freshdesk …`: import saved Freshdesk API answers, or backfill them
through the API. The mapping is the core's (deskpulse.connectors.freshdesk); this module
reads options, shows progress and prints the summary.

The API key is never an argument value (it would end up in shell history and process
lists): `--api-key-env VAR` names the environment variable holding it, otherwise the
command asks for it without echoing.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from deskpulse.cli.context import Cli
from deskpulse.cli.storing import storing_events

if TYPE_CHECKING:
    from deskpulse.connectors.freshdesk import FreshdeskOptions, Rejected

freshdesk_app = typer.Typer(
    help="Freshdesk: import saved API answers (tickets, conversations, time entries, "
    "satisfaction ratings, agents), or backfill them through its API.",
    no_args_is_help=True,
)

KINDS = {
    "ticket": "tickets",
    "conversation": "conversations",
    "time_entry": "time entries",
    "rating": "satisfaction ratings",
    "agent": "agents",
}

AiAgents = Annotated[
    list[str] | None,
    typer.Option(
        "--ai-agent",
        help="Freshdesk user id whose public replies are an AI agent's (Freddy AI Agent or "
        "another bot); repeat.",
    ),
]
CustomSurveys = Annotated[
    list[str] | None,
    typer.Option(
        "--custom-survey",
        help="Survey id of a custom survey (-103 … 103 codes); repeat. Default: detected "
        "from the answers.",
    ),
]


def _options(ai_agents: list[str] | None, custom_surveys: list[str] | None) -> FreshdeskOptions:
    from deskpulse.connectors.freshdesk import FreshdeskOptions

    return FreshdeskOptions(
        ai_agent_ids=frozenset(a.strip() for a in ai_agents or [] if a.strip()),
        custom_survey_ids=frozenset(s.strip() for s in custom_surveys or [] if s.strip()),
    )


@freshdesk_app.command("import")
def import_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="Saved API answers (.json) or folders of them.")
    ],
    ai_agent: AiAgents = None,
    custom_survey: CustomSurveys = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Events stored per batch.")] = 5_000,
) -> None:
    """Map the files to events, store them, update the facts and print a summary."""
    from deskpulse.connectors.freshdesk import import_freshdesk

    cli = Cli.of(ctx)
    for path in paths:
        if not path.exists():
            raise cli.fail(f"no such file or folder: {path}")
    with cli.store() as store, storing_events(cli, "Freshdesk") as (on_events, stored):
        summary = import_freshdesk(
            store,
            paths,
            _options(ai_agent, custom_survey),
            batch_size=batch_size,
            on_events=on_events,
            progress=stored,
        )
    table = Table(title="Freshdesk import", show_header=False)
    table.add_row("files read", f"{summary.files_read:,}")
    table.add_row("records read", f"{summary.records_read:,}")
    for kind, count in sorted(summary.records_by_kind.items()):
        table.add_row(f"  {KINDS.get(kind, kind)}", f"{count:,}")
    _outcome_rows(
        table,
        events=summary.events_made,
        accepted=summary.accepted,
        duplicates=summary.duplicates,
        rejected=len(summary.rejected),
        skipped=summary.skipped,
    )
    table.add_row("conversations", f"{summary.conversations:,}")
    table.add_row("agents", f"{summary.agents:,}")
    cli.console.print(table)
    _print_rejected(cli, summary.rejected)


def _since(value: str) -> str:
    """YYYY-MM-DD or an ISO time -> Freshdesk's UTC `updated_since` form."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            "write a date (2024-01-31) or a time (2024-01-31T08:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@freshdesk_app.command("backfill")
def backfill_command(
    ctx: typer.Context,
    domain: Annotated[
        str,
        typer.Option(
            help="The Freshdesk account: 'acme' for acme.freshdesk.com, a custom domain's "
            "host name, or a full https:// URL."
        ),
    ],
    api_key_env: Annotated[
        str | None,
        typer.Option(
            "--api-key-env",
            metavar="VAR",
            help="Name of the environment variable holding the API key (Profile settings → "
            "Your API Key). Without it the key is asked for, hidden.",
        ),
    ] = None,
    updated_since: Annotated[
        str,
        typer.Option(
            callback=_since,
            help="Tickets updated (and ratings given) since this date or time; Freshdesk "
            "lists only the last 30 days without it, so the default reaches back far.",
        ),
    ] = "2000-01-01T00:00:00Z",
    ai_agent: AiAgents = None,
    custom_survey: CustomSurveys = None,
    max_wait: Annotated[
        float,
        typer.Option(min=0, help="Longest wait, in seconds, when Freshdesk answers 429."),
    ] = 60.0,
) -> None:
    """Read every ticket (with conversations and time entries), rating and agent through
    the API and store them as events."""
    from deskpulse.connectors.freshdesk_backfill import BackfillError, FreshdeskClient, backfill

    cli = Cli.of(ctx)
    if api_key_env is not None:
        key = os.environ.get(api_key_env, "").strip()
        if not key:
            raise cli.fail(f"--api-key-env: the environment variable {api_key_env} is not set")
    else:
        key = str(typer.prompt("Freshdesk API key", hide_input=True, err=True)).strip()
        if not key:
            raise cli.fail("no API key given")
    try:
        client = FreshdeskClient(domain, key, max_wait=max_wait)
    except ValueError as error:
        raise cli.fail(str(error)) from error
    with (
        cli.store() as store,
        Progress(
            TextColumn("[bold]Freshdesk tickets"),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=cli.errors,
        ) as progress,
    ):
        task = progress.add_task("backfill", total=None)
        try:
            result = backfill(
                store,
                client,
                updated_since=updated_since,
                options=_options(ai_agent, custom_survey),
                on_ticket=lambda done: progress.update(task, completed=done),
            )
        except BackfillError as error:
            raise cli.fail(str(error)) from error
    table = Table(title="Freshdesk backfill", show_header=False)
    table.add_row("tickets", f"{result.tickets:,}")
    table.add_row("conversations", f"{result.conversations:,}")
    table.add_row("time entries", f"{result.time_entries:,}")
    table.add_row("satisfaction ratings", f"{result.ratings:,}")
    table.add_row("agents", f"{result.agents:,}")
    table.add_row("API requests", f"{result.requests:,}")
    if result.waited_seconds:
        table.add_row("waited on rate limits", f"{result.waited_seconds:,.0f} s")
    _outcome_rows(
        table,
        events=None,
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=len(result.rejected),
        skipped=result.skipped,
    )
    cli.console.print(table)
    _print_rejected(cli, result.rejected)


def _outcome_rows(
    table: Table,
    *,
    events: int | None,
    accepted: int,
    duplicates: int,
    rejected: int,
    skipped: dict[str, int],
) -> None:
    if events is not None:
        table.add_row("events made", f"{events:,}")
    table.add_row("stored", f"{accepted:,}")
    table.add_row("already there", f"{duplicates:,}")
    table.add_row("rejected", f"{rejected:,}")
    for reason, count in sorted(skipped.items()):
        table.add_row(f"skipped: {reason}", f"{count:,}")


def _print_rejected(cli: Cli, rejected: list[Rejected]) -> None:
    if not rejected:
        return
    shown = Table(title="rejected records (first 20)")
    for column in ("file", "kind", "id", "field", "reason"):
        shown.add_column(column)
    for r in rejected[:20]:
        shown.add_row(Path(r.file).name, r.kind, r.record_id or "-", r.field or "-", r.reason)
    cli.console.print(shown)
    cli.console.print("every rejected record, with its reason: [bold]deskpulse rejected[/]")
