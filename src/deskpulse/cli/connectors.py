"""`deskpulse connect …`: one sub-command per helpdesk connector.

`connect chatwoot webhook` makes a webhook connector (the connectors feature's service
in the app database), `connect chatwoot set-secret` sets its webhook signing secret and
`connect list` lists them; `connect chatwoot backfill` reads an account through Chatwoot's
REST API; `connect zendesk import` maps saved Zendesk export pages. The mapping itself
is the core's (deskpulse.connectors); this module reads options and prints.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from deskpulse.cli.context import Cli
from deskpulse.cli.freshdesk import freshdesk_app
from deskpulse.cli.intercom import intercom_app
from deskpulse.cli.storing import storing_events

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


@connect_app.command("list")
def list_command(ctx: typer.Context) -> None:
    """Every webhook connector: kind, name, created, last seen, and whether it checks
    signatures."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.connectors.service import all_connectors

    found = all_connectors()
    if not found:
        cli.console.print("no connectors yet: deskpulse connect chatwoot webhook")
        return
    table = Table(title="Connectors")
    for column in ("id", "kind", "name", "created", "last seen", "signatures"):
        table.add_column(column)
    unsigned = 0
    for connector in found:
        state = connector.signing_state
        if state == "unsigned allowed":
            unsigned += 1
            state = "[yellow]unsigned allowed[/]"
        elif state != "signed":
            state = f"[red]{state}[/]"
        table.add_row(
            str(connector.pk),
            connector.kind,
            connector.name,
            _minute(connector.created_at),
            _minute(connector.last_seen_at) if connector.last_seen_at else "never",
            state,
        )
    cli.console.print(table)
    if unsigned:
        cli.console.print(
            f"[yellow]warning:[/] {unsigned} connector(s) accept unsigned webhooks: anyone "
            "who learns the URL can send events. Set the signing secret: "
            "deskpulse connect chatwoot set-secret NAME"
        )


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


SigningSecretEnv = Annotated[
    str | None,
    typer.Option(
        "--signing-secret-env",
        metavar="VAR",
        help="Read the webhook's signing secret (Chatwoot shows it on the webhook's page) "
        "from this environment variable. Never given as a plain value: it would end up in "
        "the shell history.",
    ),
]


