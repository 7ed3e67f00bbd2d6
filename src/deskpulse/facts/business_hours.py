"""Business time: how much of a span falls inside an inbox's opening hours.

Schedules come from `business_hours.set` events (the latest per inbox wins; `*` is the
default for inboxes without their own). A schedule is a time zone, weekly opening
intervals (several a day) and closed local dates.

Daylight saving. Intervals are wall-clock times in the schedule's zone; what they are
worth is the real time that elapses between their ends. Each end is the moment the
wall clock *first* shows that time on that day:

- a time skipped at spring-forward (02:30 in Berlin on 2022-03-27) is reached at the
  jump itself, so 00:00-06:00 that day is 5 real hours and 02:00-03:00 is 0;
- a time repeated at fall-back is its first occurrence, so 00:00-06:00 on 2022-10-30
  in Berlin is 7 real hours (the repeated hour is worked), and a shift ending at 02:30
  ends at the first 02:30.

That mapping is monotone in the wall time, so a day's intervals stay disjoint in real
time and a span's business time is simply its overlap with them. (Counting every
instant whose wall reading is inside an interval would differ only for intervals that
start or end inside the repeated hour, and would split such an interval in two.)

A holiday closes that local date's intervals, e.g. 22:00-24:00 on it, but not the next
day's 00:00-06:00. The contract's "24:00" end is `time(0)` here: the midnight that
ends the day.

Two computations share this mapping: `business_seconds`, the exact Python reference,
and `business_seconds_expr`, a portable Ibis expression over a table of concrete
intervals made by `business_intervals`. The expression reads the schedules from that
table rather than from SQL literals, so compiled SQL can be replayed as facts/build.py
does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from deskpulse.facts.durations import seconds_between

DEFAULT_INBOX = "*"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
MIDNIGHT = time(0)  # as an interval end: 24:00, the midnight ending the day

Shift = tuple[time, time]  # (start, end) wall-clock; end MIDNIGHT means 24:00

INTERVALS_SCHEMA = pa.schema(
    [
        ("inbox_id", pa.string()),
        ("start_utc", pa.timestamp("us")),
        ("end_utc", pa.timestamp("us")),
        # The UTC date of the row: intervals are cut at UTC midnight so a timestamp finds
        # its rows by an equality join instead of a range join over the whole history.
        ("utc_day", pa.date32()),
        # Open microseconds of this inbox from the table's first day up to start_utc.
        ("open_before_us", pa.int64()),
    ]
)


def _minutes(clock: time, *, end: bool) -> int:
    minutes = clock.hour * 60 + clock.minute
    return 24 * 60 if end and minutes == 0 else minutes


@dataclass(frozen=True)
class Schedule:
    """One inbox's opening hours. Build from events with `schedules_from_events`."""

    timezone: ZoneInfo
    # Seven tuples, Monday first, each sorted shifts that neither overlap nor touch
    # backwards; overnight opening is two shifts (22:00-24:00, then 00:00-06:00).
    week: tuple[tuple[Shift, ...], ...]
    holidays: frozenset[date] = frozenset()
    inbox_id: str = DEFAULT_INBOX

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("a schedule needs seven days of shifts, Monday first")
        for name, shifts in zip(WEEKDAYS, self.week, strict=True):
            previous_end = 0
            for start, end in shifts:
                if start.second or start.microsecond or end.second or end.microsecond:
                    raise ValueError(f"{name}: shifts are whole minutes")
                low, high = _minutes(start, end=False), _minutes(end, end=True)
                if high <= low:
                    raise ValueError(f"{name}: {start}-{end} must end after it starts")
                if low < previous_end:
                    raise ValueError(f"{name}: shifts must be sorted and must not overlap")
                previous_end = high

    @classmethod
    def build(
        cls,
        timezone: str | ZoneInfo,
        intervals: Iterable[tuple[str, str, str]],
        holidays: Iterable[date | str] = (),
        inbox_id: str = DEFAULT_INBOX,
    ) -> Schedule:
        """From contract-style ("mon", "09:00", "17:00") triples.

        Overlapping or touching intervals of a day are merged: the contract accepts
        them, and "open if any interval says so" is the only reading that does not
        count a minute twice.
        """
        per_day: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
        for day, start, end in intervals:
            low, high = _clock_minutes(start), _clock_minutes(end)
            if high <= low:
                raise ValueError(f"{day} {start}-{end}: end must be after start")
            per_day[WEEKDAYS.index(day)].append((low, high))
        week = tuple(tuple(_as_shift(*span) for span in _merged(spans)) for spans in per_day)
        zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        closed = frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in holidays)
        return cls(timezone=zone, week=week, holidays=closed, inbox_id=inbox_id)


