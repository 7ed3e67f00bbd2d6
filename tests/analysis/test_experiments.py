"""Experiments on live traffic: assignments from experiment.exposed events, per-variant
metrics from the conversation facts, and the verdict (tests/experiments_scenario.py).

Runs on DuckDB and on PostgreSQL (the `store` fixture).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime

import ibis.expr.types as ir
import pytest

from deskpulse.analysis.experiments import (
    EXPERIMENT_METRICS,
    Definition,
    ExperimentMetric,
    ExperimentResult,
    experiment_result,
)
from deskpulse.events.store import Store
from deskpulse.metrics.query import measure_rows
from deskpulse.metrics.registry import CONVERSATIONS
from tests.experiments_scenario import (
    KEY,
    NOW,
    planted,
    small_definition,
    small_experiment,
)
from tests.factories import ingest_and_build

# Reruns at other pinned instants in the clock guard (docs/clock.md).
pytestmark = pytest.mark.clock


@pytest.fixture
def small(store: Store) -> Store:
    ingest_and_build(store, small_experiment().events)
    return store


def values(result: ExperimentResult) -> dict[str, dict[str, tuple[float | None, int]]]:
    return {
        m.name: {v.variant: (None if v.value is None else round(v.value, 6), v.n) for v in m.values}
        for m in result.metrics
    }


def test_assignments_conversation_and_customer_level(small: Store) -> None:
    result = experiment_result(small, small_definition(), now=NOW)
    counts = {v.variant: (v.units, v.conversations) for v in result.variants}
    # control: a1, a2, d1. concise: b1, b2 and the exposed "ghost" conversation (a unit
    # without facts yet) plus customer u9 (one unit; one conversation inside the dates).
    assert counts == {"control": (3, 3), "concise": (4, 3)}
    assert result.double_exposed == 1  # d1: control, then concise
    assert result.unknown_variant_exposures == 1  # x1's "verbose"
    assert result.missing_conversations == 1  # "ghost"
    assert len(result.warnings) == 3
    assert "first" in result.warnings[0]
    assert result.status == "ended"
    assert result.daily_per_variant is None  # ended: no more traffic to wait for


def test_per_variant_metrics_exactly(small: Store) -> None:
    result = experiment_result(small, small_definition(), now=NOW)
    assert values(result) == {
        # a1 resolved by the bot; a2 and d1 escalated. All three concise ones resolved.
        "ai_resolved_rate": {"control": (round(1 / 3, 6), 3), "concise": (1.0, 3)},
        "csat_mean": {"control": (4.0, 2), "concise": (4.0, 1)},
        # b2 recorded no cost: unknown, not 0, so it is not in n (as the tile reads it).
        "cost_per_conversation": {"control": (0.2, 3), "concise": (0.05, 2)},
        "turns_mean": {"control": (1.0, 3), "concise": (round(4 / 3, 6), 3)},
        "escalation_rate": {"control": (round(2 / 3, 6), 3), "concise": (0.0, 3)},
    }
    # Far too few for any verdict: every metric's gate says how many are missing.
    assert result.verdict.action == "keep_running"
    assert not result.verdict.primary.gate.met
    assert "not enough data" in result.headline


def test_the_first_exposure_wins_for_customers_too(store: Store) -> None:
    from tests.experiments_scenario import ai_conversation, team
    from tests.factories import Events

    f = Events()
    team(f)
    f.add("experiment.exposed", 1, customer_id="u1", experiment=KEY, variant="concise")
    f.add("experiment.exposed", 2, customer_id="u1", experiment=KEY, variant="control")
    ai_conversation(f, "c1", at=5, customer="u1", resolved_by_ai=True)
    # A conversation exposed on its own after its customer was: the customer came first.
    ai_conversation(f, "c2", at=10, customer="u1", resolved_by_ai=True)
    f.on("c2", "u1").exposed(KEY, "control", at=10)
    ingest_and_build(store, f.events)
    result = experiment_result(store, small_definition(), now=NOW)
    counts = {v.variant: v.conversations for v in result.variants}
    assert counts == {"control": 0, "concise": 2}
    assert result.double_exposed == 2  # customer u1, and conversation c2


def test_metrics_mean_what_the_registry_says(small: Store) -> None:
    """Each experiment metric over one variant's conversations equals the registry
    metric's own aggregate over the same rows (`measure_rows`)."""
    every = tuple(EXPERIMENT_METRICS)
    definition = small_definition(guardrails=every)
    result = experiment_result(small, definition, now=NOW)
    members = {"control": ["a1", "a2", "d1"], "concise": ["b1", "b2", "u9-after"]}
    for reading in result.metrics:
        metric = EXPERIMENT_METRICS[reading.name]
        for value in reading.values:
            ids = members[value.variant]

            def narrow(t: ir.Table, ids: list[str] = ids, at: str = metric.time_column) -> ir.Table:
                return t.filter(t.conversation_id.isin(ids) & t[at].notnull())

            expected = measure_rows(small, CONVERSATIONS, narrow, [reading.name])[reading.name]
            assert value.n == expected.n, reading.name
            if expected.value is None:
                assert value.value is None, reading.name
            else:
                assert value.value == pytest.approx(float(expected.value)), reading.name