def _secret_from_env(cli: Cli, variable: str) -> str:
    import os

    value = os.environ.get(variable, "")
    if not value.strip():
        raise cli.fail(f"--signing-secret-env {variable}: the variable is not set or empty")
    return value


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
    signing_secret_env: SigningSecretEnv = None,
    ask_signing_secret: Annotated[
        bool,
        typer.Option(
            "--ask-signing-secret", help="Ask for the webhook's signing secret (not echoed)."
        ),
    ] = False,
    allow_unsigned: Annotated[
        bool,
        typer.Option(
            "--allow-unsigned",
            help="Accept webhooks without a signature while no signing secret is set: only "
            "for Chatwoot before v4.11.2 (account webhooks), which cannot sign.",
        ),
    ] = False,
) -> None:
    """Create a webhook connector and print its URL path (the secret is shown only once)."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.connectors.service import (
        SigningSecretError,
        create_connector,
        find_connectors,
    )

    console = cli.console
    if find_connectors("chatwoot", name):
        raise cli.fail(
            f"--name {name!r}: a Chatwoot connector has that name already; choose another "
            "(deskpulse connect list shows them)"
        )
    signing_secret = _read_signing_secret(cli, signing_secret_env, ask=ask_signing_secret)
    try:
        connector, secret = create_connector(
            "chatwoot",
            name,
            account_id=account_id,
            signing_secret=signing_secret,
            allow_unsigned=allow_unsigned,
        )
    except SigningSecretError as error:
        raise cli.fail(str(error)) from error
    console.print(f"connector [bold]{connector.name}[/] created (id {connector.pk}).")
    console.print("In Chatwoot: Settings → Integrations → Webhooks → Add new webhook, URL:")
    console.print(
        f"  https://<your deskpulse host>/api/v1/connectors/chatwoot/{secret}", soft_wrap=True
    )
    console.print(
        "tick: conversation_created, conversation_status_changed, conversation_updated, "
        "message_created, message_updated. This URL is not shown again."
    )
    _print_signing_next_step(cli, connector.name, connector.signing_state)


def _read_signing_secret(cli: Cli, variable: str | None, *, ask: bool) -> str | None:
    if variable and ask:
        raise cli.fail("give --signing-secret-env or --ask-signing-secret, not both")
    if variable:
        return _secret_from_env(cli, variable)
    if ask:
        value: str = typer.prompt("Webhook signing secret", hide_input=True)
        return value
    return None


def _print_signing_next_step(cli: Cli, name: str, state: str) -> None:
    console = cli.console
    if state == "signed":
        console.print("signatures: [green]checked[/] (X-Chatwoot-Signature, 5-minute window).")
    elif state == "unsigned allowed":
        console.print(
            "signatures: [yellow]unsigned webhooks allowed[/]: anyone who learns the URL can "
            "send events. Once your Chatwoot signs (v4.11.2+), set the secret: "
            f"deskpulse connect chatwoot set-secret {name}"
        )
    else:
        console.print(
            "signatures: [red]no signing secret yet[/]: webhooks are refused (403) until you "
            "set it. Chatwoot shows the secret on the webhook's page once it is saved; then "
            f"run: deskpulse connect chatwoot set-secret {name}"
        )


@chatwoot_app.command("set-secret")
def set_secret_command(
    ctx: typer.Context,
    connector: Annotated[str, typer.Argument(help="The connector's name or id.")],
    signing_secret_env: SigningSecretEnv = None,
    allow_unsigned: Annotated[
        bool | None,
        typer.Option(
            "--allow-unsigned/--no-allow-unsigned",
            help="Accept webhooks without a signature while no signing secret is set (for "
            "Chatwoot before v4.11.2), or stop accepting them.",
        ),
    ] = None,
    remove: Annotated[
        bool,
        typer.Option("--remove", help="Remove the signing secret (signatures are not checked)."),
    ] = False,
) -> None:
    """Set or rotate a connector's webhook signing secret, and/or allow unsigned webhooks.

    Without --signing-secret-env, --allow-unsigned or --remove, asks for the secret (not
    echoed).
    """
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.connectors.service import SigningSecretError, find_connectors, set_signing

    found = find_connectors("chatwoot", connector)
    if not found:
        raise cli.fail(f"no Chatwoot connector named {connector!r} (deskpulse connect list)")
    if len(found) > 1:
        ids = ", ".join(str(c.pk) for c in found)
        raise cli.fail(
            f"{len(found)} Chatwoot connectors are named {connector!r}: give the id ({ids})"
        )
    if remove and signing_secret_env:
        raise cli.fail("give --signing-secret-env or --remove, not both")
    secret: str | None = None
    if signing_secret_env:
        secret = _secret_from_env(cli, signing_secret_env)
    elif not remove and allow_unsigned is None:
        secret = typer.prompt("Webhook signing secret", hide_input=True)
    try:
        updated = set_signing(
            found[0], signing_secret=secret, clear_secret=remove, allow_unsigned=allow_unsigned
        )
    except SigningSecretError as error:
        raise cli.fail(str(error)) from error
    changes = []
    if secret is not None:
        changes.append("signing secret set")
    if remove:
        changes.append("signing secret removed")
    if allow_unsigned is not None:
        changes.append("unsigned webhooks " + ("allowed" if allow_unsigned else "refused"))
    cli.console.print(f"connector [bold]{updated.name}[/] (id {updated.pk}): {', '.join(changes)}.")
    _print_signing_next_step(cli, updated.name, updated.signing_state)


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
    with cli.store() as store, storing_events(cli, "Zendesk") as (on_events, stored):
        summary = import_zendesk(
            store,
            paths,
            options,
            batch_size=batch_size,
            on_events=on_events,
            progress=stored,
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


connect_app.add_typer(freshdesk_app, name="freshdesk")
connect_app.add_typer(intercom_app, name="intercom")
