"""`deskpulse digest send|ledger`: the weekly digests, from cron or by hand.

`send` runs what the server's job runs every 15 minutes (web/jobs.py): each digest whose
day and hour have come this week and that the ledger does not list as sent. `--dry-run`
says who is due without sending or writing the ledger; `--preview EMAIL` prints one
person's digest of this week as it would go out (plain text, or `--html`). `ledger`
prints what was sent when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from deskpulse import clock
from deskpulse.cli.context import Cli
from deskpulse.cli.options import read_time

digest_app = typer.Typer(
    help="The weekly digest: send the due ones (for cron), preview one, read the ledger.",
    no_args_is_help=True,
)


def _moment(cli: Cli, as_of: str | None) -> datetime:
    found = read_time(cli.settings, as_of, "--as-of") if as_of else None
    return found or clock.now()


@digest_app.command("send")
def send_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say who is due this week; send nothing.")
    ] = False,
    preview: Annotated[
        str | None,
        typer.Option("--preview", help="Print this person's digest (e-mail or username)."),
    ] = None,
    html: Annotated[bool, typer.Option("--html", help="With --preview: the HTML part.")] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Act as at this moment (a timestamp with its offset)."),
    ] = None,
) -> None:
    """Send every weekly digest that is due, once per person and week."""
    cli = Cli.of(ctx)
    cli.django()
    from django.contrib.auth.models import User
    from django.db.models import Q

    from deskpulse.notify.digest import digest_week, render_html, render_text
    from deskpulse.web.digest.service import build_digest, due_preferences, send_due

    if dry_run and preview:
        raise cli.fail("give --dry-run or --preview, not both")
    if html and not preview:
        raise cli.fail("--html goes with --preview EMAIL")
    now = _moment(cli, as_of)
    week = digest_week(now, cli.settings.tz).key
    if dry_run:
        due = due_preferences(now)
        if not due:
            cli.console.print(f"No digest is due for {week}.", highlight=False)
        for preference in due:
            who = preference.user.email or preference.user.username
            cli.console.print(f"due for {week}: {who}", highlight=False, soft_wrap=True)
        return
    with cli.store() as store:
        if preview:
            user = User.objects.filter(Q(email__iexact=preview) | Q(username=preview)).first()
            if user is None:
                raise cli.fail(f"--preview: nobody has the e-mail or username {preview!r}")
            try:
                digest = build_digest(store, user, now)
            except PermissionError as error:
                raise cli.fail(f"--preview: {error}") from error
            typer.echo(render_html(digest) if html else render_text(digest), nl=False)
            return
        summary = send_due(store, now)
    cli.console.print(f"{week}: {summary.describe()}", highlight=False, soft_wrap=True)
    if summary.failed:
        raise typer.Exit(1)


@digest_app.command("ledger")
def ledger_command(ctx: typer.Context) -> None:
    """Every digest sent (or tried): person, ISO week, status, when, per channel."""
    cli = Cli.of(ctx)
    cli.django()
    from deskpulse.web.digest.service import ledger_rows

    rows = ledger_rows(None)
    if not rows:
        cli.console.print("No digest sent yet.")
        return
    table = Table(title="Weekly digests sent")
    for column in ("person", "week", "status", "sent (UTC)", "e-mail", "webhook", "attempts"):
        table.add_column(column)
    for row in rows:
        sent = "-" if row["sent_at"] is None else str(row["sent_at"])[:19]
        table.add_row(
            str(row["person"]),
            str(row["week"]),
            str(row["status_text"]),
            sent,
            str(row["email"] or "-"),
            str(row["webhook"] or "-"),
            str(row["attempts"]),
        )
    cli.console.print(table)
