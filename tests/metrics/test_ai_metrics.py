"""The AI agent metrics, filters and groupings of query() on hand-built timelines.

Runs on DuckDB and on PostgreSQL (the `store` fixture). The day is described in
tests/ai_agents_scenario.py; docs/metrics.md ("Metrics: AI agent analytics") uses the same
numbers in its examples.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from deskpulse.events.store import Store
from deskpulse.metrics.query import (
    Filters,
    MetricValue,
    NotVisibleError,
    Query,
    QueryError,
    Viewer,
    measure_rows,
    query,
)
from tests.ai_agents_scenario import AS_OF, ai_day
from tests.factories import Events, ingest_and_build

DAY = 24 * 60


@pytest.fixture
def day(store: Store) -> Store:
    ingest_and_build(store, ai_day().events)
    return store


def ask(store: Store, metrics: list[str], viewer: Viewer | None = None, **more: Any) -> Any:
    q = Query(metrics=metrics, period="7d", as_of=AS_OF, **more)
    return query(store, q) if viewer is None else query(store, q, viewer)


def values(row: Any) -> dict[str, tuple[Any, int]]:
    return {name: (v.value, v.n) for name, v in row.metrics.items()}


def test_every_conversation(day: Store) -> None:
    row = ask(
        day,
        [
            "conversations",
            "escalations",
            "first_resolution_mean",
            "first_resolution_p95",
            "csat_detractor_rate",
            "first_resolution_mean_business",
        ],
    ).single()
    assert values(row) == {
        "conversations": (5, 5),
        "escalations": (2, 5),
        # 300, 1,800, 3,600, 600 and 1,200 s
        "first_resolution_mean": (1500.0, 5),
        # sorted 300, 600, 1,200, 1,800, 3,600: position 3.8 -> 1,800 + 0.8 x 1,800
        "first_resolution_p95": (3240.0, 5),
        # scores 5, 1, 2, 5, 4
        "csat_detractor_rate": (0.4, 5),
        # no schedule: business time is calendar time
        "first_resolution_mean_business": (1500.0, 5),
    }


def test_ai_involved_filter_keeps_the_ai_agents_conversations(day: Store) -> None:
    metrics = [
        "conversations",
        "ai_handled_rate",
        "ai_resolved_rate",
        "escalation_rate",
        "escalations",
        "first_resolution_mean",
        "first_resolution_p95",
        "csat_mean",
        "csat_detractor_rate",
        "cost_per_conversation",
        "cost_total",
        "turns_mean",
    ]
    row = ask(day, metrics, filters=Filters(ai_involved=True)).single()
    assert values(row) == {
        "conversations": (4, 4),
        "ai_handled_rate": (0.5, 4),
        "ai_resolved_rate": (0.5, 4),
        "escalation_rate": (0.5, 4),
        "escalations": (2, 4),
        "first_resolution_mean": (1575.0, 4),
        "first_resolution_p95": (3330.0, 4),
        "csat_mean": (3.25, 4),
        "csat_detractor_rate": (0.5, 4),
        "cost_per_conversation": (0.275, 4),
        "cost_total": (1.1, 4),
        "turns_mean": (1.0, 4),
    }


def test_human_only_conversations(day: Store) -> None:
    row = ask(
        day,
        ["conversations", "csat_mean", "first_resolution_mean", "cost_total", "escalation_rate"],
        filters=Filters(ai_involved=False, agent_kind="human"),
    ).single()
    assert values(row) == {
        "conversations": (1, 1),
        "csat_mean": (4.0, 1),
        "first_resolution_mean": (1200.0, 1),
        "cost_total": (None, 0),  # no cost recorded: no sample, not $0
        "escalation_rate": (0.0, 1),
    }


def test_ai_agent_filter_and_group(day: Store) -> None:
    bot = ask(
        day, ["conversations", "escalations", "csat_mean"], filters=Filters(ai_agent="bot")
    ).single()
    assert values(bot) == {
        "conversations": (3, 3),
        "escalations": (1, 3),
        "csat_mean": (pytest.approx(11 / 3), 3),
    }
    grouped = ask(day, ["conversations", "cost_total"], group_by=["ai_agent"])
    assert {r.group["ai_agent"]: values(r) for r in grouped.rows} == {
        None: {"conversations": (1, 1), "cost_total": (None, 0)},
        "bot": {"conversations": (3, 3), "cost_total": (0.8, 3)},
        "bot2": {"conversations": (1, 1), "cost_total": (0.3, 1)},
    }


def test_ai_agent_filter_on_a_table_without_the_column(day: Store) -> None:
    # resolution_facts has no ai_agent_id: the filter goes through the conversations.
    row = ask(day, ["resolved"], filters=Filters(ai_agent="bot")).single()
    assert values(row) == {"resolved": (3, 3)}  # c1, c2 and c4
    row = ask(day, ["resolved"], filters=Filters(ai_involved=False)).single()
    assert values(row) == {"resolved": (1, 1)}


def test_escalation_reasons(day: Store) -> None:
    result = ask(day, ["escalations"], group_by=["escalation_reason"])
    assert {r.group["escalation_reason"]: values(r)["escalations"] for r in result.rows} == {
        None: (0, 3),
        "customer_request": (1, 1),
        "low_confidence": (1, 1),
    }


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("customer_tier", {None: 1, "free": 2, "gold": 2}),
        ("language", {"de": 1, "en": 4}),
        ("inquiry", {"billing": 3, "login": 2}),
        ("channel", {"chat": 4, "email": 1}),
        ("hour", {"09": 1, "10": 1, "11": 1, "12": 1, "13": 1}),
    ],
)
def test_group_by_attribute(day: Store, group: str, expected: dict[str | None, int]) -> None:
    result = ask(day, ["conversations"], group_by=[group])
    assert {r.group[group]: r.metrics["conversations"].value for r in result.rows} == expected


def test_hour_is_in_the_reporting_time_zone(tmp_path: Any) -> None:
    from deskpulse.events.store import open_store
    from deskpulse.settings import Settings

    store = open_store(Settings(data_dir=tmp_path / "data", reporting_timezone="America/New_York"))
    try:
        ingest_and_build(store, ai_day().events)
        result = ask(store, ["conversations"], group_by=["hour"])
        # 09:00 UTC on 2 March is 04:00 in New York (EST, UTC-5).
        assert [r.group["hour"] for r in result.rows] == ["04", "05", "06", "07", "08"]
    finally:
        store.close()


def test_grouping_a_metric_without_the_column_is_refused(day: Store) -> None:
    with pytest.raises(QueryError) as error:
        ask(day, ["resolved"], group_by=["ai_agent"])
    assert error.value.field == "group_by"


def test_agents_see_ai_agents_but_not_other_people(day: Store) -> None:
    alice = Viewer(agent_id="alice")
    grouped = ask(day, ["conversations"], alice, group_by=["ai_agent"])
    assert {r.group["ai_agent"] for r in grouped.rows} == {None, "bot", "bot2"}
    with pytest.raises(NotVisibleError):
        ask(day, ["conversations"], alice, filters=Filters(agent="bob"))


def seed_003_csat_detractors(csat_scores: list[float]) -> str:
    """Seed 003's `csat_detractors`, copied as written."""

    def safe_pct(values: list[int]) -> float:
        return (sum(values) / len(values) * 100) if values else 0

    return f"{100 - safe_pct([1 for c in csat_scores if c <= 2])}%"