def test_outside_the_dates_nothing_counts(small: Store) -> None:
    later = small_definition(start=date(2026, 3, 3), end=date(2026, 3, 31))
    result = experiment_result(small, later, now=NOW)
    assert {v.variant: v.units for v in result.variants} == {"control": 0, "concise": 0}
    scheduled = experiment_result(small, later, now=datetime(2026, 3, 2, 12, tzinfo=UTC))
    assert scheduled.status == "scheduled"
    assert scheduled.headline.startswith("Not started")


def test_a_planted_effect_ships(store: Store) -> None:
    # 20% against 60% resolved, 200 conversations each: unmistakable. Planned to detect
    # a doubling (+100%), which needs fewer than 200 per variant.
    ingest_and_build(store, planted(200, 0.2, 0.6).events)
    definition = small_definition(guardrails=("escalation_rate",), mde_relative=1.0)
    result = experiment_result(store, definition, now=NOW)
    verdict = result.verdict
    assert values(result)["ai_resolved_rate"] == {"control": (0.2, 200), "concise": (0.6, 200)}
    assert verdict.action == "ship", verdict.reasons
    assert verdict.primary.significant
    assert verdict.primary.effect == "good"
    assert verdict.guardrails[0].effect == "good"  # fewer escalations: good news
    assert not verdict.srm.flagged
    assert result.headline.startswith("Ship concise: the primary metric's lift (+")
    # Fixed-horizon: the verdict was given, and locked, on the day the planned sample
    # was reached; reading later does not change it.
    assert verdict.locked
    assert verdict.locked_since == "2026-03-04"
    assert "Locked since 2026-03-04" in result.headline
    later = experiment_result(store, definition, now=datetime(2026, 4, 20, tzinfo=UTC))
    assert later.verdict == verdict
    # The chart: one point per day of the experiment, the last with everything.
    assert next(p.day for p in result.series) == date(2026, 3, 2)
    assert len(result.series) == 7
    last = result.series[-1]
    assert (last.n_control, last.n_treatment) == (200, 200)
    assert last.lift == pytest.approx(2.0)
    assert last.low is not None
    assert last.low > 0
    json.dumps(result.as_json(), allow_nan=False)


def test_no_effect_does_not_ship(store: Store) -> None:
    ingest_and_build(store, planted(200, 0.4, 0.4).events)
    result = experiment_result(store, small_definition(guardrails=()), now=NOW)
    verdict = result.verdict
    assert not verdict.primary.significant
    # The planned sample (for a +50% lift) is reached with no difference: keep control.
    assert verdict.action == "keep_control", verdict.reasons
    assert result.headline.startswith("Keep control: primary metric ai_resolved_rate is not")


def test_a_running_experiment_counts_days_to_decision(store: Store) -> None:
    ingest_and_build(store, planted(200, 0.40, 0.46).events)
    running = small_definition(end=None, guardrails=(), mde_relative=0.1)
    # Read when all 200 per variant are in, 4 days and 9 hours after the start date began
    # (fewer than 7 days: the traffic is averaged over the days so far, up to the latest
    # event).
    now = datetime(2026, 3, 6, 9, tzinfo=UTC)
    result = experiment_result(store, running, now=now)
    assert result.status == "running"
    assert result.daily_per_variant is not None
    assert 200 / 4.375 <= result.daily_per_variant < 200 / 4.3
    plan = result.verdict.power
    assert plan is not None
    assert plan.days_to_decision is not None
    assert plan.days_to_decision > 0
    assert result.verdict.action == "keep_running"
    assert f"about {plan.days_to_decision} more days" in result.headline


