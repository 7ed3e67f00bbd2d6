"""Periods and buckets in the install's reporting time zone.

A "7d" period ending at `as_of` covers the day of `as_of` (up to `as_of`) and the six
whole days before it, with days cut at local midnight; an `as_of` exactly at midnight
gives the seven whole days before it. That way a period's tile and the sum of its daily
chart buckets always agree.

Dates people ask about (`as_of`, `from`, `to` on every surface) lie in one supported
range: from 2000-01-01 through one year after today, in the reporting time zone. Inside
it every computation is defined (a period's start, the previous period of a 400-day
custom range, day buckets, time-zone offsets) with years to spare; outside it Python's
dates would overflow long before the numbers meant anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from deskpulse.errors import DeskpulseError

PERIOD_DAYS = {"7d": 7, "14d": 14, "30d": 30, "90d": 90}

# The supported range of dates a period may be asked about (see the module docstring).
EARLIEST_DAY = date(2000, 1, 1)
DAYS_AHEAD = 365
# A custom period spans at most this many days (pages, API and CLI alike).
MAX_CUSTOM_DAYS = 400


class PeriodInputError(DeskpulseError, ValueError):
    """A date or period someone asked for that is outside what can be answered;
    `field` names the parameter (as_of, from, to)."""

    field: str  # always named

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


def supported_range(
    tz: ZoneInfo, now: datetime, earliest: date = EARLIEST_DAY
) -> tuple[datetime, datetime]:
    """The first and last instants a period may touch: `earliest` (2000-01-01 unless the
    install accepts older events, DESKPULSE_EARLIEST_EVENT) at 00:00, and the midnight
    that ends the day one year after today, both local to `tz`."""
    today = now.astimezone(tz).date()
    return local_midnight(earliest, tz), local_midnight(today + timedelta(days=DAYS_AHEAD + 1), tz)


def check_supported(
    moment: datetime,
    field: str,
    tz: ZoneInfo,
    now: datetime,
    *,
    day: bool = False,
    earliest: date = EARLIEST_DAY,
) -> datetime:
    """`moment` if it lies in the supported range, else PeriodInputError naming `field`.

    With `day`, `moment` is the start of a day someone named, which must itself be a
    supported day (its end may be the range's last instant, its start may not)."""
    first, last = supported_range(tz, now, earliest)
    if not first <= moment <= last or (day and moment == last):
        last_day = (last - timedelta(days=1)).date()
        raise PeriodInputError(
            field,
            f"dates from {earliest.isoformat()} to {last_day.isoformat()} are supported "
            "(one year after today at most)",
        )
    return moment


def check_custom(start: datetime, end: datetime) -> None:
    """A custom period runs forward and spans at most MAX_CUSTOM_DAYS days."""
    if start >= end:
        raise PeriodInputError("to", "the period must end after it starts")
    if end - start > timedelta(days=MAX_CUSTOM_DAYS):
        raise PeriodInputError("to", f"a custom period spans at most {MAX_CUSTOM_DAYS} days")


@dataclass(frozen=True)
class Period:
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        return Period(start=self.start - self.length, end=self.start)

    @property
    def start_utc(self) -> datetime:
        return naive_utc(self.start)

    @property
    def end_utc(self) -> datetime:
        return naive_utc(self.end)

    def as_json(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def named_period(name: str, as_of: datetime, tz: ZoneInfo) -> Period:
    days = PERIOD_DAYS[name]
    end = as_of.astimezone(tz)
    last_day = (end - timedelta(microseconds=1)).date()
    start = local_midnight(last_day - timedelta(days=days - 1), tz)
    return Period(start=start, end=end)


def custom_period(start: datetime, end: datetime, tz: ZoneInfo) -> Period:
    return Period(start=start.astimezone(tz), end=end.astimezone(tz))


def offset_changes(
    tz: ZoneInfo, start: datetime, end: datetime
) -> tuple[tuple[datetime, int], ...]:
    """(UTC instant, offset seconds in force from then on) across [start, end]."""
    # Whole days around the period, so the answer (and the compiled SQL that embeds
    # it) is shared by every query over the same days.
    return _offset_changes(tz, start.astimezone(UTC).date(), end.astimezone(UTC).date())


@lru_cache(maxsize=256)
def _offset_changes(
    tz: ZoneInfo, first_day: date, last_day: date
) -> tuple[tuple[datetime, int], ...]:
    cursor = datetime.combine(first_day, time(0), tzinfo=UTC) - timedelta(days=2)
    stop = datetime.combine(last_day, time(0), tzinfo=UTC) + timedelta(days=3)
    offset = _offset(tz, cursor)
    changes = [(cursor, offset)]
    step = timedelta(hours=1)
    while cursor < stop:
        following = cursor + step
        if _offset(tz, following) != offset:
            low, high = cursor, following
            while high - low > timedelta(minutes=1):  # transitions fall on whole minutes
                middle = low + (high - low) / 2
                if _offset(tz, middle) == offset:
                    low = middle
                else:
                    high = middle
            offset = _offset(tz, following)
            changes.append((high.replace(second=0, microsecond=0), offset))
        cursor = following
    if len(changes) == 1:
        # No transition: the instant is irrelevant, and dropping it lets compiled SQL
        # be reused across periods.
        return ((datetime(1970, 1, 1, tzinfo=UTC), offset),)
    return tuple(changes)


def _offset(tz: ZoneInfo, moment: datetime) -> int:
    delta = moment.astimezone(tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def to_local(
    column: ir.TimestampValue, changes: tuple[tuple[datetime, int], ...]
) -> ir.TimestampValue:
    """A naive-UTC timestamp column as naive local time.

    `changes` comes from `offset_changes` for the period at hand. Portable across
    backends: the offsets in force (daylight saving included) are worked out here and
    applied as a CASE over the transition instants.
    """
    if len(changes) == 1:
        offset = changes[0][1]
        return column if offset == 0 else column + ibis.interval(seconds=offset)
    cases = [
        (column < naive_utc(changes[i + 1][0]), column + ibis.interval(seconds=changes[i][1]))
        for i in range(len(changes) - 1)
    ]
    return ibis.cases(*cases, else_=column + ibis.interval(seconds=changes[-1][1]))