def test_detractor_share_counts_detractors_not_seed_003s_complement(store: Store) -> None:
    """Scores 1, 5, 5, 5: one detractor in four is 25%. Seed 003's `100 - pct(...)`
    would say 75% read as intended (the share that are not detractors), and as written
    says 0% (a percentage of a list of ones is 100 whenever there is a detractor)."""
    f = Events()
    for index, score in enumerate([1, 5, 5, 5]):
        c = f.conversation(f"c{index}", customer=f"u{index}", at=index * 10)
        c.customer(at=index * 10).ai_reply("bot", at=index * 10 + 1)
        c.resolve(at=index * 10 + 2).survey("csat", score, at=index * 10 + 3)
    ingest_and_build(store, f.events)
    row = ask(store, ["csat_detractor_rate", "csat_satisfied_rate"]).single()
    assert values(row) == {"csat_detractor_rate": (0.25, 4), "csat_satisfied_rate": (0.75, 4)}
    assert 100 - 25 == 75  # seed 003's formula as intended: the complement
    assert seed_003_csat_detractors([1, 5, 5, 5]) == "0.0%"  # and as written


def recency_events(end: datetime) -> Events:
    """A 2 answered 14 days before `end` and a 5 answered 7 days before."""
    f = Events(start=end - timedelta(days=20))
    for conversation, score, answered_day in (("old", 2, 6), ("new", 5, 13)):
        at = answered_day * DAY
        c = f.conversation(conversation, customer=conversation, at=at - 60)
        c.customer(at=at - 60).ai_reply("bot", at=at - 59).resolve(at=at - 1)
        c.survey("csat", score, at=at)
    return f


