"""The one context every command reaches: `Cli`, made once by the app's callback.

It holds the settings (`--data`, DESKPULSE_*), the consoles, and the ways in to what the
commands share: the event store (refused while a server holds the data folder), Django
for the commands that use the app database (set up once per process), the one-line
error and the progress displays. A command takes it from typer's context:

    cli = Cli.of(ctx)
    with cli.store() as store, cli.bar() as bar: ...

Heavy imports (the store, Django) happen when a command asks for them, so that
`deskpulse --help` and the commands that need neither start fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

if TYPE_CHECKING:
    from deskpulse.events.store import Store
    from deskpulse.settings import Settings

# Output on stdout (what a command answers), progress and errors on stderr, so that
# `--format json > file` and pipes get the answer alone.
console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """The CLI's one-line error, printed now; the caller raises what it returns:
    `raise fail("--as-of: …")`."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


class Cli:
    """What every command shares, for one run of `deskpulse`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.console = console
        self.errors = errors
        self._django_ready = False

    @classmethod
    def of(cls, ctx: typer.Context) -> Cli:
        """The context the app's callback made (sub-groups' contexts share it)."""
        found = ctx.find_root().obj
        if not isinstance(found, Cli):
            raise RuntimeError("deskpulse's callback did not run: use `deskpulse.cli.app`")
        return found

    def fail(self, message: str, code: int = 1) -> typer.Exit:
        return fail(message, code)

    # -- the event store -----------------------------------------------------------------

    @contextmanager
    def store(self) -> Iterator[Store]:
        """The event store, closed on the way out; refused while a server holds the folder
        (a DuckDB file has one writer: the server)."""
        from deskpulse.data_folder import running_server
        from deskpulse.events.store import open_store

        server = running_server(self.settings)
        if server is not None:
            raise fail(
                f"{server.describe()} holds {self.settings.data_dir}, so this command cannot "
                "open it: stop the server first (the read commands and import work through it)"
            )
        try:
            store = open_store(self.settings)
        except Exception as error:
            raise fail(f"cannot open the event store: {error}") from error
        try:
            yield store
        finally:
            store.close()

    def refuse_while_served(self, what_to_do: str) -> None:
        """One line saying why this command cannot run beside the server, and what to do."""
        from deskpulse.data_folder import running_server

        server = running_server(self.settings)
        if server is not None:
            raise fail(f"{server.describe()} holds {self.settings.data_dir}: {what_to_do}")

    # -- the app database ----------------------------------------------------------------

    def django(self) -> None:
        """Set Django up for this data folder (users, tokens, jobs, experiments, alert
        rules), once; the migrations are brought up to date on the way."""
        if self._django_ready:
            return
        from deskpulse.web.bootstrap import setup_django
        from deskpulse.web.frontdoor import FrontDoorSettingError

        try:
            setup_django(self.settings)
        except FrontDoorSettingError as error:  # a DESKPULSE_PUBLIC_URL or login limit typo
            raise fail(str(error)) from error
        self._django_ready = True

    def become_server(self) -> None:
        """From here on, the settings of a serving process (`serve`, `demo`): the server's
        DuckDB memory cap. Called before Django is set up, which keeps the settings."""
        if self._django_ready:
            raise RuntimeError("become_server() after django(): Django keeps the old settings")
        self.settings = self.settings.for_server()

    # -- progress (on stderr) ------------------------------------------------------------

    def bar(self, *, bytes_mode: bool = False) -> Progress:
        """A progress bar with counts (or bytes), elapsed and remaining time."""
        amount = DownloadColumn() if bytes_mode else MofNCompleteColumn()
        return Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            amount,
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.errors,
            transient=False,
        )

    def steps(self) -> Progress:
        """A spinner with the current step's name, for work of unknown size."""
        return Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TimeElapsedColumn(),
            console=self.errors,
        )
