"""Business time: the Python reference against hand-worked hours, and the Ibis
expression against the reference on every storage backend.

Expected values are hours worked out by hand; the DST rule they follow (an interval's
ends are the moments the wall clock first shows them) is in the module docstring of
deskpulse/facts/business_hours.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskpulse.events.store import Store
from deskpulse.facts.business_hours import (
    WEEKDAYS,
    Schedule,
    business_intervals,
    business_seconds,
    business_seconds_expr,
    schedule_for,
    schedules_from_events,
)
from tests.factories import Events, ingest

HOUR = 3600.0
WEEKDAYS_ONLY = ("mon", "tue", "wed", "thu", "fri")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

Span = tuple[str | None, datetime | None, datetime | None]  # (inbox, start, end), aware


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def nine_to_five(timezone: str = "UTC", inbox: str = "*", **kwargs: object) -> Schedule:
    return Schedule.build(
        timezone,
        [(day, "09:00", "17:00") for day in WEEKDAYS_ONLY],
        inbox_id=inbox,
        **kwargs,  # type: ignore[arg-type]
    )


def early_shift(timezone: str, inbox: str = "*") -> Schedule:
    """00:00-06:00 every day: spans the DST transition hour in Europe and the US."""
    return Schedule.build(timezone, [(day, "00:00", "06:00") for day in WEEKDAYS], inbox_id=inbox)


def naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def measure(
    store_or_con: Store | ibis.BaseBackend, schedules: Sequence[Schedule], spans: Sequence[Span]
) -> list[float | None]:
    """Business seconds of each span, computed by the backend."""
    con = store_or_con.con if isinstance(store_or_con, Store) else store_or_con
    moments = [m for _inbox, start, end in spans for m in (start, end) if m is not None]
    first = min(naive(m).date() for m in moments)  # type: ignore[union-attr]
    last = max(naive(m).date() for m in moments)  # type: ignore[union-attr]
    con.create_table("bh_intervals", business_intervals(schedules, first, last), overwrite=True)
    durations = pa.table(
        {
            "row": list(range(len(spans))),
            "inbox": [inbox for inbox, _start, _end in spans],
            "start_at": [naive(start) for _inbox, start, _end in spans],
            "end_at": [naive(end) for _inbox, _start, end in spans],
        },
        schema=pa.schema(
            [
                ("row", pa.int64()),
                ("inbox", pa.string()),
                ("start_at", pa.timestamp("us")),
                ("end_at", pa.timestamp("us")),
            ]
        ),
    )
    con.create_table("bh_durations", durations, overwrite=True)
    expression = business_seconds_expr(
        con.table("bh_durations"),
        con.table("bh_intervals"),
        start="start_at",
        end="end_at",
        inbox="inbox",
        name="span",
    )
    assert expression.columns == (*durations.column_names, "span_business_seconds")
    rows = expression.order_by("row").to_pyarrow().to_pylist()
    return [row["span_business_seconds"] for row in rows]


def reference(schedules: Sequence[Schedule], spans: Sequence[Span]) -> list[float | None]:
    by_inbox = {s.inbox_id: s for s in schedules}
    values: list[float | None] = []
    for inbox, start, end in spans:
        schedule = schedule_for(by_inbox, inbox)
        if start is None or end is None:
            values.append(None)
        elif schedule is None:
            values.append((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())
        else:
            values.append(business_seconds(schedule, start, end))
    return values


# -- the reference, by hand --------------------------------------------------------------


def test_a_week_of_nine_to_five_is_forty_hours() -> None:
    start, end = utc(2022, 3, 20, 0, 0), utc(2022, 3, 26, 23, 59)  # Sunday to Saturday
    assert business_seconds(nine_to_five(), start, end) == 40 * HOUR


def test_split_shift_skips_lunch() -> None:
    schedule = Schedule.build("UTC", [("mon", "09:00", "12:00"), ("mon", "13:00", "17:00")])
    monday = date(2022, 3, 21)
    at = lambda hh, mm=0: datetime.combine(monday, time(hh, mm), tzinfo=UTC)  # noqa: E731
    assert business_seconds(schedule, at(11), at(14)) == 2 * HOUR  # 11-12 and 13-14
    assert business_seconds(schedule, at(12, 15), at(12, 45)) == 0.0  # all lunch
    assert business_seconds(schedule, at(8), at(18)) == 7 * HOUR
    assert business_seconds(schedule, at(11, 30), at(13, 30)) == HOUR


def test_a_holiday_closes_the_day() -> None:
    start, end = utc(2022, 3, 20, 0, 0), utc(2022, 3, 26, 23, 59)
    schedule = nine_to_five(holidays=["2022-03-23"])  # the Wednesday
    assert business_seconds(schedule, start, end) == 32 * HOUR
    assert business_seconds(schedule, utc(2022, 3, 23, 8), utc(2022, 3, 23, 18)) == 0.0
    assert business_seconds(schedule, utc(2022, 3, 22, 16), utc(2022, 3, 24, 10)) == 2 * HOUR


def test_a_holiday_is_a_local_date() -> None:
    # Overnight opening in Berlin: Saturday 22:00-24:00 and Sunday 00:00-02:00. Closing
    # Saturday keeps Sunday's part, although both fall on Saturday in UTC.
    schedule = Schedule.build(
        "Europe/Berlin", [("sat", "22:00", "24:00"), ("sun", "00:00", "02:00")]
    )
    closed = Schedule.build(
        "Europe/Berlin",
        [("sat", "22:00", "24:00"), ("sun", "00:00", "02:00")],
        holidays=[date(2022, 1, 15)],
    )
    start, end = utc(2022, 1, 15, 12), utc(2022, 1, 16, 12)
    assert business_seconds(schedule, start, end) == 4 * HOUR
    assert business_seconds(closed, start, end) == 2 * HOUR


def test_the_schedule_follows_its_time_zone() -> None:
    # 09:00-17:00 in New York on a winter Monday is 14:00-22:00 UTC.
    schedule = nine_to_five("America/New_York")
    assert business_seconds(schedule, utc(2022, 1, 17, 0), utc(2022, 1, 17, 16)) == 2 * HOUR
    assert business_seconds(schedule, utc(2022, 1, 17, 21), utc(2022, 1, 18, 0)) == HOUR


def test_empty_and_reversed_spans_are_zero() -> None:
    assert business_seconds(nine_to_five(), utc(2022, 3, 21, 12), utc(2022, 3, 21, 12)) == 0.0
    assert business_seconds(nine_to_five(), utc(2022, 3, 21, 12), utc(2022, 3, 21, 10)) == 0.0


def test_spans_in_the_schedule_zone_count_real_time() -> None:
    # Python subtracts two datetimes of one zone by wall clock (two hours here); the
    # answer must not: 01:30 EST to 03:30 EDT on spring-forward day is one real hour.
    schedule = Schedule.build("America/New_York", [(d, "00:00", "06:00") for d in WEEKDAYS])
    day = date(2022, 3, 13)
    at = lambda hh, mm: datetime.combine(day, time(hh, mm), tzinfo=NEW_YORK)  # noqa: E731
    assert business_seconds(schedule, at(1, 30), at(3, 30)) == HOUR
    # 03:00 EDT is 07:00 UTC, 02:48 EST (a skipped time, read as 07:48 UTC) is later.
    assert business_seconds(schedule, at(3, 0), at(2, 48)) == 48 * 60


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        business_seconds(nine_to_five(), datetime(2022, 3, 21), utc(2022, 3, 22))


# (zone, transition day, real hours of 00:00-06:00 that day)
TRANSITIONS = [
    pytest.param(BERLIN, date(2022, 3, 27), 5, id="berlin-spring-forward"),
    pytest.param(BERLIN, date(2022, 10, 30), 7, id="berlin-fall-back"),
    pytest.param(NEW_YORK, date(2022, 3, 13), 5, id="new-york-spring-forward"),
    pytest.param(NEW_YORK, date(2022, 11, 6), 7, id="new-york-fall-back"),
]


def local_day(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, time(0), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
    )


@pytest.mark.parametrize(("zone", "day", "hours"), TRANSITIONS)
def test_dst_day_counts_real_time(zone: ZoneInfo, day: date, hours: int) -> None:
    start, end = local_day(zone, day)
    assert business_seconds(early_shift(zone.key), start, end) == hours * HOUR
    # The days around it are ordinary.
    for other in (day - timedelta(days=1), day + timedelta(days=1)):
        assert business_seconds(early_shift(zone.key), *local_day(zone, other)) == 6 * HOUR
    # A whole week around it: 6 normal days plus the transition day.
    week = (start - timedelta(days=3), end + timedelta(days=3))
    assert business_seconds(early_shift(zone.key), *week) == (36 + hours) * HOUR
    # Daytime hours are far from the transition and keep their eight hours (a Sunday:
    # the schedule is every day here).
    daytime = Schedule.build(zone.key, [(d, "09:00", "17:00") for d in WEEKDAYS])
    assert business_seconds(daytime, start, end) == 8 * HOUR


def test_skipped_and_repeated_wall_times() -> None:
    # Wholly inside the skipped hour: never on the clock, worth nothing.
    gap = Schedule.build("Europe/Berlin", [("sun", "02:00", "03:00")])
    assert business_seconds(gap, *local_day(BERLIN, date(2022, 3, 27))) == 0.0
    # Ending inside it: ends at the jump (02:00 CET = 03:00 CEST), so 01:00-02:00 real.
    into_gap = Schedule.build("Europe/Berlin", [("sun", "01:00", "02:30")])
    assert business_seconds(into_gap, *local_day(BERLIN, date(2022, 3, 27))) == HOUR
    # The repeated 02:00-03:00: an end inside it is its first pass.
    repeated = Schedule.build("Europe/Berlin", [("sun", "02:00", "02:30")])
    assert business_seconds(repeated, *local_day(BERLIN, date(2022, 10, 30))) == HOUR / 2
    # Around it, the second pass is worked: 01:00 CEST to 04:00 CET is four hours.
    across = Schedule.build("Europe/Berlin", [("sun", "01:00", "04:00")])
    assert business_seconds(across, *local_day(BERLIN, date(2022, 10, 30))) == 4 * HOUR


# -- schedules from events ---------------------------------------------------------------


def schedule_events() -> Events:
    f = Events(start=utc(2022, 3, 1, 0, 0))
    f.business_hours("*", timezone="UTC", intervals=[("mon", "09:00", "17:00")], at=0)
    f.business_hours("*", timezone="UTC", intervals=[("tue", "08:00", "12:00")], at=60)
    f.business_hours(
        "web",
        timezone="Europe/Berlin",
        intervals=[("mon", "09:00", "12:00"), ("mon", "13:00", "17:00")],
        holidays=["2022-12-25"],
        at=30,
    )
    # Same instant as the one above: the larger id (ev-4 > ev-3) wins.
    f.business_hours("web", timezone="Europe/Berlin", intervals=[("wed", "10:00", "11:00")], at=30)
    f.business_hours("mail", timezone="America/New_York", intervals=[("fri", "09:00", "10:00")])
    # Earlier than the inbox's first: ignored, although it arrives last.
    f.business_hours("mail", timezone="UTC", intervals=[("sat", "09:00", "10:00")], at=-60)
    return f


def check_schedules(schedules: dict[str, Schedule]) -> None:
    assert set(schedules) == {"*", "web", "mail"}
    default = schedules["*"]
    assert default.timezone == ZoneInfo("UTC")
    assert default.week[1] == ((time(8), time(12)),)  # Tuesday, the later event
    assert all(not shifts for i, shifts in enumerate(default.week) if i != 1)
    web = schedules["web"]
    assert web.timezone == BERLIN
    assert web.week[2] == ((time(10), time(11)),)
    assert web.holidays == frozenset()
    assert web.inbox_id == "web"
    assert schedules["mail"].timezone == NEW_YORK
    assert schedule_for(schedules, "web") is web
    assert schedule_for(schedules, "chat") is default  # no schedule of its own
    assert schedule_for(schedules, None) is default
    assert schedule_for({"web": web}, "chat") is None  # no default: calendar time


def test_schedules_from_events_latest_wins_with_default() -> None:
    f = schedule_events()
    check_schedules(schedules_from_events(reversed(f.events)))
    check_schedules(schedules_from_events(f.events))


def test_schedules_from_stored_events(store: Store) -> None:
    f = schedule_events()
    f.agent("alice", at=5)  # other events are ignored
    ingest(store, f.events)
    rows = store.events().to_pyarrow().to_pylist()
    check_schedules(schedules_from_events(rows))


def test_overlapping_intervals_are_merged_and_24_00_ends_the_day() -> None:
    schedule = Schedule.build(
        "UTC",
        [("mon", "09:00", "12:00"), ("mon", "11:00", "14:00"), ("mon", "20:00", "24:00")],
    )
    assert schedule.week[0] == ((time(9), time(14)), (time(20), time(0)))
    monday = utc(2022, 3, 21)
    assert business_seconds(schedule, monday, monday + timedelta(days=1)) == 9 * HOUR


def test_schedule_validation() -> None:
    empty: tuple[tuple[tuple[time, time], ...], ...] = ((),) * 6
    with pytest.raises(ValueError, match="end after"):
        Schedule(ZoneInfo("UTC"), (((time(10), time(9)),), *empty))
    with pytest.raises(ValueError, match="overlap"):
        Schedule(ZoneInfo("UTC"), (((time(9), time(12)), (time(11), time(13))), *empty))
    with pytest.raises(ValueError, match="seven"):
        Schedule(ZoneInfo("UTC"), empty)
    # Overnight is two shifts; 00:00 as an end is midnight ending the day.
    Schedule(ZoneInfo("UTC"), (((time(22), time(0)),), ((time(0), time(6)),), *empty[1:]))


# -- the Ibis expression, on every backend -----------------------------------------------


def test_expression_forty_hours_split_shift_and_holiday(store: Store) -> None:
    schedules = [
        nine_to_five(inbox="*"),
        Schedule.build(
            "UTC", [("mon", "09:00", "12:00"), ("mon", "13:00", "17:00")], inbox_id="split"
        ),
        nine_to_five(inbox="holiday", holidays=["2022-03-23"]),
    ]
    week = (utc(2022, 3, 20, 0, 0), utc(2022, 3, 26, 23, 59))
    spans: list[Span] = [
        ("web", *week),  # no schedule of its own: the default
        (None, *week),  # no inbox at all: the default too
        ("split", utc(2022, 3, 21, 11), utc(2022, 3, 21, 14)),
        ("holiday", *week),
        ("holiday", utc(2022, 3, 23, 8), utc(2022, 3, 23, 18)),
        ("web", utc(2022, 3, 21, 12), utc(2022, 3, 21, 10)),  # reversed
        ("web", utc(2022, 3, 21, 12, 0, 0), utc(2022, 3, 21, 12, 0, 0, 1)),  # 1 microsecond
        ("web", None, utc(2022, 3, 21, 10)),
        ("web", utc(2022, 3, 21, 10), None),
    ]
    expected = [40 * HOUR, 40 * HOUR, 2 * HOUR, 32 * HOUR, 0.0, 0.0, 1e-6, None, None]
    assert reference(schedules, spans) == expected
    assert measure(store, schedules, spans) == expected


def test_expression_without_a_schedule_is_calendar_time(store: Store) -> None:
    schedules = [nine_to_five(inbox="web")]
    spans: list[Span] = [
        ("web", utc(2022, 3, 20), utc(2022, 3, 26, 23, 59)),
        ("mail", utc(2022, 3, 20), utc(2022, 3, 26, 23, 59)),  # no own schedule, no default
        (None, utc(2022, 3, 21, 10), utc(2022, 3, 21, 10, 0, 1, 500)),
        ("mail", utc(2022, 3, 21, 12), utc(2022, 3, 21, 10)),  # as the calendar column: < 0
    ]
    calendar_week = (6 * 24 + 23) * HOUR + 59 * 60
    expected = [40 * HOUR, calendar_week, 1.0005, -2 * HOUR]
    assert measure(store, schedules, spans) == expected


def test_expression_scheduled_inbox_with_no_opening_in_range(store: Store) -> None:
    # A weekend under a weekday schedule: the inbox still counts as scheduled (0 s), it
    # does not fall back to the default or to calendar time.
    schedules = [nine_to_five(inbox="web"), Schedule.build("UTC", [("sat", "00:00", "24:00")])]
    spans: list[Span] = [
        ("web", utc(2022, 3, 26, 1), utc(2022, 3, 27, 23)),
        ("mail", utc(2022, 3, 26, 1), utc(2022, 3, 27, 23)),
    ]
    assert measure(store, schedules, spans) == [0.0, 23 * HOUR]


@pytest.mark.parametrize(("zone", "day", "hours"), TRANSITIONS)
def test_expression_dst_days_agree_with_reference(
    store: Store, zone: ZoneInfo, day: date, hours: int
) -> None:
    schedules = [
        early_shift(zone.key, inbox="early"),
        Schedule.build(zone.key, [(d, "09:00", "17:00") for d in WEEKDAYS], inbox_id="day"),
    ]
    start, end = local_day(zone, day)
    before = local_day(zone, day - timedelta(days=1))
    # Three real hours in (aware arithmetic in one zone is wall-clock, hence via UTC).
    half = start.astimezone(UTC) + timedelta(hours=3)
    spans: list[Span] = [
        ("early", start, end),
        ("early", *before),
        ("early", before[0], end),
        ("early", start - timedelta(minutes=30), half),
        ("day", start, end),
    ]
    expected = reference(schedules, spans)
    assert expected[:3] == [hours * HOUR, 6 * HOUR, (6 + hours) * HOUR]
    assert expected[3] == 3 * HOUR
    assert expected[4] == 8 * HOUR
    assert measure(store, schedules, spans) == expected


def test_endpoint_outside_the_intervals_table_is_null() -> None:
    con = ibis.duckdb.connect()
    schedule = nine_to_five()
    con.create_table(
        "bh_intervals",
        business_intervals([schedule], date(2022, 3, 21), date(2022, 3, 22)),
    )
    con.create_table(
        "bh_durations",
        pa.table(
            {
                "inbox": ["web", "web"],
                "a": [datetime(2022, 3, 21, 8), datetime(2022, 3, 21, 8)],
                "b": [datetime(2022, 3, 22, 18), datetime(2022, 3, 23, 18)],
            }
        ),
    )
    expression = business_seconds_expr(
        con.table("bh_durations"),
        con.table("bh_intervals"),
        start="a",
        end="b",
        inbox="inbox",
        name="x",
    )
    assert expression.to_pyarrow().column("x_business_seconds").to_pylist() == [16 * HOUR, None]


def test_intervals_table_is_cut_at_utc_midnight_with_running_totals() -> None:
    # 20:00-24:00 in New York (UTC-5 in January) is 01:00-05:00 UTC the next day.
    schedule = Schedule.build("America/New_York", [("mon", "20:00", "24:00")], inbox_id="web")
    table = business_intervals(schedule, date(2022, 1, 17), date(2022, 1, 18)).to_pylist()
    assert table == [
        {
            "inbox_id": "web",
            "start_utc": datetime(2022, 1, 17, 0, 0),
            "end_utc": datetime(2022, 1, 17, 0, 0),
            "utc_day": date(2022, 1, 17),
            "open_before_us": 0,
        },
        {
            "inbox_id": "web",
            "start_utc": datetime(2022, 1, 18, 0, 0),
            "end_utc": datetime(2022, 1, 18, 0, 0),
            "utc_day": date(2022, 1, 18),
            "open_before_us": 0,
        },
        {
            "inbox_id": "web",
            "start_utc": datetime(2022, 1, 18, 1, 0),
            "end_utc": datetime(2022, 1, 18, 5, 0),
            "utc_day": date(2022, 1, 18),
            "open_before_us": 0,
        },
    ]
    # A shift across a UTC midnight is cut in two: 05:00-06:00 in Kolkata (UTC+5:30).
    across = Schedule.build("Asia/Kolkata", [("mon", "05:00", "06:00")])  # 23:30-00:30 UTC
    rows = business_intervals(across, date(2022, 1, 16), date(2022, 1, 17)).to_pylist()
    pieces = [(r["start_utc"], r["end_utc"]) for r in rows if r["start_utc"] != r["end_utc"]]
    assert pieces == [
        (datetime(2022, 1, 16, 23, 30), datetime(2022, 1, 17, 0, 0)),
        (datetime(2022, 1, 17, 0, 0), datetime(2022, 1, 17, 0, 30)),
    ]
    assert [r["open_before_us"] for r in rows] == [0, 0, 1_800_000_000, 1_800_000_000]


# -- properties ----------------------------------------------------------------------------

PROPERTY_SCHEDULES = [
    Schedule.build(
        "Europe/Berlin",
        [(d, "08:00", "12:00") for d in WEEKDAYS_ONLY]
        + [(d, "13:00", "18:00") for d in WEEKDAYS_ONLY]
        + [("sat", "22:00", "24:00"), ("sun", "00:00", "06:00")],
        holidays=["2022-03-25", "2022-10-31"],
        inbox_id="berlin",
    ),
    Schedule.build(
        "America/New_York",
        [(d, "01:00", "03:00") for d in WEEKDAYS] + [("sun", "02:30", "09:00")],
        holidays=["2022-11-07"],
        inbox_id="new_york",
    ),
    Schedule.build("UTC", [(d, "09:00", "17:00") for d in WEEKDAYS_ONLY], inbox_id="*"),
]
PROPERTY_FIRST, PROPERTY_LAST = utc(2022, 3, 1), utc(2022, 11, 30)

moments = st.integers(
    min_value=0, max_value=int((PROPERTY_LAST - PROPERTY_FIRST).total_seconds() * 1e6)
).map(lambda us: PROPERTY_FIRST + timedelta(microseconds=us))
near_transitions = st.sampled_from(
    [
        datetime.combine(d, time(h), tzinfo=z)
        for z, d in (
            (BERLIN, date(2022, 3, 27)),
            (BERLIN, date(2022, 10, 30)),
            (NEW_YORK, date(2022, 3, 13)),
            (NEW_YORK, date(2022, 11, 6)),
        )
        for h in (0, 1, 2, 3, 4)
    ]
).flatmap(lambda base: st.integers(-3 * 3600, 3 * 3600).map(lambda s: base + timedelta(seconds=s)))
spans_strategy = st.lists(
    st.tuples(
        st.sampled_from(["berlin", "new_york", "chat", None]),
        st.one_of(moments, near_transitions),
        st.one_of(
            moments,
            near_transitions,
            st.integers(0, 10 * 86_400).map(lambda s: timedelta(seconds=s)),
        ),
    ),
    min_size=1,
    max_size=25,
)


def close_spans(raw: list[tuple[str | None, datetime, datetime | timedelta]]) -> list[Span]:
    """A timedelta as the end means "that long after the start": many short spans."""
    return [
        (inbox, start, start + end if isinstance(end, timedelta) else end)
        for inbox, start, end in raw
    ]


@pytest.fixture(scope="module")
def duckdb_con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=spans_strategy)
def test_expression_equals_reference_on_random_spans(
    duckdb_con: ibis.BaseBackend, raw: list[tuple[str | None, datetime, datetime | timedelta]]
) -> None:
    spans = close_spans(raw)
    assert measure(duckdb_con, PROPERTY_SCHEDULES, spans) == reference(PROPERTY_SCHEDULES, spans)


def wall_clock_seconds(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Brute force: count the minutes whose local wall reading is inside a shift."""
    total = 0
    moment = start
    while moment < end:
        local = moment.astimezone(schedule.timezone)
        minute = local.hour * 60 + local.minute
        if local.date() not in schedule.holidays:
            for opens, closes in schedule.week[local.weekday()]:
                high = 24 * 60 if closes == time(0) else closes.hour * 60 + closes.minute
                if opens.hour * 60 + opens.minute <= minute < high:
                    total += 60
        moment += timedelta(minutes=1)
    return float(total)