def _clock_minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes)
    if not 0 <= value <= 24 * 60 or not 0 <= int(minutes) < 60:
        raise ValueError(f"{text!r} is not a HH:MM time")
    return value


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(spans):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _as_shift(low: int, high: int) -> Shift:
    end = MIDNIGHT if high == 24 * 60 else time(high // 60, high % 60)
    return time(low // 60, low % 60), end


# -- schedules from events ---------------------------------------------------------------


def schedules_from_events(events: Iterable[Mapping[str, Any]]) -> dict[str, Schedule]:
    """The schedule in force per inbox: its latest `business_hours.set` by
    (occurred_at, id). The key `*` holds the default (see `schedule_for`).

    Takes contract-shaped event dicts (timezone, intervals, holidays as fields) or rows
    of the events table (those fields as JSON text in `schedule`, occurred_at naive
    UTC); other event types are ignored.
    """
    latest: dict[str, tuple[tuple[datetime, str], Mapping[str, Any]]] = {}
    for event in events:
        if event.get("type") != "business_hours.set":
            continue
        inbox = str(event["inbox_id"])
        order = (_aware_utc(event["occurred_at"]), str(event["id"]))
        if inbox not in latest or order > latest[inbox][0]:
            latest[inbox] = (order, event)
    return {inbox: _schedule_of(inbox, event) for inbox, (_order, event) in latest.items()}


def schedule_for(schedules: Mapping[str, Schedule], inbox_id: str | None) -> Schedule | None:
    """The inbox's own schedule, else the `*` default, else None (calendar time)."""
    if inbox_id is not None and inbox_id in schedules:
        return schedules[inbox_id]
    return schedules.get(DEFAULT_INBOX)


def _aware_utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    # Stored events are naive UTC; contract events carry an offset.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _schedule_of(inbox: str, event: Mapping[str, Any]) -> Schedule:
    fields: Mapping[str, Any] = event
    if event.get("schedule") is not None:
        fields = json.loads(event["schedule"])
    return Schedule.build(
        fields["timezone"],
        [(i["day"], i["start"], i["end"]) for i in fields["intervals"]],
        fields.get("holidays") or (),
        inbox_id=inbox,
    )


# -- the reference computation -----------------------------------------------------------


def _first_reached(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC moment the wall clock first shows `clock` on local `day` (module doc)."""
    local = datetime.combine(day, clock, tzinfo=zone)  # fold=0: a repeated time's first pass
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return moment
    # Skipped: fold=0 read it with the offset before the jump (so after the jump) and
    # fold=1 with the offset after it (so before the jump); the jump is in between.
    before = int(local.replace(fold=1).astimezone(UTC).timestamp())
    after = int(moment.timestamp())
    offset_before = _offset(zone, before)
    while after - before > 1:  # zone transitions fall on whole seconds
        middle = (before + after) // 2
        if _offset(zone, middle) == offset_before:
            before = middle
        else:
            after = middle
    return datetime.fromtimestamp(after, UTC)


def _offset(zone: ZoneInfo, epoch: int) -> timedelta | None:
    return datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset()


@lru_cache(maxsize=16_384)
def day_intervals(schedule: Schedule, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The local day's open intervals as aware UTC datetimes (empty on a holiday)."""
    if day in schedule.holidays:
        return ()
    zone = schedule.timezone
    result = []
    for start, end in schedule.week[day.weekday()]:
        opens = _first_reached(day, start, zone)
        if end == MIDNIGHT:
            closes = _first_reached(day + timedelta(days=1), MIDNIGHT, zone)
        else:
            closes = _first_reached(day, end, zone)
        if closes > opens:  # a shift wholly inside a spring-forward gap is worth nothing
            result.append((opens, closes))
    return tuple(result)


def business_seconds(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Seconds of [start, end) inside the schedule's open intervals; 0 if end <= start.

    Exact: the overlap is summed as a timedelta (whole microseconds) and converted once,
    which is also how the Ibis expression rounds.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    # In UTC: Python compares and subtracts datetimes sharing a tzinfo by wall clock,
    # which is wrong across a DST transition (03:00 EDT would come after 02:48 EST).
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return 0.0
    zone = schedule.timezone
    # A day's intervals lie within that local day; a day's margin on each side covers
    # zones whose transitions move the clock across midnight.
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    total = timedelta()
    while day <= last:
        for opens, closes in day_intervals(schedule, day):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return total.total_seconds()


# -- the portable backend computation ----------------------------------------------------


def business_intervals(
    schedules: Schedule | Iterable[Schedule], first_day: date, last_day: date
) -> pa.Table:
    """The schedules' concrete open intervals over UTC dates first_day..last_day.

    Columns (INTERVALS_SCHEMA): inbox_id, start_utc, end_utc (naive UTC), utc_day, and
    open_before_us, the inbox's open microseconds from first_day up to start_utc.
    Intervals are cut at UTC midnight, and every (inbox, UTC day) also gets a
    zero-length row at 00:00 carrying the running total. So every scheduled inbox has
    rows (the expression learns which inboxes have a schedule from this table), and
    any moment of a covered day finds a row at or before it on the same day.

    Pass the UTC dates of the earliest and latest span ends to be measured; a span
    ending on an uncovered day gets a null business time, never a wrong one.
    """
    chosen: list[Schedule] = [schedules] if isinstance(schedules, Schedule) else list(schedules)
    if len({s.inbox_id for s in chosen}) != len(chosen):
        raise ValueError("one schedule per inbox")
    window_start = datetime.combine(first_day, MIDNIGHT, tzinfo=UTC)
    window_end = datetime.combine(last_day + timedelta(days=1), MIDNIGHT, tzinfo=UTC)
    columns: dict[str, list[Any]] = {name: [] for name in INTERVALS_SCHEMA.names}

    def row(inbox: str, opens: datetime, closes: datetime, before: timedelta) -> None:
        columns["inbox_id"].append(inbox)
        columns["start_utc"].append(opens.replace(tzinfo=None))
        columns["end_utc"].append(closes.replace(tzinfo=None))
        columns["utc_day"].append(opens.date())
        columns["open_before_us"].append(before // timedelta(microseconds=1))

    for schedule in sorted(chosen, key=lambda s: s.inbox_id):
        # Local days overlapping the UTC window, with a margin (offsets reach ±14 h).
        pieces: list[tuple[datetime, datetime]] = []
        day = first_day - timedelta(days=2)
        while day <= last_day + timedelta(days=2):
            for opens, closes in day_intervals(schedule, day):
                opens, closes = max(opens, window_start), min(closes, window_end)
                while opens < closes:  # cut at UTC midnights
                    midnight = datetime.combine(opens.date() + timedelta(days=1), MIDNIGHT, UTC)
                    pieces.append((opens, min(closes, midnight)))
                    opens = midnight
            day += timedelta(days=1)
        pieces.sort()
        open_before = timedelta()
        position = 0
        utc_day = first_day
        while utc_day <= last_day:
            midnight = datetime.combine(utc_day, MIDNIGHT, tzinfo=UTC)
            row(schedule.inbox_id, midnight, midnight, open_before)
            while position < len(pieces) and pieces[position][0].date() == utc_day:
                opens, closes = pieces[position]
                row(schedule.inbox_id, opens, closes, open_before)
                open_before += closes - opens
                position += 1
            utc_day += timedelta(days=1)
    return pa.Table.from_pydict(columns, schema=INTERVALS_SCHEMA)


def business_seconds_expr(
    durations: ir.Table,
    intervals: ir.Table,
    *,
    start: str,
    end: str,
    inbox: str,
    name: str,
) -> ir.Table:
    """`durations` plus `<name>_business_seconds`: business seconds of [start, end).

    `start` and `end` name naive-UTC timestamp columns, `inbox` a string column;
    `intervals` is a `business_intervals` table on the same backend. An inbox uses its
    own schedule, else the `*` one; with neither, the value is the calendar seconds
    end - start (no schedule means calendar time), exactly as `seconds_between` gives
    it. Null when start or end is null; 0 when end <= start under a schedule.

    Rather than a range join of every span with every interval of its inbox (work
    that grows with the inbox's history), the business time is O(end) - O(start)
    where O(t) is the open time from the table's first day up to t. O(t) comes from
    an equality join on (inbox, UTC day of t) to that day's few rows:
    max over rows with start_utc <= t of open_before_us + (min(t, end_utc) - start_utc).
    All in whole microseconds, divided once, so DuckDB, PostgreSQL and the Python
    reference agree to the last bit.
    """
    column = f"{name}_business_seconds"
    scheduled = intervals.select(_scheduled=intervals.inbox_id).distinct()
    own = durations[inbox]
    schedule_key = ibis.cases(
        (own.isin(scheduled._scheduled), own),
        (ibis.literal(DEFAULT_INBOX).isin(scheduled._scheduled), ibis.literal(DEFAULT_INBOX)),
        else_=ibis.null("string"),
    )
    keyed = durations.mutate(_bh_key=schedule_key)

    points = (
        keyed.select(_p_key=keyed._bh_key, _p_at=keyed[start])
        .union(keyed.select(_p_key=keyed._bh_key, _p_at=keyed[end]))
        .filter(lambda t: t._p_key.notnull() & t._p_at.notnull())
        .distinct()
    )
    rows = points.join(
        intervals,
        (points._p_key == intervals.inbox_id)
        & (points._p_at.date() == intervals.utc_day)
        & (intervals.start_utc <= points._p_at),
    )
    reached = ibis.least(rows._p_at, rows.end_utc).delta(rows.start_utc, unit="microsecond")
    open_until = rows.group_by(["_p_key", "_p_at"]).aggregate(
        _open_us=(rows.open_before_us + reached).max()
    )
    at_start = open_until.rename(_s_key="_p_key", _s_at="_p_at", _s_open="_open_us")
    at_end = open_until.rename(_e_key="_p_key", _e_at="_p_at", _e_open="_open_us")

    joined = keyed.left_join(
        at_start, (keyed._bh_key == at_start._s_key) & (keyed[start] == at_start._s_at)
    ).left_join(at_end, (keyed._bh_key == at_end._e_key) & (keyed[end] == at_end._e_at))
    difference = joined._e_open - joined._s_open
    # Not GREATEST: both backends skip a null argument there, and an endpoint on a day
    # the table does not cover must stay null rather than become 0.
    business_us = (difference < 0).ifelse(0, difference)
    value = ibis.cases(
        (joined[start].isnull() | joined[end].isnull(), ibis.null("float64")),
        (joined._bh_key.isnull(), seconds_between(joined[start], joined[end])),
        else_=business_us.cast("float64") / 1_000_000,
    )
    result = joined.mutate(**{column: value})
    return result.select(*durations.columns, column)