@pytest.mark.parametrize(
    ("half_life", "expected"),
    [
        (7.0, 4.0),  # weights 0.5 and 0.25: (2.5 + 0.5) / 0.75
        (3.5, 4.4),  # weights 0.25 and 0.0625: (1.25 + 0.125) / 0.3125
        (3650.0, 3.5),  # a ten-year half-life is (almost) the plain mean
    ],
)
def test_recency_weighted_csat(store: Store, half_life: float, expected: float) -> None:
    end = datetime(2026, 3, 20, tzinfo=UTC)
    ingest_and_build(store, recency_events(end).events)
    q = Query(
        metrics=["csat_recency_weighted", "csat_mean"],
        period="custom",
        half_life_days=half_life,
        **{"from": end - timedelta(days=20), "to": end},
    )
    row = query(store, q).single()
    assert row.metrics["csat_recency_weighted"].value == pytest.approx(expected, abs=1e-3)
    assert row.metrics["csat_recency_weighted"].n == 2
    assert row.metrics["csat_mean"] == MetricValue(3.5, 2)


def test_recency_weighting_uses_the_default_half_life_of_7_days(store: Store) -> None:
    end = datetime(2026, 3, 20, tzinfo=UTC)
    ingest_and_build(store, recency_events(end).events)
    q = Query(
        metrics=["csat_recency_weighted"],
        period="custom",
        **{"from": end - timedelta(days=20), "to": end},
    )
    assert query(store, q).single().metrics["csat_recency_weighted"].value == pytest.approx(4.0)


def test_recency_weighting_of_the_previous_period_is_relative_to_its_own_end(
    store: Store,
) -> None:
    end = datetime(2026, 3, 20, tzinfo=UTC)
    ingest_and_build(store, recency_events(end).events)
    q = Query(
        metrics=["csat_recency_weighted"],
        period="custom",
        compare=True,
        **{"from": end, "to": end + timedelta(days=20)},
    )
    row = query(store, q).single()
    assert row.metrics["csat_recency_weighted"] == MetricValue(None, 0)
    assert row.previous is not None
    assert row.previous["csat_recency_weighted"].value == pytest.approx(4.0)


def test_half_life_must_be_positive() -> None:
    with pytest.raises(ValidationError):
        Query(metrics=["csat_recency_weighted"], half_life_days=0)


def test_recency_weighting_cannot_be_measured_over_rows(day: Store) -> None:
    with pytest.raises(QueryError):
        measure_rows(day, "conversation_facts", lambda t: t, ["csat_recency_weighted"])
