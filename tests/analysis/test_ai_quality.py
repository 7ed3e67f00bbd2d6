"""The AI quality report on the hand-built day of tests/ai_agents_scenario.py: checks
against targets with their severities, recommendations, the benchmark table, the
executive summary's arithmetic and the CSV export.

Runs on DuckDB and on PostgreSQL (the `store` fixture).
"""

from __future__ import annotations

import csv
import io

import pytest

from deskpulse.analysis.ai_quality import (
    CSV_HEADER,
    SEED_BENCHMARKS,
    Targets,
    quality_csv,
    quality_report,
)
from deskpulse.events.store import Store
from deskpulse.metrics.query import MetricValue
from tests.ai_agents_scenario import WEEK, ai_day
from tests.factories import Events, ingest_and_build


@pytest.fixture
def day(store: Store) -> Store:
    ingest_and_build(store, ai_day().events)
    return store


def test_seed_003_defaults() -> None:
    targets = Targets()
    assert (targets.csat_floor, targets.csat_target) == (4.0, 4.2)
    assert (targets.escalation_ceiling, targets.escalation_target) == (0.15, 0.10)
    assert (targets.cost_ceiling, targets.cost_target) == (0.40, 0.25)
    assert targets.half_life_days == 7.0


def test_checks_with_default_targets(day: Store) -> None:
    quality = quality_report(day, WEEK)
    checks = {check.area: check for check in quality.checks}
    # CSAT 3.25 < 4.0: high. Escalation 50% > 15%: medium. Cost 0.275 is under the
    # 0.40 ceiling but over the 0.25 target: no issue, short of target.
    assert checks["CSAT"].status == "issue"
    assert checks["CSAT"].severity == "high"
    assert checks["CSAT"].reading == MetricValue(3.25, 4)
    assert checks["Escalation"].status == "issue"
    assert checks["Escalation"].severity == "medium"
    assert checks["Cost"].status == "short"
    assert checks["Cost"].severity == "low"
    assert checks["Cost"].recommendation == ""
    assert [issue.area for issue in quality.issues] == ["CSAT", "Escalation"]
    # Four responses: marked as few, and the recommendation says so first.
    assert checks["CSAT"].few
    assert checks["CSAT"].recommendation.startswith("Only 4 in the sample")


def test_recommendations_name_where_to_look(day: Store) -> None:
    quality = quality_report(day, WEEK)
    checks = {check.area: check for check in quality.checks}
    csat = checks["CSAT"].recommendation
    assert "CSAT 3.25 from 4 responses, 50% of them scoring 1\u20132" in csat
    escalation = checks["Escalation"].recommendation
    assert "50.0% of AI conversations were escalated (2 of 4)" in escalation
    assert "most common reason is 'customer_request' (50%)" in escalation


def test_targets_are_configurable(day: Store) -> None:
    lenient = Targets(
        csat_floor=3.0,
        csat_target=3.2,
        escalation_ceiling=0.6,
        escalation_target=0.5,
        cost_ceiling=0.2,
        cost_target=0.1,
    )
    quality = quality_report(day, WEEK, targets=lenient)
    statuses = {check.area: check.status for check in quality.checks}
    assert statuses == {"CSAT": "met", "Escalation": "met", "Cost": "issue"}
    cost = quality.issues[0]
    assert cost.severity == "low"
    assert "$0.275 per conversation over 4 ($1.10 in total, 1.0 turns on average)" in (
        cost.recommendation
    )


def test_no_data_is_not_an_issue(store: Store) -> None:
    quality = quality_report(store, WEEK)
    assert {check.status for check in quality.checks} == {"no_data"}
    assert quality.issues == ()
    assert quality.summary.cost_saved is None
    assert quality.summary.csat_difference is None


def test_executive_summary_arithmetic(day: Store) -> None:
    quality = quality_report(day, WEEK, targets=Targets(human_cost_per_conversation=9.5))
    summary = quality.summary
    assert summary.all_conversations == 5
    assert summary.ai_handled_conversations == 2  # c1 and c4
    assert summary.ai_share == MetricValue(0.4, 5)
    # 2 AI-handled x 9.50 - 1.10, what all four AI conversations cost (c2 and c3 were
    # handed over: their AI cost bought no saving).
    assert summary.cost_saved == pytest.approx(17.9)
    assert summary.ai_cost_total == MetricValue(1.1, 4)
    assert summary.csat_ai == MetricValue(3.25, 4)
    assert summary.csat_human == MetricValue(4.0, 1)
    assert summary.csat_difference == pytest.approx(-0.75)
    assert summary.ai_cost_recorded
    assert quality.notes == ()


def test_savings_are_flagged_when_no_ai_cost_was_recorded(store: Store) -> None:
    f = Events()
    f.agent("bot", kind="ai")
    f.conversation("x1").customer(at=0).ai_reply("bot", at=1).resolve(at=2)
    ingest_and_build(store, f.events)
    quality = quality_report(store, WEEK)
    assert quality.summary.cost_saved == 10.0  # 1 x 10.00 - nothing recorded
    assert not quality.summary.ai_cost_recorded
    assert "overstated" in quality.notes[0]


def test_benchmark_table(day: Store) -> None:
    quality = quality_report(day, WEEK)
    rows = {row.label: row for row in quality.benchmarks}
    assert [row.label for row in quality.benchmarks] == [b[0] for b in SEED_BENCHMARKS]
    # Seed 003's table, as written there.
    assert (rows["CSAT score"].tier1, rows["CSAT score"].ai_target, rows["CSAT score"].best) == (
        "3.8/5.0",
        "4.2/5.0",
        "4.6/5.0",
    )
    assert rows["Cost per issue"].ai_target == "$0.15\u20130.40"
    assert rows["Escalation rate"].best == "<10%"
    assert rows["Resolution rate"].ai == MetricValue(0.5, 4, pending=0)
    assert rows["Resolution rate"].human == MetricValue(1.0, 1, pending=0)
    assert rows["Avg. resolution time"].ai == MetricValue(1575.0, 4)
    # No cost recorded on people's conversations: the setting stands in, and says so.
    assert rows["Cost per issue"].human is None
    assert rows["Cost per issue"].human_note == "$10.00 (your setting)"


def test_csv_export(day: Store) -> None:
    text = quality_csv(quality_report(day, WEEK))
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_HEADER
    by_item = {(row[0], row[1]): row for row in rows[1:]}
    saved = by_item[("summary", "Cost saved")]
    assert saved[2] == "18.90"  # 2 x 10.00 - 1.10 (all four AI conversations cost)
    assert by_item[("summary", "CSAT difference (AI - human)")][2:6] == [
        "3.2500",
        "4",
        "4.0000",
        "1",
    ]
    csat = by_item[("check", "CSAT")]
    assert csat[6:10] == ["4.0000", "4.2000", "high", "Issue"]
    assert by_item[("benchmark", "Escalation rate")][2:6] == ["0.5000", "4", "0.0000", "1"]
    assert by_item[("escalation reason", "low_confidence")][2:4] == ["1", "2"]
    assert text.endswith("\r\n")
