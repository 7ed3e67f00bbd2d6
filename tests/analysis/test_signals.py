"""Friction signals: they find what the generator planted, and stay quiet when nothing is.

* Generated data (seed 2, 12,000 conversations over 200 days, 90-day period against the
  90 days before): the two degrading queues (DEGRADING_INBOXES) are flagged and no other
  queue is; the same organisation generated with `planted=False` gives no signal at all,
  although more than two hundred segment x metric tests run.
* Seed 004's "AHT falling while CSAT falls", planted by hand in one queue (tests/factories),
  is named as that tension and not as two loose shifts; the same queue with steady handle
  time is "resolved, but customers less happy". Runs on DuckDB and PostgreSQL (`store`).
* Holm and the minimum sample on hand-made readings: a move that stands out alone is
  noise among thirty tests; 29 on a side is not tested; a tiny move at huge n stays quiet.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deskpulse.analysis.signals import (
    MIN_SAMPLE,
    Segment,
    SegmentReading,
    Signal,
    SignalReport,
    compute_signals,
    find_signals,
    signals_from_readings,
)
from deskpulse.events.bulk import import_sources
from deskpulse.events.store import Store, open_store
from deskpulse.facts.build import refresh_facts
from deskpulse.generator import DEGRADING_INBOXES, generate
from deskpulse.metrics.periods import Period
from deskpulse.metrics.query import MetricValue, Viewer
from deskpulse.metrics.window import Window
from deskpulse.settings import Settings
from tests.factories import ingest_and_build
from tests.signals_scenario import WEEK, friction_week

# Reruns at other pinned instants in the clock guard (docs/clock.md).
pytestmark = pytest.mark.clock

END = datetime(2026, 3, 1, tzinfo=UTC)
QUARTER = Window(period="90d", as_of=END)
MONTH = Window(period="30d", as_of=END)


def _generated(folder: Path, *, planted: bool) -> Iterator[Store]:
    buffer = io.BytesIO()
    generate(buffer, seed=2, conversations=12_000, days=200, end=END, planted=planted)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.jsonl").write_bytes(buffer.getvalue())
    store = open_store(Settings(data_dir=folder / "data"))
    assert import_sources(store, [folder / "events.jsonl"]).rejected == 0
    refresh_facts(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from _generated(tmp_path_factory.mktemp("planted"), planted=True)


@pytest.fixture(scope="module")
def stable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    yield from _generated(tmp_path_factory.mktemp("stable"), planted=False)


def flagged_queues(report: SignalReport, names: tuple[str, ...]) -> set[str]:
    return {
        s.segment.value
        for s in report.signals
        if s.segment.dimension == "inbox" and s.verdict == "worse" and s.name in names
    }


# -- generated data ---------------------------------------------------------------------


def test_finds_the_planted_degrading_queues(planted: Store) -> None:
    report = compute_signals(planted, QUARTER)
    # Their replies slow down from x1 to about x3 and their CSAT falls; nothing else does.
    slower = flagged_queues(report, ("first_response_up", "csat_down"))
    assert slower == set(DEGRADING_INBOXES), [s.sentence for s in report.signals]
    assert report.volume_compared  # 200 days of history reach back over both periods
    assert report.tests > 200


def test_a_signal_states_its_numbers_and_links_to_its_conversations(planted: Store) -> None:
    report = compute_signals(planted, QUARTER)
    sms = next(
        s
        for s in report.signals
        if s.name == "first_response_up" and s.segment.value == "inbox-sms"
    )
    current = sms.readings[0]
    assert current.metric == "first_response_mean"
    assert current.current is not None
    assert current.previous is not None
    assert current.current > 1.1 * current.previous
    assert min(current.current_n, current.previous_n) >= MIN_SAMPLE
    assert f"n = {current.current_n:,} now, {current.previous_n:,} before" in sms.sentence
    assert sms.sentence.startswith("In queue inbox-sms, average first response rose")
    assert "Holm" in sms.sentence
    assert sms.p_value < 0.05
    assert "staffing" in sms.coaching
    assert "before the people" in sms.coaching
    assert sms.conversations == {"inbox": "inbox-sms", "metric": "first_response_mean"}
    # The SMS channel is the SMS queue: said once, under the queue.
    assert [segment.label for segment in sms.also] == ["channel sms"]
    assert not any(s.segment.label == "channel sms" and s.name == sms.name for s in report.signals)


def test_signals_are_ranked_friction_first_then_by_strength(planted: Store) -> None:
    signals = compute_signals(planted, QUARTER).signals
    order = [(s.verdict == "better", -s.strength) for s in signals]
    assert order == sorted(order)


@pytest.mark.parametrize("window", [QUARTER, MONTH], ids=["90d", "30d"])
def test_stays_quiet_on_a_stable_data_set(stable: Store, window: Window) -> None:
    report = compute_signals(stable, window)
    assert report.signals == [], [s.sentence for s in report.signals]
    assert report.tests > 150  # quiet because nothing moved, not because nothing was tested


# -- seed 004: AHT falling while CSAT falls, planted by hand -----------------------------


def test_aht_down_while_csat_down_is_named_as_seed_004_says(store: Store) -> None:
    ingest_and_build(store, friction_week(rushed=True).events)
    report = compute_signals(store, WEEK)
    assert [(s.kind, s.name, s.segment.label) for s in report.signals] == [
        ("tension", "faster_less_happy", "queue inbox-rush")
    ], [s.sentence for s in report.signals]
    tension = report.signals[0]
    assert tension.title == "Faster, but customers less happy"
    assert "check whether contacts are rushed" in tension.coaching
    # Both moves, each with its numbers and sample sizes: 600 s -> 300 s (-50%), CSAT
    # (5+4+5+4+5)/5 = 4.60 -> (3+2+3+4+2)/5 = 2.80, 40 on each side.
    assert "average handle time fell 50% to 5m 00s (from 10m; n = 40 now, 40 before)" in (
        tension.sentence
    )
    assert "CSAT fell 1.80 to 2.80 (from 4.60; n = 40 now, 40 before)" in tension.sentence
    assert "Both moves are significant" in tension.sentence
    assert [r.metric for r in tension.readings] == ["aht_mean", "csat_mean"]
    assert tension.verdict == "mixed"
    assert tension.conversations == {"inbox": "inbox-rush", "metric": "csat_mean", "max_csat": "2"}
    # The billing inquiry and the email channel are the same 80 conversations.
    assert {s.label for s in tension.also} == {'inquiry "Billing"', "channel email"}
    # History does not reach back over the previous week: volume is not compared.
    assert not report.volume_compared


def test_csat_falling_while_resolution_holds(store: Store) -> None:
    ingest_and_build(store, friction_week(rushed=False).events)
    report = compute_signals(store, WEEK)
    assert [(s.kind, s.name, s.segment.label) for s in report.signals] == [
        ("tension", "resolved_less_happy", "queue inbox-rush")
    ], [s.sentence for s in report.signals]
    sentence = report.signals[0].sentence
    assert "first-contact resolution held at 100.0% (100.0% before; n = 40 now, 40 before" in (
        sentence
    )


def test_agents_get_the_same_team_level_signals(store: Store) -> None:
    ingest_and_build(store, friction_week(rushed=True).events)
    team = compute_signals(store, WEEK)
    mine = compute_signals(store, WEEK, Viewer(agent_id="ben"))
    assert [s.sentence for s in mine.signals] == [s.sentence for s in team.signals]
    # Queues, inquiries and channels only: no agent's name or id anywhere in it.
    text = repr(mine)
    assert "Rushwood" not in text
    assert "Steady" not in text
    assert not re.search(r"\b(ann|ben)\b", text)


def test_the_cache_answers_until_the_facts_change(store: Store) -> None:
    f = friction_week(rushed=True)
    ingest_and_build(store, f.events)
    first = find_signals(store, WEEK)
    assert find_signals(store, WEEK) is first
    # One more conversation in the week: new facts, a new answer.
    sent = len(f.events)
    c = f.conversation("late", customer="late", inbox="inbox-steady", channel="chat", at=3000)
    c.customer(at=3000)
    ingest_and_build(store, f.events[sent:])
    again = find_signals(store, WEEK)
    assert again is not first


# -- Holm and the minimum sample, on hand-made readings -----------------------------------

PERIOD = Period(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))


def escalations(
    value: str, now: float, before: float, n: int, dimension: str = "inbox"
) -> SegmentReading:
    return SegmentReading(
        Segment(dimension, value),  # type: ignore[arg-type]
        {"escalation_rate": MetricValue(now, n)},
        {"escalation_rate": MetricValue(before, n)},
    )


def names(signals: list[Signal]) -> list[tuple[str, str]]:
    return [(s.name, s.segment.value) for s in signals]


def test_a_move_that_stands_out_alone_is_noise_among_thirty_tests() -> None:
    # 30% against 20% escalated, 300 a side: z = 2.83, p = 0.0047.
    alone = signals_from_readings([escalations("q0", 0.30, 0.20, 300)], PERIOD, PERIOD.previous())
    assert names(alone.signals) == [("escalation_up", "q0")]
    assert alone.tests == 1
    assert alone.signals[0].p_value == pytest.approx(0.0047, abs=0.0002)
    # Beside 30 queues that did not move, Holm multiplies the smallest p by 31: 0.15.
    crowd = [escalations(f"q{i}", 0.25, 0.25, 300) for i in range(1, 31)]
    report = signals_from_readings(
        [escalations("q0", 0.30, 0.20, 300), *crowd], PERIOD, PERIOD.previous()
    )
    assert report.tests == 31
    assert report.signals == []


def test_fewer_than_the_minimum_sample_is_not_tested() -> None:
    # Escalations doubling, but on 29 conversations a side: not tested, not shown.
    small = signals_from_readings(
        [escalations("q0", 0.60, 0.10, MIN_SAMPLE - 1)], PERIOD, PERIOD.previous()
    )
    assert (small.tests, small.signals) == (0, [])
    assert small.too_small > 0
    enough = signals_from_readings(
        [escalations("q0", 0.60, 0.10, MIN_SAMPLE)], PERIOD, PERIOD.previous()
    )
    assert enough.tests == 1
    assert names(enough.signals) == [("escalation_up", "q0")]


def test_a_tiny_move_at_a_huge_sample_stays_quiet() -> None:
    # 21.5% against 20.0% on 100,000 a side: p is astronomically small, but 1.5 points is
    # under the 3-point minimum a lead would act on.
    report = signals_from_readings(
        [escalations("q0", 0.215, 0.20, 100_000)], PERIOD, PERIOD.previous()
    )
    assert report.tests == 1
    assert report.signals == []


def test_a_volume_surge_is_a_rate_per_day() -> None:
    reading = SegmentReading(
        Segment("inquiry", "technical_issue"),
        {"conversations": MetricValue(420, 420)},
        {"conversations": MetricValue(280, 280)},
    )
    report = signals_from_readings([reading], PERIOD, PERIOD.previous())
    assert names(report.signals) == [("volume_surge", "technical_issue")]
    sentence = report.signals[0].sentence
    assert sentence.startswith(
        'In inquiry "Technical issue", 60.0 conversations a day against 40.0 before (+50%; '
        "420 vs 280 conversations over 7 days each)."
    )
    # Without history over the previous period, volume is not compared at all.
    blind = signals_from_readings([reading], PERIOD, PERIOD.previous(), volume_compared=False)
    assert (blind.tests, blind.signals) == (0, [])


def test_the_period_compared_is_the_one_before_of_the_same_length(planted: Store) -> None:
    report = compute_signals(planted, MONTH)
    assert report.previous_period.end == report.period.start
    assert report.previous_period.length == report.period.length == timedelta(days=30)
