"""Time helpers: volume seasonality, staffing by hour, business hours, timestamp text.

All simulated times are integer epoch seconds (UTC). Integers keep the hot path cheap
and make "strictly before `end`" an exact comparison.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from datetime import UTC, date, datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

DAY = 86_400
HOUR = 3_600

# Arrivals by UTC hour of day: a European morning and a US afternoon overlap, so the
# busiest stretch is 09:00-17:00 UTC and the night is quiet but never empty.
HOURLY_VOLUME: tuple[float, ...] = (
    0.16, 0.11, 0.08, 0.08, 0.10, 0.18, 0.34, 0.58, 0.86, 1.00, 1.02, 0.96,
    0.86, 0.92, 1.00, 1.02, 0.96, 0.86, 0.72, 0.62, 0.52, 0.42, 0.32, 0.22,
)  # fmt: skip
WEEKDAY_VOLUME: tuple[float, ...] = (1.15, 1.08, 1.04, 1.00, 0.92, 0.50, 0.45)  # Mon..Sun
TREND = 0.25  # volume grows by this fraction from the first to the last day

# How much slower humans answer, by UTC hour, because fewer people are on shift.
HOURLY_STAFFING: tuple[float, ...] = (
    2.6, 2.8, 2.8, 2.8, 2.6, 2.2, 1.6, 1.2, 1.0, 1.0, 1.0, 1.0,
    1.1, 1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.5, 1.7, 1.9, 2.2, 2.4,
)  # fmt: skip
WEEKEND_STAFFING = 1.35


def weekday(t: int) -> int:
    """Monday = 0. The epoch (1970-01-01) was a Thursday."""
    return (t // DAY + 3) % 7


def staffing_table() -> list[float]:
    """Reply-delay multiplier per UTC hour of the week (index weekday * 24 + hour)."""
    return [
        HOURLY_STAFFING[h] * (WEEKEND_STAFFING if d >= 5 else 1.0)
        for d in range(7)
        for h in range(24)
    ]


def hour_of_week(t: int) -> int:
    return ((t // DAY + 3) % 7) * 24 + (t // HOUR) % 24


def creation_times(
    rng: Random,
    n: int,
    start: int,
    end: int,
    bursts: list[tuple[int, int, float]],
    trend: float = TREND,
) -> list[int]:
    """`n` sorted arrival times in [start, end) following the seasonality above.

    `bursts` are (from, to, multiplier) windows of extra volume (an incident).
    """
    if n == 0:
        return []
    span = end - start
    bins: list[tuple[int, int]] = []
    cum: list[float] = []
    total = 0.0
    t = start
    while t < end:
        stop = min(end, (t // HOUR + 1) * HOUR)
        weight = HOURLY_VOLUME[(t // HOUR) % 24] * WEEKDAY_VOLUME[weekday(t)]
        weight *= 1.0 + trend * (t - start) / span
        for b_from, b_to, factor in bursts:
            if b_from <= t < b_to:
                weight *= factor
        total += weight * (stop - t) / HOUR
        bins.append((t, stop))
        cum.append(total)
        t = stop
    draws = sorted(rng.random() * total for _ in range(n))
    times: list[int] = []
    index = 0
    previous = 0.0
    for u in draws:
        while cum[index] <= u and index < len(cum) - 1:
            previous = cum[index]
            index += 1
        b_from, b_to = bins[index]
        width = cum[index] - previous
        offset = (u - previous) / width if width > 0 else 0.0
        times.append(min(b_to - 1, b_from + int(offset * (b_to - b_from))))
    return times


def easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def german_holidays(first: date, last: date) -> list[date]:
    """Nationwide German public holidays between first and last (inclusive)."""
    found: list[date] = []
    for year in range(first.year, last.year + 1):
        e = easter(year)
        candidates = [
            date(year, 1, 1),
            e - timedelta(days=2),
            e + timedelta(days=1),
            date(year, 5, 1),
            e + timedelta(days=39),
            e + timedelta(days=50),
            date(year, 10, 3),
            date(year, 12, 25),
            date(year, 12, 26),
        ]
        found.extend(d for d in candidates if first <= d <= last)
    return sorted(found)


def pick_holidays(start: int, end: int) -> list[date]:
    """Two holidays for the business-hours inbox, inside the window when possible.

    Real German holidays on weekdays (so they actually close the inbox) when the window
    holds two; otherwise company days at fixed points of a window of four weeks or more,
    so the data always exercises holiday handling; a shorter window gets the next real
    holidays after it, which leave its data alone.
    """
    first = datetime.fromtimestamp(start, UTC).date()
    last = datetime.fromtimestamp(end - 1, UTC).date()
    chosen = [d for d in german_holidays(first, last) if d.weekday() < 5][-2:]
    length = (last - first).days
    if length >= 28:
        for fraction in (0.35, 0.65):
            if len(chosen) == 2:
                break
            candidate = first + timedelta(days=int(length * fraction))
            while candidate.weekday() >= 5:
                candidate += timedelta(days=1)
            if candidate not in chosen:
                chosen.append(candidate)
    if len(chosen) < 2:
        after = german_holidays(last + timedelta(days=1), last + timedelta(days=400))
        chosen.extend(after[: 2 - len(chosen)])
    return sorted(chosen)


class BusinessHours:
    """Open intervals of one inbox as epoch seconds, for pushing replies into them."""

    def __init__(
        self,
        timezone: str,
        shifts: tuple[tuple[str, str], ...],
        holidays: list[date],
        start: int,
        end: int,
    ) -> None:
        zone = ZoneInfo(timezone)
        self.starts: list[int] = []
        self.ends: list[int] = []
        # Replies can be scheduled past `end` (they are dropped later); cover a margin.
        day = datetime.fromtimestamp(start - DAY, UTC).date()
        last = datetime.fromtimestamp(end + 40 * DAY, UTC).date()
        closed = set(holidays)
        while day <= last:
            if day.weekday() < 5 and day not in closed:
                for open_at, close_at in shifts:
                    oh, om = (int(x) for x in open_at.split(":"))
                    ch, cm = (int(x) for x in close_at.split(":"))
                    o = datetime(day.year, day.month, day.day, oh, om, tzinfo=zone)
                    c = datetime(day.year, day.month, day.day, ch, cm, tzinfo=zone)
                    self.starts.append(int(o.timestamp()))
                    self.ends.append(int(c.timestamp()))
            day += timedelta(days=1)
        self._far = end + 400 * DAY

    def add(self, t: int, seconds: float) -> int:
        """The moment `seconds` of open time have passed after t."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            i, t = 0, self.starts[0]
        elif t >= self.ends[i]:
            i += 1
            if i >= len(self.starts):
                return self._far
            t = self.starts[i]
        remaining = seconds
        while True:
            room = self.ends[i] - t
            if remaining <= room:
                return t + math.ceil(remaining)
            remaining -= room
            i += 1
            if i >= len(self.starts):
                return self._far
            t = self.starts[i]


_HMS: list[str] = []


def _hms() -> list[str]:
    if not _HMS:
        _HMS.extend(
            f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)
        )
    return _HMS


class TimestampFormatter:
    """RFC 3339 text for epoch seconds, from per-day prefixes and a seconds-of-day table.

    About 5x cheaper than datetime.isoformat, which matters at ten million events.
    """

    def __init__(self, start: int, end: int) -> None:
        self.first_day = start // DAY
        days = end // DAY - self.first_day + 1
        origin = datetime(1970, 1, 1)
        self.prefixes = [
            (origin + timedelta(days=self.first_day + k)).strftime("%Y-%m-%dT") for k in range(days)
        ]
        self.hms = _hms()

    def __call__(self, t: int) -> str:
        day, second = divmod(t, DAY)
        return self.prefixes[day - self.first_day] + self.hms[second]
