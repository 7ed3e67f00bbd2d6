"""AI agent analytics (seed 003, issue 5): what each AI agent handles, resolves, escalates
and costs, how customers rate it, and the same numbers for the conversations people
handled alone, for comparison.

Every number comes from `metrics.query` with the registry's metrics, filtered to the
conversations an AI agent replied to publicly (`ai_involved`) or to one AI agent's
conversations (`ai_agent`, the first AI agent that replied). This module only picks the
metrics, groups them, names AI agents and divides escalation counts into reason shares.

Who sees what: AI agents are not colleagues, so every role that may read analytics sees
every AI agent's numbers. Human figures appear only as one team aggregate
("conversations handled by humans only"), never per person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deskpulse.analysis.agents import Agent
from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist
from deskpulse.metrics.periods import Period
from deskpulse.metrics.query import (
    DEFAULT_HALF_LIFE_DAYS,
    TEAM_VIEWER,
    Filters,
    GroupBy,
    MetricValue,
    NotVisibleError,
    Query,
    QueryResult,
    Viewer,
    query,
)
from deskpulse.metrics.registry import CONVERSATIONS
from deskpulse.metrics.report import agent_directory
from deskpulse.metrics.window import Window
from deskpulse.names import reason_label

# The headline numbers of all AI agents together and of each AI agent.
AI_METRICS: tuple[str, ...] = (
    "conversations",
    "ai_handled_rate",
    "ai_resolved_rate",
    "escalation_rate",
    "escalations",
    "first_resolution_mean",
    "first_resolution_p95",
    "csat_mean",
    "csat_recency_weighted",
    "csat_detractor_rate",
    "cost_per_conversation",
    "cost_total",
    "turns_mean",
)
# The same for conversations people handled alone (no AI reply). AI-handled and
# AI-resolved mean nothing there; the resolution rate stands in for AI-resolved in the
# benchmark table.
HUMAN_METRICS: tuple[str, ...] = (
    "conversations",
    "resolution_rate",
    "escalation_rate",
    "first_resolution_mean",
    "first_resolution_p95",
    "csat_mean",
    "csat_recency_weighted",
    "csat_detractor_rate",
    "cost_per_conversation",
    "cost_total",
    "turns_mean",
)
# One row per inquiry, channel, language, tier or hour of day.
BREAKDOWN_METRICS: tuple[str, ...] = (
    "conversations",
    "ai_resolved_rate",
    "escalation_rate",
    "csat_mean",
    "cost_per_conversation",
    "turns_mean",
)
BREAKDOWNS: tuple[tuple[GroupBy, str], ...] = (
    ("inquiry", "Inquiry"),
    ("channel", "Channel"),
    ("language", "Language"),
    ("customer_tier", "Customer tier"),
    ("hour", "Hour of day"),
)

# Where the conversations of AI agents are: an AI agent replied publicly.
AI_CONVERSATIONS = Filters(ai_involved=True)
# The human comparison: a person replied publicly and no AI agent did.
HUMAN_ONLY_CONVERSATIONS = Filters(ai_involved=False, agent_kind="human")


@dataclass(frozen=True)
class ReasonShare:
    """One escalation reason: how many escalated conversations gave it, and their share
    of all escalated conversations (None when nothing was escalated)."""

    reason: str | None  # None: escalated without a reason
    count: int
    share: float | None

    @property
    def label(self) -> str:
        """The reason as recorded (exports keep it)."""
        return self.reason if self.reason else "no reason given"

    @property
    def display(self) -> str:
        """The reason as a person reads it: `low_confidence` -> "Low confidence"."""
        return reason_label(self.reason) if self.reason else "no reason given"


@dataclass(frozen=True)
class AiAgentRow:
    """One AI agent's numbers for the period."""

    agent_id: str
    name: str
    active: bool
    announced: bool  # known from agent.upserted (else only seen replying as an AI agent)
    metrics: dict[str, MetricValue]
    reasons: tuple[ReasonShare, ...]


