"""`deskpulse user …` and `deskpulse token …`: the people who sign in, and API tokens.

Both live in the app database: each command sets Django up for the data folder first
and goes through the accounts feature's services (web/accounts), the same ones the
settings pages use.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from deskpulse.cli.context import Cli

if TYPE_CHECKING:
    from deskpulse.settings import Settings
    from deskpulse.web.accounts.people import PersonError

token_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
user_app = typer.Typer(
    help="Add people, link them to agent ids, reset passwords.", no_args_is_help=True
)


# -- tokens ---------------------------------------------------------------------------------


class Scope(StrEnum):
    ingest = "ingest"
    read = "read"
    write = "write"


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'zendesk sync'.")],
    scope: Annotated[
        list[Scope], typer.Option("--scope", help="ingest, read and/or write (repeatable).")
    ] = [Scope.ingest],  # noqa: B006 - typer reads the default, it is never mutated
    user: Annotated[
        str | None, typer.Option(help="Owner's e-mail (default: service user).")
    ] = None,
) -> None:
    """Create a token; its secret is shown once."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.accounts.tokens import create_token

    try:
        token, secret = create_token(name=name, scopes=[s.value for s in scope], user_email=user)
    except ValueError as error:
        raise cli.fail(str(error)) from error
    cli.console.print(
        f"token [bold]{token.prefix}[/] created with scopes {', '.join(token.scopes)}"
    )
    cli.console.print("its secret, shown only now:")
    sys.stdout.write(secret + "\n")


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """List tokens (never their secrets)."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.accounts.tokens import list_tokens

    table = Table(title="API tokens")
    for column in ("prefix", "name", "scopes", "user", "created", "last used", "revoked"):
        table.add_column(column)
    for token in list_tokens():
        table.add_row(
            token.prefix,
            token.name,
            ", ".join(token.scopes),
            token.user.email or token.user.username,
            str(token.created_at)[:19],
            str(token.last_used_at or "-")[:19],
            str(token.revoked_at or "-")[:19],
        )
    cli.console.print(table)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    token: Annotated[str, typer.Argument(help="The token's prefix or id.")],
) -> None:
    """Revoke a token; requests with it get 401 from now on."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.accounts.tokens import revoke_token

    try:
        revoked = revoke_token(token)
    except (LookupError, ValueError) as error:
        raise cli.fail(str(error)) from error
    cli.console.print(f"token {revoked.prefix} revoked")


# -- people ---------------------------------------------------------------------------------

# PersonError.field -> the option a CLI user typed, so errors name what to fix.
_PERSON_OPTIONS = {
    "email": "--email",
    "name": "--name",
    "role": "--role",
    "agent_id": "--agent-id",
    "password": "--password",
}


def _person_failure(cli: Cli, error: PersonError) -> typer.Exit:
    option = _PERSON_OPTIONS.get(error.field)
    return cli.fail(f"{option}: {error.message}" if option else str(error.message))


def agent_directory(settings: Settings) -> dict[str, dict[str, Any]] | None:
    """The agents the events know, or None when the store cannot be opened (a running
    server holds the DuckDB file); the check it feeds is only a warning."""
    from deskpulse.events.store import open_store
    from deskpulse.metrics.report import agent_directory as directory

    try:
        store = open_store(settings)
    except Exception:
        return None
    try:
        return directory(store)
    except Exception:
        return None
    finally:
        store.close()


def _print_password(cli: Cli, email: str, password: str) -> None:
    cli.console.print(f"password for [bold]{email}[/], shown only now:", highlight=False)
    # Plain write: the line is for copying, and rich would wrap or colour it.
    sys.stdout.write(password + "\n")


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Their email; they sign in with it.")],
    role: Annotated[str, typer.Option(help="owner, admin or agent.")],
    agent_id: Annotated[
        str | None,
        typer.Option("--agent-id", help="The agent_id their events carry (required for agents)."),
    ] = None,
    name: Annotated[str, typer.Option(help="Their name, for lists.")] = "",
    password: Annotated[
        str | None, typer.Option(help="Their password (default: generate one, shown once).")
    ] = None,
) -> None:
    """Add a person with a role; an agent is linked to their agent id from the events."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.accounts.models import Profile
    from deskpulse.web.accounts.people import PersonError, add_user

    try:
        user, generated = add_user(
            email=email, role=role, agent_id=agent_id, name=name, password=password
        )
    except PersonError as error:
        raise _person_failure(cli, error) from error
    # The role and agent id as stored (normalised). Asked of the model rather than through
    # the user's reverse accessor, which django-stubs types only with its mypy plugin.
    profile = Profile.objects.get(user=user)
    cli.console.print(f"added [bold]{user.email}[/] as {profile.role}", highlight=False)
    linked = profile.agent_id
    if linked:
        known = agent_directory(cli.settings)
        if known is not None and linked not in known:
            cli.errors.print(
                f"[yellow]warning:[/] no agent {linked!r} in the events yet; their numbers "
                "appear once the helpdesk sends an agent.upserted with that id",
                highlight=False,
            )
    if generated is not None:
        _print_password(cli, user.email, generated)


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """List people with their role, agent id and last sign-in."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.accounts.people import list_people

    table = Table(title="people")
    for column in ("email", "name", "role", "agent id", "active", "last sign-in"):
        table.add_column(column)
    for person in list_people():
        table.add_row(
            person.email,
            person.name or "-",
            person.role or "no role",
            person.agent_id or "-",
            "yes" if person.is_active else "no",
            str(person.last_login or "never")[:16],
        )
    cli.console.print(table)


@user_app.command("password")
def user_password(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Whose password to set.")],
    password: Annotated[
        str | None, typer.Option(help="The new password (default: generate one, shown once).")
    ] = None,
) -> None:
    """Set a new password for someone (for a forgotten one, too)."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.accounts.people import PersonError, find_person, set_password

    try:
        user = find_person(email)
        generated = set_password(user, password)
    except PersonError as error:
        raise _person_failure(cli, error) from error
    cli.console.print(f"new password set for [bold]{user.email}[/]", highlight=False)
    if generated is not None:
        _print_password(cli, user.email, generated)


@user_app.command("remove")
def user_remove(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Who to deactivate.")],
) -> None:
    """Deactivate someone: no sign-in, no API; their history stays."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.accounts.people import PersonError, deactivate

    try:
        user = deactivate(email)
    except PersonError as error:
        raise _person_failure(cli, error) from error
    cli.console.print(
        f"{user.email} is deactivated; their API tokens stop working too", highlight=False
    )


@user_app.command("unlock")
def user_unlock(
    ctx: typer.Context,
    email: Annotated[
        str | None, typer.Option(help="Whose account to unlock, from every address.")
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="An IP address to unlock for every account (the lockout page shows it)."),
    ] = None,
) -> None:
    """Lift a sign-in lockout: forget the failed sign-ins of an account or an address."""
    cli = Cli.of(ctx)
    if not email and not address:
        raise cli.fail("give --email (an account) or --address (an IP address), or both")
    cli.django()
    from deskpulse.web.accounts.people import PersonError, find_person
    from deskpulse.web.accounts.throttle import unlock_account, unlock_address

    if email:
        try:
            user = find_person(email)
        except PersonError as error:
            raise _person_failure(cli, error) from error
        unlock_account(user)
        cli.console.print(
            f"[bold]{user.email}[/] can sign in again: their failed sign-ins are forgotten",
            highlight=False,
        )
    if address:
        try:
            unlock_address(address)
        except ValueError as error:
            raise cli.fail(f"--address: {error}") from error
        cli.console.print(f"sign-in from {address.strip()} is open again", highlight=False)