@settings(max_examples=40, deadline=None)
@given(
    schedule=st.sampled_from(PROPERTY_SCHEDULES),
    start_minute=st.integers(0, 30 * 24 * 60),
    length=st.integers(0, 3 * 24 * 60),
)
def test_reference_counts_wall_clock_minutes(
    schedule: Schedule, start_minute: int, length: int
) -> None:
    # March 2022: both spring-forward days, where "first reached" and "the wall clock
    # shows an open time" agree (they differ only around a repeated hour).
    start = utc(2022, 3, 1) + timedelta(minutes=start_minute)
    end = start + timedelta(minutes=length)
    assert business_seconds(schedule, start, end) == wall_clock_seconds(schedule, start, end)


def test_reference_is_additive_over_long_spans() -> None:
    # Two years of a split-shift schedule: a walk over days, cached per (schedule, day).
    schedule = PROPERTY_SCHEDULES[0]
    cuts = [utc(2021, 1, 1), utc(2021, 7, 4, 10, 30), utc(2022, 3, 27, 1), utc(2023, 1, 1)]
    whole = business_seconds(schedule, cuts[0], cuts[-1])
    parts = [business_seconds(schedule, a, b) for a, b in itertools.pairwise(cuts)]
    assert whole == sum(parts)
    assert 2 * 40 * 52 * HOUR < whole < 2 * 60 * 53 * HOUR
