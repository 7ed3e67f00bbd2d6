"""One reading of a period, for every surface (the metric contract in DESIGN.md).

The CLI (`--period --as-of --from --to`), the JSON API and the pages
(`period as_of from to`), alerts, experiments and coaching all turn what a person typed
into a `Window` here, so the same words always mean the same instants:

- `period` is 7d, 14d, 30d, 90d (the last N days up to `as_of`, days cut at midnight in
  the reporting time zone) or custom (`from` .. `to`); 30d when not given;
- a plain date for `as_of` or `to` means through the end of that day in the reporting
  time zone, and for `from` the start of that day;
- a timestamp (with its offset, e.g. 2026-03-08T18:00:00+01:00 or …Z) means exactly
  that instant;
- no `as_of` means now (deskpulse.clock);
- every date lies in the supported range (metrics/periods.py) and a custom period runs
  forward and spans at most 400 days.

Anything else is a PeriodInputError naming the parameter: `period`, `as_of`, `from` or
`to`. Each surface names it its own way (the CLI says --as-of).

Worked example, reporting time zone Europe/Berlin: `period=30d as_of=2026-03-08` is
2026-02-07 00:00 to 2026-03-09 00:00 Berlin time; `period=custom from=2017-10-01
to=2017-10-31` is 2017-10-01 00:00 to 2017-11-01 00:00, all 31 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from deskpulse import clock
from deskpulse.metrics.periods import (
    EARLIEST_DAY,
    PeriodInputError,
    check_custom,
    check_supported,
)

PeriodName = Literal["7d", "14d", "30d", "90d", "custom"]
PERIOD_NAMES: tuple[PeriodName, ...] = ("7d", "14d", "30d", "90d", "custom")
DEFAULT_PERIOD: PeriodName = "30d"

_TIMESTAMP_HINT = (
    "use a date (2026-03-31) or a timestamp with an offset (2026-03-31T18:00:00+00:00)"
)


@dataclass(frozen=True)
class Window:
    """A named period ending at `as_of` (default: now), or a custom `start`..`end`."""

    period: PeriodName = DEFAULT_PERIOD
    start: datetime | None = None
    end: datetime | None = None
    as_of: datetime | None = None

    def query_fields(self) -> dict[str, Any]:
        """The keyword arguments `Query(...)` takes for this window."""
        fields: dict[str, Any] = {"period": self.period, "as_of": self.as_of}
        if self.period == "custom":
            fields.update({"from": self.start, "to": self.end})
        return fields


def read_moment(
    text: str | None,
    field: str,
    tz: ZoneInfo,
    *,
    day_end: bool,
    now: datetime | None = None,
    earliest: date = EARLIEST_DAY,
) -> datetime | None:
    """A date (its start, or with `day_end` its end, in `tz`) or a timestamp with its
    offset, inside the supported range; None for nothing given."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    day: date | None = None
    parsed: datetime | None = None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
        else:
            parsed = datetime.fromisoformat(value)
    except ValueError:
        pass
    moment = clock.now() if now is None else now
    if day is not None:
        start = datetime.combine(day, time(0), tzinfo=tz)
        check_supported(start, field, tz, moment, day=True, earliest=earliest)
        return start + timedelta(days=1) if day_end else start
    if parsed is None:
        raise PeriodInputError(field, f"{value!r} is not a date or a time: {_TIMESTAMP_HINT}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise PeriodInputError(field, f"{value!r} has no offset: {_TIMESTAMP_HINT}")
    return check_supported(parsed, field, tz, moment, earliest=earliest)


def read_window(
    *,
    period: str | None,
    as_of: str | None = None,
    start: str | None = None,
    end: str | None = None,
    tz: ZoneInfo,
    now: datetime | None = None,
    earliest: date = EARLIEST_DAY,
) -> Window:
    """The window named by `period`, `as_of`, `from` (`start`) and `to` (`end`)."""
    name = (period or DEFAULT_PERIOD).strip()
    if name not in PERIOD_NAMES:
        raise PeriodInputError("period", f"choose one of {', '.join(PERIOD_NAMES)} (not {name!r})")
    chosen: PeriodName = name
    ends_at = read_moment(as_of, "as_of", tz, day_end=True, now=now, earliest=earliest)
    if chosen != "custom":
        return Window(period=chosen, as_of=ends_at)
    first = read_moment(start, "from", tz, day_end=False, now=now, earliest=earliest)
    last = read_moment(end, "to", tz, day_end=True, now=now, earliest=earliest)
    if first is None or last is None:
        raise PeriodInputError(
            "from" if first is None else "to", "a custom period needs both from and to"
        )
    check_custom(first, last)
    return Window(period="custom", start=first, end=last)
