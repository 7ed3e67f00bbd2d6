"""Command-line options several commands share, declared once so that they spell,
explain and default them the same way, and read with the core's one reading of a
period (metrics/window.py): `--period 30d --as-of 2026-03-01` means here what
`?period=30d&as_of=2026-03-01` means to the API and the pages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from deskpulse.cli.context import fail

if TYPE_CHECKING:
    from deskpulse.metrics.periods import PeriodInputError
    from deskpulse.metrics.window import Window
    from deskpulse.settings import Settings

# -- the period ---------------------------------------------------------------------------

PeriodOption = Annotated[
    str, typer.Option(help="7d, 14d, 30d, 90d, or custom (with --from and --to).")
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", help="End of the period (default: now).")
]
FromOption = Annotated[str | None, typer.Option("--from", help="Custom period start.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Custom period end (exclusive).")]

# What the core's one reading of a period calls a parameter, as the CLI names the option.
OPTION_OF_FIELD = {"period": "--period", "as_of": "--as-of", "from": "--from", "to": "--to"}


def _period_error(error: PeriodInputError) -> typer.Exit:
    message = error.message.replace("from and to", "--from and --to")
    return fail(f"{OPTION_OF_FIELD.get(error.field, error.field)}: {message}")


def read_period(
    settings: Settings, period: str, as_of: str | None, start: str | None, end: str | None
) -> Window:
    """The period options as a Window, read exactly as the API and the pages read them."""
    from deskpulse.metrics.periods import PeriodInputError
    from deskpulse.metrics.window import read_window

    try:
        return read_window(
            period=period,
            as_of=as_of,
            start=start,
            end=end,
            tz=settings.tz,
            earliest=settings.earliest_day,
        )
    except PeriodInputError as error:
        raise _period_error(error) from None


def read_time(settings: Settings, value: str | None, option: str) -> datetime | None:
    """`--as-of`: a date means through the end of that day (reporting time zone), a
    timestamp with its offset exactly that instant (metrics/window.py)."""
    from deskpulse.metrics.periods import PeriodInputError
    from deskpulse.metrics.window import read_moment

    field = next((f for f, o in OPTION_OF_FIELD.items() if o == option), option)
    try:
        return read_moment(value, field, settings.tz, day_end=True, earliest=settings.earliest_day)
    except PeriodInputError as error:
        raise _period_error(error) from None


def day_of(moment: str) -> str:
    """The reporting day of a moment the API gave with its offset (a period's bounds)."""
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d")


# -- output -------------------------------------------------------------------------------


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


class ReportFormat(StrEnum):
    """A report that also has a spreadsheet form."""

    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table or json.")]