@dataclass(frozen=True)
class BreakdownRow:
    key: str | None  # None: conversations without that attribute (e.g. no language)
    metrics: dict[str, MetricValue]


@dataclass(frozen=True)
class AiAgentsReport:
    """All AI agents (agent None) or one AI agent, with the human comparison."""

    period: Period
    half_life_days: float
    agent: Agent | None
    overall: dict[str, MetricValue]
    reasons: tuple[ReasonShare, ...]
    agents: tuple[AiAgentRow, ...]
    breakdowns: dict[str, tuple[BreakdownRow, ...]]
    # Team aggregates, never per person: conversations handled by humans only, and every
    # conversation of the period (conversations, ai_handled_rate = share AI handled).
    humans: dict[str, MetricValue]
    everything: dict[str, MetricValue]

    @property
    def escalated(self) -> int:
        return sum(reason.count for reason in self.reasons)


def _agent_of(agent_id: str, known: dict[str, Any] | None) -> Agent:
    known = known or {}
    return Agent(
        agent_id=agent_id,
        name=str(known.get("name") or agent_id),
        kind="ai",
        team_ids=tuple(known.get("team_ids") or ()),
        active=bool(known.get("active", True)),
    )


def find_ai_agent(store: Store, agent_id: str) -> Agent:
    """The AI agent `agent_id`, or NotVisibleError for a human agent or an unknown id.

    An AI agent is one announced with kind "ai", or one seen replying as an AI agent
    without an announcement. Every role may open AI agents; a human id answers exactly as
    an unknown one, so these pages never reveal who the people are.
    """
    known = agent_directory(store).get(agent_id)
    if known is not None:
        if (known.get("kind") or "human") != "ai":
            raise NotVisibleError("no such AI agent")
        return _agent_of(agent_id, known)
    if facts_exist(store):
        table = store.con.table(CONVERSATIONS)
        seen = table.filter(table.ai_agent_id == agent_id).count().to_pyarrow().as_py()
        if int(seen):
            return _agent_of(agent_id, None)
    raise NotVisibleError("no such AI agent")


def _reasons(rows: list[tuple[str | None, MetricValue]]) -> tuple[ReasonShare, ...]:
    """Reasons with at least one escalation, most frequent first."""
    counts = [(reason, int(value.value or 0)) for reason, value in rows]
    total = sum(count for _, count in counts)
    found = [
        ReasonShare(reason, count, round(count / total, 9) if total else None)
        for reason, count in counts
        if count > 0
    ]
    return tuple(sorted(found, key=lambda r: (-r.count, r.reason is None, r.reason or "")))


def _sorted_breakdown(dimension: str, rows: list[BreakdownRow]) -> tuple[BreakdownRow, ...]:
    if dimension == "hour":
        return tuple(sorted(rows, key=lambda row: (row.key is None, row.key or "")))

    def volume(row: BreakdownRow) -> int:
        return int(row.metrics["conversations"].value or 0)

    # Biggest first; conversations without the attribute last (they name no lever).
    return tuple(sorted(rows, key=lambda row: (row.key is None, -volume(row), row.key or "")))


