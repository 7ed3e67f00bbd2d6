"""`deskpulse connect intercom …`: import saved conversations, or backfill from the API.

The mapping is the core's (deskpulse.connectors.intercom); this module reads options,
shows progress and prints the summary.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from deskpulse.cli.context import Cli
from deskpulse.cli.storing import storing_events

intercom_app = typer.Typer(
    help="Intercom: import saved conversation JSON, or backfill from its REST API "
    "(Fin's replies count as AI replies, its handoffs as escalations).",
    no_args_is_help=True,
)

_TAG_HELP = "TAG=INQUIRY; repeat. Default: the conversation's first Intercom topic."


def _tag_map(cli: Cli, items: list[str] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items or []:
        tag, sep, inquiry = item.partition("=")
        if not sep or not tag or not inquiry:
            raise cli.fail(f"--tag {item!r}: write TAG=INQUIRY")
        found[tag] = inquiry
    return found


@intercom_app.command("import")
def import_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Conversation JSON (GET /conversations/{id} answers, list pages, or arrays "
            "of them) or folders of .json files."
        ),
    ],
    workspace: Annotated[
        str | None,
        typer.Option(help="A name for the workspace, when one install imports several."),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help=_TAG_HELP)] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Events stored per batch.")] = 5_000,
) -> None:
    """Map the conversations to events, store them, update the facts and print a summary."""
    from deskpulse.connectors.intercom import IntercomOptions, import_intercom

    cli = Cli.of(ctx)
    for path in paths:
        if not path.exists():
            raise cli.fail(f"no such file or folder: {path}")
    options = IntercomOptions(workspace=workspace, tag_map=_tag_map(cli, tag))
    with cli.store() as store, storing_events(cli, "Intercom") as (on_events, stored):
        summary = import_intercom(
            store,
            paths,
            options,
            batch_size=batch_size,
            on_events=on_events,
            progress=stored,
        )
    console = cli.console
    table = Table(title="Intercom import", show_header=False)
    table.add_row("files read", f"{summary.files_read:,}")
    table.add_row("conversations read", f"{summary.conversations_read:,}")
    table.add_row("  without parts (list pages)", f"{summary.conversations_without_parts:,}")
    table.add_row("events made", f"{summary.events_made:,}")
    table.add_row("stored", f"{summary.accepted:,}")
    table.add_row("already there", f"{summary.duplicates:,}")
    table.add_row("rejected", f"{len(summary.rejected):,}")
    table.add_row("conversations", f"{summary.conversations:,}")
    table.add_row("agents", f"{summary.agents:,}")
    console.print(table)
    if summary.rejected:
        rejected = Table(title="rejected records (first 20)")
        for column in ("file", "conversation", "field", "reason"):
            rejected.add_column(column)
        for r in summary.rejected[:20]:
            rejected.add_row(Path(r.file).name, r.record_id or "-", r.field or "-", r.reason)
        console.print(rejected)
        console.print("every rejected record, with its reason: [bold]deskpulse rejected[/]")


@intercom_app.command("backfill")
def backfill_command(
    ctx: typer.Context,
    token_env: Annotated[
        str,
        typer.Option(
            "--token-env",
            help="The environment variable holding the access token (Intercom Developer Hub "
            "→ your app → Authentication). Never pass the token itself: it would stay in "
            "your shell history. Unset: you are asked for it.",
        ),
    ] = "INTERCOM_TOKEN",
    url: Annotated[str, typer.Option(help="API host (EU: https://api.eu.intercom.io).")] = (
        "https://api.intercom.io"
    ),
    workspace: Annotated[
        str | None,
        typer.Option(help="A name for the workspace, when one install imports several."),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help=_TAG_HELP)] = None,
) -> None:
    """Read every conversation and its parts and store them as events."""
    from deskpulse.connectors.intercom import IntercomOptions
    from deskpulse.connectors.intercom_backfill import BackfillError, IntercomClient, backfill

    cli = Cli.of(ctx)
    console = cli.console
    options = IntercomOptions(workspace=workspace, tag_map=_tag_map(cli, tag))
    token = os.environ.get(token_env, "").strip()
    if not token:
        token = str(
            typer.prompt(f"Intercom access token (${token_env} is not set)", hide_input=True)
        )
        token = token.strip()
    if not token:
        raise cli.fail(f"no token: set ${token_env}")
    client = IntercomClient(token, url)
    with cli.store() as store:
        try:
            result = backfill(store, client, options=options)
        except BackfillError as error:
            raise cli.fail(f"{error} (what was read before it is stored)") from error
    console.print(
        f"{result.conversations:,} conversations, {result.parts:,} conversation parts: "
        f"{result.accepted:,} events stored, {result.duplicates:,} already there, "
        f"{result.rejected:,} rejected."
    )
    if result.waits:
        console.print(
            f"waited out Intercom's rate limit {result.waits:,} times "
            f"({result.waited_seconds:,.0f} s)."
        )
    for problem in result.problems[:20]:
        console.print(f"  conversation {problem.record_id}: {problem.field}: {problem.reason}")
    if result.problems or result.rejected:
        console.print("every rejected record, with its reason: [bold]deskpulse rejected[/]")
