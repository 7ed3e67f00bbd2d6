"""`deskpulse connect chatwoot …`: webhook connectors and the REST API backfill."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from deskpulse.settings import Settings

chatwoot_app = typer.Typer(
    help="Chatwoot: receive its webhooks, or backfill history from its API.",
    no_args_is_help=True,
)

console = Console()
errors = Console(stderr=True)


def _settings(ctx: typer.Context) -> Settings:
    # The root command's callback loads the settings (--data / DESKPULSE_DATA).
    settings = ctx.find_root().obj
    if not isinstance(settings, Settings):
        from deskpulse.settings import load_settings

        settings = load_settings(None)
    return settings


def _fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(1)


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
    from deskpulse.web.bootstrap import setup_django

    setup_django(_settings(ctx))
    from deskpulse.web.connectors.service import create_connector

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

    labels: dict[str, str] = {}
    for item in label_map or []:
        label, sep, inquiry = item.partition("=")
        if not sep or not label or not inquiry:
            raise _fail(f"--label {item!r}: write LABEL=INQUIRY")
        labels[label] = inquiry
    client = ChatwootClient(url, token, account_id)
    store = open_store(_settings(ctx))
    try:
        result = backfill(
            store, client, options=ChatwootOptions(account_id=account_id, label_map=labels)
        )
    except BackfillError as error:
        raise _fail(str(error)) from error
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
