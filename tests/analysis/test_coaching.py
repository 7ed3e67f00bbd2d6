"""Coaching-plan numbers: Start and Now windows, targets, validation and plan status.

Start/Now run on DuckDB and on PostgreSQL over hand-built effectiveness_facts rows
(alice, chat, billing unless said otherwise); times are UTC. The plan began 2026-03-01
00:00, so Start looks at [2025-11-30 00:00, 2026-03-01 00:00).

    early   2025-11-29 23:59  handle 10000  satisfaction .8  resolution .5  (before Start)
    s1      2025-11-30 00:00  handle   100  .8  .5   (Start's first instant: in)
    s2      2026-01-15 12:00  handle   200  .8  .5
    s3      2026-02-28 23:59  handle   300  .8  .5
    p0      2026-03-01 00:00  handle  5000  .9  .9   (the plan's first instant: not Start)
    p1..p21 2026-03-01 01:00 .. 21:00, hourly, handle 100, .9, .9
    late    2026-03-20 00:00  handle 99999  .9  .9   (at as_of: not before it)

    noise   bob on billing, alice on email billing and on chat refund (never counted)
    warranty  alice, three interactions, the middle one without a predicted resolution

Start: handle (100 + 200 + 300) / 3 = 200 s (n 3); AES 200 / (.8 x .5) = 500.
Now at 03-20 00:00: the 20 most recent are p21 .. p2 -> handle 100 s, AES 100 / .81 =
123.456790123, 20 interactions. Now at 03-01 05:00: only 9 exist before it (early, s1-s3,
p0-p4) -> handle (10000 + 100 + 200 + 300 + 5000 + 4 x 100) / 9 = 16000 / 9 = 1777.78 s.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from deskpulse.analysis.coaching import (
    ASSISTANCE_CHOICES,
    MAX_ITEMS,
    MIN_NOW_INTERACTIONS,
    RECENT_INTERACTIONS,
    START_LOOKBACK_DAYS,
    Change,
    EstimatedShare,
    PlanInputError,
    Sample,
    compare,
    estimated_handle_share,
    focus_past_estimates,
    interactions_since,
    metric_ceiling,
    metric_direction,
    now_sample,
    now_value,
    plan_status,
    start_sample,
    start_value,
    target_date_check,
    target_value,
    validate_improvement,
    validate_items,
)
from deskpulse.analysis.effectiveness import EFFECTIVENESS_METRICS, Reading
from deskpulse.events.store import Store
from tests.analysis.test_effectiveness import (
    directory_events,
    interaction,
    write_effectiveness,
)
from tests.conftest import BACKENDS, POSTGRES_URL
from tests.factories import ingest_and_build, scratch_store

# Reruns at other pinned instants in the clock guard (docs/clock.md).
pytestmark = pytest.mark.clock

BEGAN = datetime(2026, 3, 1, tzinfo=UTC)
AS_OF = datetime(2026, 3, 20, tzinfo=UTC)
PLAN: dict[str, Any] = {"channel": "chat", "inquiry": "billing"}


def _row(
    cid: str, at: datetime, handle: float, sat: float, res: float | None, **kw: Any
) -> dict[str, Any]:
    agent = kw.pop("agent", "alice")
    return interaction(cid, agent, at, handle=handle, satisfaction=sat, resolution=res, **kw)


def plan_rows() -> list[dict[str, Any]]:
    rows = [
        _row("early", datetime(2025, 11, 29, 23, 59), 10000, 0.8, 0.5),
        _row("s1", datetime(2025, 11, 30, 0, 0), 100, 0.8, 0.5, estimated=True),
        _row("s2", datetime(2026, 1, 15, 12, 0), 200, 0.8, 0.5),
        _row("s3", datetime(2026, 2, 28, 23, 59), 300, 0.8, 0.5),
        _row("p0", datetime(2026, 3, 1, 0, 0), 5000, 0.9, 0.9),
        *(
            _row(f"p{i}", datetime(2026, 3, 1, i, 0), 100, 0.9, 0.9, estimated=i <= 10)
            for i in range(1, 22)
        ),
        _row("late", datetime(2026, 3, 20, 0, 0), 99999, 0.9, 0.9),
    ]
    noise = datetime(2026, 3, 10, 12, 0)
    rows += [
        _row("b1", noise, 7, 0.1, 0.1, agent="bob"),
        _row("e1", noise, 8, 0.1, 0.1, channel="email"),
        _row("f1", noise, 9, 0.1, 0.1, inquiry="refund"),
        _row("w1", datetime(2026, 3, 2), 100, 0.8, 0.6, inquiry="warranty"),
        _row("w2", datetime(2026, 3, 3), 100, 0.8, None, inquiry="warranty", source="measured"),
        _row("w3", datetime(2026, 3, 4), 100, 0.8, 0.8, inquiry="warranty"),
    ]
    return rows


@pytest.fixture(scope="module", params=BACKENDS)
def plans(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    if request.param == "postgres" and not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("DESKPULSE_TEST_POSTGRES_URL is not set: run the suite with scripts/test")
        pytest.skip("no PostgreSQL server: run the suite with scripts/test to include it")
    with scratch_store(request.param, tmp_path_factory.mktemp("plans")) as store:
        ingest_and_build(store, directory_events().events)
        write_effectiveness(store, plan_rows())
        yield store


# -- Start and Now -----------------------------------------------------------------------------


def test_start_is_the_91_days_before_the_plan_began(plans: Store) -> None:
    assert START_LOOKBACK_DAYS == 91
    handle = start_value(plans, "alice", metric="aes_handle_time", began_at=BEGAN, **PLAN)
    assert handle == Reading(200.0, 3)  # s1, s2, s3: not early, not p0
    aes = start_value(plans, "alice", metric="effectiveness_score", began_at=BEGAN, **PLAN)
    assert aes == Reading(500.0, 3)
    satisfaction = start_value(
        plans, "alice", metric="predicted_satisfaction", began_at=BEGAN, **PLAN
    )
    assert satisfaction == Reading(0.8, 3)
    # A naive began_at is read as UTC.
    naive = start_value(
        plans, "alice", metric="aes_handle_time", began_at=BEGAN.replace(tzinfo=None), **PLAN
    )
    assert naive == handle
    nothing = start_value(
        plans, "alice", metric="aes_handle_time", began_at=datetime(2025, 1, 1, tzinfo=UTC), **PLAN
    )
    assert nothing == Reading(None, 0)


def test_now_is_the_20_most_recent_interactions_since_the_plan_began(plans: Store) -> None:
    assert RECENT_INTERACTIONS == 20
    handle, count = now_value(
        plans, "alice", metric="aes_handle_time", began_at=BEGAN, as_of=AS_OF, **PLAN
    )
    assert (handle, count) == (Reading(100.0, 20), 20)  # p2..p21; "late" is at as_of
    aes, count = now_value(
        plans, "alice", metric="effectiveness_score", began_at=BEGAN, as_of=AS_OF, **PLAN
    )
    assert (aes, count) == (Reading(123.456790123, 20), 20)  # 100 / (.9 x .9)


def test_now_never_reaches_back_before_the_plan_began(plans: Store) -> None:
    early = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    handle, count = now_value(
        plans, "alice", metric="aes_handle_time", began_at=BEGAN, as_of=early, **PLAN
    )
    # p0..p4 only: early, s1..s3 are Start's (the old Now mixed them in: 1777.78 s over 9).
    assert (handle, count) == (Reading(1080.0, 5), 5)  # (5000 + 4 x 100) / 5
    satisfaction, _ = now_value(
        plans, "alice", metric="predicted_satisfaction", began_at=BEGAN, as_of=early, **PLAN
    )
    assert satisfaction == Reading(0.9, 5)
    # The day the plan begins: no Now at all (not Start again, not 66% progress).
    none, count = now_value(
        plans, "alice", metric="aes_handle_time", began_at=BEGAN, as_of=BEGAN, **PLAN
    )
    assert (none, count) == (Reading(None, 0), 0)


def test_now_reports_the_metric_sample_and_the_interactions(plans: Store) -> None:
    # warranty: three interactions, one without a predicted resolution.
    resolution, count = now_value(
        plans,
        "alice",
        channel="chat",
        inquiry="warranty",
        metric="predicted_resolution",
        began_at=BEGAN,
        as_of=AS_OF,
    )
    assert (resolution, count) == (Reading(0.7, 2), 3)  # (.6 + .8) / 2


def test_samples_read_like_start_and_now(plans: Store) -> None:
    start = start_sample(plans, "alice", began_at=BEGAN, **PLAN)
    now = now_sample(plans, "alice", began_at=BEGAN, as_of=AS_OF, **PLAN)
    assert start.interactions == 3
    assert now.interactions == 20
    for metric in EFFECTIVENESS_METRICS:
        for got, (want, _) in (
            (
                start.reading(metric),
                (start_value(plans, "alice", metric=metric, began_at=BEGAN, **PLAN), 0),
            ),
            (
                now.reading(metric),
                now_value(plans, "alice", metric=metric, began_at=BEGAN, as_of=AS_OF, **PLAN),
            ),
        ):
            assert got.n == want.n, metric
            assert got.value == pytest.approx(want.value), metric


def test_interactions_since_the_plan_began(plans: Store) -> None:
    assert interactions_since(plans, "alice", since=BEGAN, as_of=AS_OF, **PLAN) == 22  # p0..p21
    later = BEGAN + timedelta(hours=20)
    assert interactions_since(plans, "alice", since=later, as_of=AS_OF, **PLAN) == 2  # p20, p21
    assert interactions_since(plans, "alice", since=AS_OF, as_of=BEGAN, **PLAN) == 0
    assert interactions_since(plans, "bob", since=BEGAN, as_of=AS_OF, **PLAN) == 1


def test_before_any_scoring_run_every_reading_is_empty(store: Store) -> None:
    ingest_and_build(store, directory_events().events)  # facts, but no effectiveness_facts
    assert start_value(store, "alice", metric="aes_handle_time", began_at=BEGAN, **PLAN) == (
        Reading(None, 0)
    )
    assert now_value(
        store, "alice", metric="aes_handle_time", began_at=BEGAN, as_of=AS_OF, **PLAN
    ) == (
        Reading(None, 0),
        0,
    )
    assert interactions_since(store, "alice", since=BEGAN, as_of=AS_OF, **PLAN) == 0


def test_unknown_metric_is_named(plans: Store) -> None:
    with pytest.raises(PlanInputError) as raised:
        start_value(plans, "alice", metric="csat_mean", began_at=BEGAN, **PLAN)
    assert raised.value.field == "metric"


# -- targets -----------------------------------------------------------------------------------


def test_directions_and_ceilings() -> None:
    assert [metric_direction(m) for m in EFFECTIVENESS_METRICS] == [
        "lower",
        "lower",
        "higher",
        "higher",
    ]
    assert [metric_ceiling(m) for m in EFFECTIVENESS_METRICS] == [None, None, 1.0, 1.0]


@pytest.mark.parametrize(
    ("start", "percent", "direction", "ceiling", "expected"),
    [
        (500.0, 10, "lower", None, 450.0),  # 500 x .9
        (240.0, 5, "lower", None, 228.0),  # 240 x .95
        (240.0, 50, "lower", None, 120.0),
        (0.8, 10, "higher", 1.0, 0.88),  # .8 x 1.1
        (0.6, 50, "higher", 1.0, 0.9),
        (0.95, 10, "higher", 1.0, 1.0),  # 1.045 is not possible: capped at 100%
        (0.7, 50, "higher", 1.0, 1.0),  # 1.05 capped
        (3.0, 50, "higher", None, 4.5),  # no ceiling
    ],
)
def test_target_value(
    start: float, percent: float, direction: Any, ceiling: float | None, expected: float
) -> None:
    assert target_value(start, percent, direction, ceiling) == expected


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("percent", [5, 5.0, 10, 27.5, 50])
def test_improvement_from_5_to_50_passes(percent: float) -> None:
    assert validate_improvement(percent) == float(percent)


@pytest.mark.parametrize("percent", [4, 4.99, 51, 50.01, 0, -10, float("nan")])
def test_improvement_outside_5_to_50_fails(percent: float) -> None:
    with pytest.raises(PlanInputError) as raised:
        validate_improvement(percent)
    assert raised.value.field == "improvement"
    with pytest.raises(PlanInputError):
        target_value(100.0, percent, "lower", None)


def test_improvement_messages_say_what_is_allowed() -> None:
    with pytest.raises(PlanInputError, match=r"between 5% and 50% \(you entered 4%\)"):
        validate_improvement(4)
    with pytest.raises(PlanInputError, match=r"you entered 51%"):
        validate_improvement(51)
    with pytest.raises(PlanInputError, match="not a number"):
        validate_improvement("lots")  # type: ignore[arg-type]


def test_one_to_three_actions_pass_trimmed() -> None:
    assert validate_items(["  Use the refund checklist "], field="actions") == [
        "Use the refund checklist"
    ]
    three = ["Read the policy", "Ask a colleague", "Summarise at the end"]
    assert validate_items(["", *three, "   "], field="actions") == three  # blanks dropped
    assert MAX_ITEMS == 3


@pytest.mark.parametrize(
    "items",
    [
        [],
        ["", "   "],
        ["one", "two", "three", "four"],
    ],
)
def test_zero_or_four_actions_fail(items: list[str]) -> None:
    with pytest.raises(PlanInputError) as raised:
        validate_items(items, field="actions")
    assert raised.value.field == "actions"


def test_item_length_and_field_name() -> None:
    assert validate_items(["x" * 200], field="assistance") == ["x" * 200]
    with pytest.raises(PlanInputError, match="item 2 is 201 characters") as raised:
        validate_items(["fine", "x" * 201], field="assistance")
    assert raised.value.field == "assistance"


def test_assistance_choices() -> None:
    assert 6 <= len(ASSISTANCE_CHOICES) <= 10
    assert len(set(ASSISTANCE_CHOICES)) == len(ASSISTANCE_CHOICES)
    assert validate_items(list(ASSISTANCE_CHOICES[:3]), field="assistance") == list(
        ASSISTANCE_CHOICES[:3]
    )


TODAY = date(2026, 3, 1)


@pytest.mark.parametrize("target", [TODAY, TODAY - timedelta(days=1)])
def test_target_date_must_be_in_the_future(target: date) -> None:
    with pytest.raises(PlanInputError) as raised:
        target_date_check(target, TODAY)
    assert raised.value.field == "target_date"


@pytest.mark.parametrize(
    ("days", "warns"),
    [(1, True), (13, True), (14, False), (60, False), (92, False), (93, True), (400, True)],
)
def test_target_date_warns_outside_two_weeks_to_three_months(days: int, warns: bool) -> None:
    warning = target_date_check(TODAY + timedelta(days=days), TODAY)
    assert (warning is not None) == warns
    if days == 1:
        assert warning is not None
        assert "only 1 day away" in warning
    if days == 400:
        assert warning is not None
        assert "at most 3 months" in warning


# -- status --------------------------------------------------------------------------------


def _change(relative: float, low: float, high: float, interactions: int = 20) -> Change:
    return Change(
        "aes_handle_time",
        Reading(500.0, 60),
        Reading(500.0 * (1 + relative), interactions),
        interactions,
        relative,
        low,
        high,
        "welch",
    )


BEYOND = _change(-0.2, -0.3, -0.1)  # the whole interval better (lower)
WITHIN = _change(-0.2, -0.4, 0.05)  # the interval reaches past no change


def status(
    now: float | None,
    change: Change | None,
    today: date,
    *,
    achieved: bool = False,
    **kw: Any,
) -> str:
    options: dict[str, Any] = {"target": 450.0, "direction": "lower", **kw}
    return plan_status(
        now=Reading(now, 0 if now is None else 20),
        change=change,
        target_date=date(2026, 4, 1),
        today=today,
        already_achieved=achieved,
        **options,
    )


def test_plan_status() -> None:
    march = date(2026, 3, 15)
    assert status(440.0, BEYOND, march) == "achieved"  # met, and beyond noise
    assert status(450.0, BEYOND, march) == "achieved"  # exactly on the target
    assert status(440.0, WITHIN, march) == "in_progress"  # met, but within the noise
    too_few = _change(-0.2, -0.3, -0.1, interactions=MIN_NOW_INTERACTIONS - 1)
    assert status(440.0, too_few, march) == "in_progress"  # met, on too few interactions
    assert status(460.0, BEYOND, march) == "in_progress"  # beyond noise, short of the target
    assert status(None, None, march) == "in_progress"
    assert status(460.0, WITHIN, date(2026, 4, 1)) == "in_progress"  # the target date itself
    assert status(460.0, WITHIN, date(2026, 4, 2)) == "expired"
    assert status(440.0, BEYOND, date(2026, 4, 2)) == "achieved"  # met when checked late
    assert status(900.0, None, date(2026, 5, 1), achieved=True) == "achieved"  # sticky
    higher = {"target": 0.88, "direction": "higher"}
    up = _change(0.2, 0.1, 0.3)
    assert status(0.9, up, march, **higher) == "achieved"
    assert status(0.9, BEYOND, march, **higher) == "in_progress"  # better is up, not down
    assert status(0.87, up, march, **higher) == "in_progress"


# -- Now against Start -------------------------------------------------------------------------


def _handle_sample(values: list[float]) -> Sample:
    return Sample.of(values, [0.8] * len(values), [0.5] * len(values))


def test_welch_interval_for_an_average() -> None:
    start = _handle_sample([300.0, 500.0, 400.0, 600.0, 200.0] * 8)  # mean 400
    now = _handle_sample([200.0, 300.0, 250.0, 350.0, 150.0] * 4)  # mean 250
    change = compare("aes_handle_time", start, now)
    assert change.method == "welch"
    assert change.confidence == 0.99
    assert change.relative == pytest.approx(-0.375)
    # scipy's Welch interval on the difference, over Start's mean.
    from scipy import stats

    welch = stats.ttest_ind(
        now.column("aes_handle_time"), start.column("aes_handle_time"), equal_var=False
    )
    low, high = welch.confidence_interval(0.99)
    assert (change.low, change.high) == pytest.approx((low / 400, high / 400))
    assert change.beyond_noise("lower")
    assert not change.beyond_noise("higher")
    # The same means on a few, spread-out interactions: not beyond noise.
    noisy = compare("aes_handle_time", start, _handle_sample([20.0, 480.0] * 10))
    assert noisy.relative == pytest.approx(-0.375)
    assert not noisy.beyond_noise("lower")


def test_newcombe_interval_for_a_share_of_yes_or_no() -> None:
    # Measured satisfaction: 24 of 30 satisfied before, 10 of 10 answers since.
    start = Sample.of([100.0] * 30, [1.0] * 24 + [0.0] * 6, [1.0] * 30)
    now = Sample.of([100.0] * 20, [1.0] * 10 + [None] * 10, [1.0] * 20)
    change = compare("predicted_satisfaction", start, now)
    assert change.method == "newcombe"
    assert change.relative == pytest.approx(0.25)
    # A Wald interval would call 10 of 10 against 80% beyond noise; Newcombe does not.
    assert change.low is not None
    assert change.low < 0
    assert not change.beyond_noise("higher")


def test_bootstrap_interval_for_the_score_is_repeatable() -> None:
    start = _handle_sample([300.0, 500.0, 400.0, 600.0, 200.0] * 8)
    now = _handle_sample([100.0, 150.0, 120.0, 180.0, 90.0] * 4)
    first = compare("effectiveness_score", start, now)
    assert first.method == "bootstrap"
    assert first.relative == pytest.approx(128 / 400 - 1)
    assert first == compare("effectiveness_score", start, now)  # fixed seed
    assert first.beyond_noise("lower")


def test_no_now_no_change() -> None:
    start = _handle_sample([300.0] * 40)
    change = compare("aes_handle_time", start, _handle_sample([]))
    assert (change.relative, change.low, change.high) == (None, None, None)
    assert not change.beyond_noise("lower")


# -- the recommendation when handle time is mostly estimated ---------------------------------

LABELS = {
    "aes_handle_time": "Average handle time",
    "predicted_satisfaction": "Measured satisfaction rate",
    "predicted_resolution": "Average predicted resolution",
}
GAPS: dict[str, float | None] = {
    "aes_handle_time": 0.6,
    "predicted_satisfaction": 0.3,
    "predicted_resolution": 0.1,
}


def test_handle_time_is_not_the_focus_when_mostly_estimated() -> None:
    metric, text = focus_past_estimates(
        "aes_handle_time", GAPS, "Focus on handle time.", EstimatedShare(61, 100), LABELS
    )
    assert metric == "predicted_satisfaction"
    assert "61% of your handle times" in text
    assert "(61 of 100)" in text
    assert "Focus on measured satisfaction rate instead" in text


def test_handle_time_stays_the_focus_when_mostly_logged() -> None:
    for share in (EstimatedShare(50, 100), EstimatedShare(0, 100), EstimatedShare(0, 0)):
        assert focus_past_estimates(
            "aes_handle_time", GAPS, "Focus on handle time.", share, LABELS
        ) == ("aes_handle_time", "Focus on handle time.")
    # Another recommendation is left as it is.
    assert focus_past_estimates(
        "predicted_resolution", GAPS, "x", EstimatedShare(9, 10), LABELS
    ) == ("predicted_resolution", "x")


def test_no_other_part_to_focus_on() -> None:
    gaps = {**GAPS, "predicted_satisfaction": None, "predicted_resolution": None}
    metric, text = focus_past_estimates("aes_handle_time", gaps, "x", EstimatedShare(9, 10), LABELS)
    assert metric is None
    assert "no recommendation" in text


def test_estimated_share_counts_the_agents_estimated_handle_times(plans: Store) -> None:
    since = BEGAN - timedelta(days=START_LOOKBACK_DAYS)
    share = estimated_handle_share(plans, "alice", since=since, until=AS_OF, **PLAN)
    assert share.with_handle_time == 25  # s1..s3, p0..p21
    assert share.estimated == 11  # s1, p1..p10
    assert not share.mostly
    assert not estimated_handle_share(plans, "alice", since=BEGAN, until=AS_OF, **PLAN).mostly
    first_hours = estimated_handle_share(
        plans, "alice", since=BEGAN, until=BEGAN + timedelta(hours=11), **PLAN
    )
    assert (first_hours.estimated, first_hours.with_handle_time) == (10, 11)  # p0..p10
    assert first_hours.mostly