def ai_agents_report(
    store: Store,
    window: Window,
    viewer: Viewer = TEAM_VIEWER,
    *,
    agent_id: str | None = None,
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
) -> AiAgentsReport:
    """All AI agents' numbers for `window` (or one AI agent's, with `agent_id`).

    Raises NotVisibleError when `agent_id` is not an AI agent (a human or unknown id).
    """
    agent = find_ai_agent(store, agent_id) if agent_id is not None else None
    fields = window.query_fields()
    ai = AI_CONVERSATIONS.model_copy(update={"ai_agent": agent_id})

    def ask(
        metrics: tuple[str, ...], filters: Filters, group_by: tuple[GroupBy, ...] = ()
    ) -> QueryResult:
        return query(
            store,
            Query(
                metrics=list(metrics),
                filters=filters,
                group_by=list(group_by),
                half_life_days=half_life_days,
                **fields,
            ),
            viewer,
        )

    overall = ask(AI_METRICS, ai)
    reason_rows = ask(("escalations",), ai, ("escalation_reason",)).rows
    reasons = _reasons(
        [(r.group["escalation_reason"], r.metrics["escalations"]) for r in reason_rows]
    )

    by_agent = ask(AI_METRICS, ai, ("ai_agent",))
    by_agent_reason = ask(("escalations",), ai, ("ai_agent", "escalation_reason"))
    reasons_of: dict[str, list[tuple[str | None, MetricValue]]] = {}
    for row in by_agent_reason.rows:
        who = row.group["ai_agent"]
        if who is not None:
            reasons_of.setdefault(who, []).append(
                (row.group["escalation_reason"], row.metrics["escalations"])
            )
    directory = agent_directory(store)
    measured = {row.group["ai_agent"]: row.metrics for row in by_agent.rows}
    ids = {a for a in measured if a is not None}
    if agent_id is None:
        # AI agents with nothing in the period are listed too, with empty samples.
        ids |= {a for a, known in directory.items() if (known.get("kind") or "") == "ai"}
    else:
        ids = {agent_id}
    empty = {name: MetricValue(None, 0) for name in AI_METRICS}
    rows = []
    for who in ids:
        known = directory.get(who)
        found = _agent_of(who, known)
        rows.append(
            AiAgentRow(
                agent_id=who,
                name=found.name,
                active=found.active,
                announced=known is not None,
                metrics=measured.get(who, empty),
                reasons=_reasons(reasons_of.get(who, [])),
            )
        )
    rows.sort(
        key=lambda row: (
            -int(row.metrics["conversations"].value or 0),
            row.name.casefold(),
            row.agent_id,
        )
    )

    breakdowns: dict[str, tuple[BreakdownRow, ...]] = {}
    for dimension, _label in BREAKDOWNS:
        result = ask(BREAKDOWN_METRICS, ai, (dimension,))
        breakdowns[dimension] = _sorted_breakdown(
            dimension, [BreakdownRow(row.group[dimension], row.metrics) for row in result.rows]
        )

    humans = ask(HUMAN_METRICS, HUMAN_ONLY_CONVERSATIONS).single().metrics
    everything = ask(("conversations", "ai_handled_rate"), Filters()).single().metrics
    return AiAgentsReport(
        period=overall.period,
        half_life_days=half_life_days,
        agent=agent,
        overall=overall.single().metrics,
        reasons=reasons,
        agents=tuple(rows),
        breakdowns=breakdowns,
        humans=humans,
        everything=everything,
    )


def list_ai_agents(store: Store) -> list[Agent]:
    """Every AI agent the install knows: announced ones and ones only seen replying."""
    directory = agent_directory(store)
    found = {a: _agent_of(a, k) for a, k in directory.items() if (k.get("kind") or "") == "ai"}
    if facts_exist(store):
        table = store.con.table(CONVERSATIONS)
        ids = table.filter(table.ai_agent_id.notnull()).select("ai_agent_id").distinct()
        rows = ids.to_pyarrow().column("ai_agent_id").to_pylist()
        for who in rows:
            if who not in found and who not in directory:
                found[who] = _agent_of(who, None)
    return sorted(found.values(), key=lambda a: (a.name.casefold(), a.agent_id))


__all__ = [
    "AI_CONVERSATIONS",
    "AI_METRICS",
    "BREAKDOWNS",
    "BREAKDOWN_METRICS",
    "HUMAN_METRICS",
    "HUMAN_ONLY_CONVERSATIONS",
    "AiAgentRow",
    "AiAgentsReport",
    "BreakdownRow",
    "ReasonShare",
    "ai_agents_report",
    "find_ai_agent",
    "list_ai_agents",
]
