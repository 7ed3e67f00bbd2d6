"""`deskpulse connect …`: one sub-command per helpdesk connector."""

from __future__ import annotations

import typer

from deskpulse.connectors.chatwoot_cli import chatwoot_app
from deskpulse.connectors.zendesk_cli import zendesk_app

connect_app = typer.Typer(help="Connect helpdesks to deskpulse.", no_args_is_help=True)
connect_app.add_typer(chatwoot_app, name="chatwoot")
connect_app.add_typer(zendesk_app, name="zendesk")