def test_days_to_decision_count_traffic_up_to_the_latest_data(store: Store) -> None:
    """Issue 15: read six days after the data ended, the empty days were counted as
    traffic-free days and 13 days to a decision read as 106."""
    ingest_and_build(store, planted(200, 0.40, 0.46).events)
    running = small_definition(end=None, guardrails=(), mde_relative=0.1)
    at_end = experiment_result(store, running, now=datetime(2026, 3, 6, 9, tzinfo=UTC))
    later = experiment_result(store, running, now=datetime(2026, 3, 12, 9, tzinfo=UTC))
    assert later.daily_per_variant == pytest.approx(at_end.daily_per_variant)
    assert at_end.verdict.power is not None
    assert later.verdict.power is not None
    assert later.verdict.power.days_to_decision == at_end.verdict.power.days_to_decision
    assert [v.recent_daily for v in later.variants] == pytest.approx(
        [v.recent_daily for v in at_end.variants]
    )


def test_sequential_and_mann_whitney_options(small: Store) -> None:
    definition = small_definition(sequential=True, mann_whitney=True)
    result = experiment_result(small, definition, now=NOW)
    assert result.verdict.sequential
    cost = next(g for g in result.verdict.guardrails if g.name == "cost_per_conversation")
    assert cost.comparison is not None
    assert cost.comparison.test == "mann_whitney_u"


@pytest.mark.parametrize("options", [{}, {"sequential": True, "mann_whitney": True}])
def test_a_result_reads_back_from_its_json(small: Store, options: dict[str, bool]) -> None:
    # What the API answers is what the CLI renders from: it must come back whole.
    result = experiment_result(small, small_definition(**options), now=NOW)
    assert ExperimentResult.from_json(json.loads(json.dumps(result.as_json()))) == result


def test_a_non_finite_number_reads_back_as_nan(small: Store) -> None:
    # as_json writes inf and NaN as null (strict JSON); a float field takes NaN again.
    result = experiment_result(small, small_definition(), now=NOW)
    described = json.loads(json.dumps(result.as_json()))
    described["verdict"]["srm"]["statistic"] = None
    back = ExperimentResult.from_json(described)
    assert math.isnan(back.verdict.srm.statistic)
    assert back.verdict.srm.p_value == result.verdict.srm.p_value


def test_definitions_are_checked() -> None:
    with pytest.raises(ValueError, match="variants"):
        Definition(key=KEY, variants=("a", "a"), primary="csat_mean", start=date(2026, 1, 1))
    with pytest.raises(ValueError, match="metric"):
        Definition(key=KEY, variants=("a", "b"), primary="nps", start=date(2026, 1, 1))
    with pytest.raises(ValueError, match="mde_relative"):
        Definition(
            key=KEY,
            variants=("a", "b"),
            primary="csat_mean",
            start=date(2026, 1, 1),
            sequential=True,
            mde_relative=None,
        )


def test_no_exposures_at_all(store: Store) -> None:
    ingest_and_build(store, [])
    result = experiment_result(store, small_definition(), now=NOW)
    assert result.assigned == 0
    assert result.verdict.action == "keep_running"
    assert result.series == ()  # nothing to draw


def test_an_experiment_metric_is_a_per_row_rate_or_mean_of_the_registry() -> None:
    with pytest.raises(ValueError, match="'conversations' has no per-row reading"):
        ExperimentMetric("conversations")
    with pytest.raises(ValueError, match="'first_response_median' is not a rate or a mean"):
        ExperimentMetric("first_response_median")
    escalations = EXPERIMENT_METRICS["escalation_rate"]
    assert (escalations.kind, escalations.direction) == ("rate", "lower_is_better")
    assert EXPERIMENT_METRICS["csat_mean"].kind == "mean"


def test_planned_sample_in_with_the_mde_still_possible_is_inconclusive(store: Store) -> None:
    # 40% against 45%, 200 each; planned for +35% (40% -> 54%), reached by the end: not
    # significant, and +14 points is still inside the interval: "inconclusive", not
    # "keep control" (issue 15's futility rule).
    ingest_and_build(store, planted(200, 0.40, 0.45).events)
    result = experiment_result(store, small_definition(guardrails=(), mde_relative=0.35), now=NOW)
    verdict = result.verdict
    assert verdict.power is not None
    assert not verdict.primary.significant
    assert verdict.action == "inconclusive", verdict.reasons
    assert verdict.locked
    assert result.headline.startswith("Inconclusive: the planned sample is in")
