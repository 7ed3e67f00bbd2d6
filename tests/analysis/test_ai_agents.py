"""AI agent analytics on the hand-built day of tests/ai_agents_scenario.py: every number
of the report, per AI agent and for all of them, with the human comparison.

Runs on DuckDB and on PostgreSQL (the `store` fixture).
"""

from __future__ import annotations

import pytest

from deskpulse.analysis.ai_agents import (
    ReasonShare,
    ai_agents_report,
    find_ai_agent,
    list_ai_agents,
)
from deskpulse.events.store import Store
from deskpulse.metrics.query import MetricValue, NotVisibleError, Viewer
from tests.ai_agents_scenario import WEEK, ai_day
from tests.factories import Events, ingest_and_build


@pytest.fixture
def day(store: Store) -> Store:
    ingest_and_build(store, ai_day().events)
    return store


def plain(metrics: dict[str, MetricValue]) -> dict[str, tuple[object, int]]:
    return {name: (v.value, v.n) for name, v in metrics.items()}


def test_all_ai_agents(day: Store) -> None:
    report = ai_agents_report(day, WEEK)
    assert report.agent is None
    overall = plain(report.overall)
    assert overall == {
        "conversations": (4, 4),
        "ai_handled_rate": (0.5, 4),
        "ai_resolved_rate": (0.5, 4),
        "escalation_rate": (0.5, 4),
        "escalations": (2, 4),
        "first_resolution_mean": (1575.0, 4),
        "first_resolution_p95": (3330.0, 4),
        "csat_mean": (3.25, 4),
        "csat_recency_weighted": overall["csat_recency_weighted"],  # checked below
        "csat_detractor_rate": (0.5, 4),
        "cost_per_conversation": (0.275, 4),
        "cost_total": (1.1, 4),
        "turns_mean": (1.0, 4),
    }
    # Answers given at most hours apart, about 6.5 days before the period end: the weights
    # barely differ, so the weighted mean stays near the plain 3.25.
    weighted, n = overall["csat_recency_weighted"]
    assert n == 4
    assert 3.2 < float(weighted) < 3.3  # type: ignore[arg-type]


def test_escalation_reasons_with_shares(day: Store) -> None:
    report = ai_agents_report(day, WEEK)
    assert report.reasons == (
        ReasonShare("customer_request", 1, 0.5),
        ReasonShare("low_confidence", 1, 0.5),
    )
    assert report.escalated == 2


def test_per_ai_agent(day: Store) -> None:
    report = ai_agents_report(day, WEEK)
    assert [row.agent_id for row in report.agents] == ["bot", "bot2"]  # busiest first
    bot, bot2 = report.agents
    assert bot.name == "Billing Bot"
    assert plain(bot.metrics)["conversations"] == (3, 3)
    assert bot.metrics["escalation_rate"].value == pytest.approx(1 / 3)
    assert bot.metrics["ai_resolved_rate"].value == pytest.approx(2 / 3)
    assert bot.metrics["csat_mean"] == MetricValue(pytest.approx(11 / 3), 3)  # type: ignore[arg-type]
    assert plain(bot.metrics)["cost_total"] == (0.8, 3)
    assert bot.reasons == (ReasonShare("low_confidence", 1, 1.0),)
    assert plain(bot2.metrics)["csat_detractor_rate"] == (1.0, 1)
    assert bot2.reasons == (ReasonShare("customer_request", 1, 1.0),)


def test_human_comparison_is_a_team_aggregate(day: Store) -> None:
    report = ai_agents_report(day, WEEK)
    humans = plain(report.humans)
    assert humans["conversations"] == (1, 1)
    assert humans["csat_mean"] == (4.0, 1)
    assert humans["first_resolution_mean"] == (1200.0, 1)
    assert humans["resolution_rate"] == (1.0, 1)
    assert humans["cost_total"] == (None, 0)
    assert plain(report.everything) == {"conversations": (5, 5), "ai_handled_rate": (0.4, 5)}


def test_breakdowns(day: Store) -> None:
    report = ai_agents_report(day, WEEK)

    def counts(dimension: str) -> dict[str | None, object]:
        return {row.key: row.metrics["conversations"].value for row in report.breakdowns[dimension]}

    assert counts("inquiry") == {"billing": 2, "login": 2}
    assert counts("channel") == {"chat": 3, "email": 1}
    assert counts("language") == {"en": 3, "de": 1}
    assert counts("customer_tier") == {"gold": 2, "free": 2}
    assert [row.key for row in report.breakdowns["hour"]] == ["09", "10", "11", "12"]
    login = next(row for row in report.breakdowns["inquiry"] if row.key == "login")
    assert plain(login.metrics)["escalation_rate"] == (0.5, 2)
    assert plain(login.metrics)["cost_per_conversation"] == (0.2, 2)


def test_one_ai_agent(day: Store) -> None:
    report = ai_agents_report(day, WEEK, agent_id="bot2")
    assert report.agent is not None
    assert report.agent.name == "Login Bot"
    assert plain(report.overall)["conversations"] == (1, 1)
    assert plain(report.overall)["escalation_rate"] == (1.0, 1)
    assert [row.agent_id for row in report.agents] == ["bot2"]
    assert {row.key for row in report.breakdowns["inquiry"]} == {"login"}
    # The human comparison stays the team's.
    assert plain(report.humans)["conversations"] == (1, 1)


@pytest.mark.parametrize("agent_id", ["alice", "bob", "nobody"])
def test_a_human_or_unknown_id_is_not_an_ai_agent(day: Store, agent_id: str) -> None:
    with pytest.raises(NotVisibleError):
        find_ai_agent(day, agent_id)
    with pytest.raises(NotVisibleError):
        ai_agents_report(day, WEEK, agent_id=agent_id)


def test_an_unannounced_ai_agent_is_found_by_its_replies(store: Store) -> None:
    f = Events()
    f.conversation("x1").customer(at=0).ai_reply("ghost", at=1)
    ingest_and_build(store, f.events)
    assert find_ai_agent(store, "ghost").kind == "ai"
    assert [agent.agent_id for agent in list_ai_agents(store)] == ["ghost"]


def test_agents_get_the_same_ai_numbers(day: Store) -> None:
    team = ai_agents_report(day, WEEK)
    alice = ai_agents_report(day, WEEK, Viewer(agent_id="alice"))
    assert alice.overall == team.overall
    assert alice.humans == team.humans
    assert [row.agent_id for row in alice.agents] == ["bot", "bot2"]


def test_an_ai_agent_without_conversations_is_listed_with_empty_samples(day: Store) -> None:
    f = Events()
    f.agent("idle", name="Idle Bot", kind="ai")
    f.events[0]["id"] = "idle-upserted"  # ev-1 is taken: the store would count it once
    ingest_and_build(day, f.events)
    report = ai_agents_report(day, WEEK)
    idle = next(row for row in report.agents if row.agent_id == "idle")
    assert idle.metrics["conversations"] == MetricValue(None, 0)
    assert report.agents[-1].agent_id == "idle"


def test_an_empty_install(store: Store) -> None:
    report = ai_agents_report(store, WEEK)
    assert report.overall["conversations"] == MetricValue(None, 0)
    assert report.agents == ()
    assert report.reasons == ()
