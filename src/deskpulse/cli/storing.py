"""The progress bar of a connector import: mapped events being stored, batch by batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from deskpulse.cli.context import Cli

# (set the total once the mapping knows it, advance by the events just stored)
Callbacks = tuple[Callable[[int], None], Callable[[int], None]]


@contextmanager
def storing_events(cli: Cli, helpdesk: str) -> Iterator[Callbacks]:
    """A bar on stderr (stdout stays for the summary); the total is unknown until the
    files are mapped, so it starts open-ended."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=cli.errors,
    ) as progress:
        task = progress.add_task(f"storing {helpdesk} events", total=None)
        yield (
            lambda total: progress.update(task, total=total),
            lambda stored: progress.advance(task, stored),
        )
