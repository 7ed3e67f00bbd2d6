"""The one-on-one drill-down: one agent's last 30 days, side by side with a reference.

Seed 000: "Open the per-agent drill-down with a 30-day window. Walk through: volume trend
versus the prior 30 days; AI assist activity against the team; first-response time
against the team; CSAT and a quick scroll through any low-score conversations."

Every number comes from `query()`: the agent's readings from one query grouped by agent
(the same per-agent definitions as the leaderboard) with the prior period, the team's
from one ungrouped query. This module only pairs them and says which way they differ.
The low-score list is a list of conversations, not a number, read from the facts.

The seed's questions ("First-response time higher than the team? Ask what is in their
queue") are prompts that only make sense when they apply: `prompts()` states each one
with its numbers only when the comparison behind it says so, for the lead preparing the
meeting or, in their own terms, for the agent it is about.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from deskpulse.analysis.agents import find_agent
from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist
from deskpulse.metrics.format import format_value
from deskpulse.metrics.periods import Period
from deskpulse.metrics.query import (
    TEAM_VIEWER,
    Filters,
    MetricValue,
    Query,
    Viewer,
    query,
)
from deskpulse.metrics.registry import AGENT_CONVERSATIONS, REGISTRY, Direction
from deskpulse.metrics.window import Window

Verdict = Literal["better", "worse", "same", "up", "down", "no_data"]
# Who reads a prompt: the lead preparing the meeting, or the agent it is about.
Audience = Literal["lead", "self"]

LOW_CSAT_SCORE = 2  # a CSAT of 2 or less is a low score worth reading together
PRIOR_LABEL = "prior 30 days"
TEAM_LABEL = "people on the team"
AI_TEAM_LABEL = "AI agents"

# (the agent's per-agent metric, the team's ungrouped metric it is compared with)
_FIRST_RESPONSE = ("first_response_median", "agent_first_response_median")
_CSAT = ("csat_mean", "csat_mean")
_ASSIST = ("ai_assist_as_is_rate", "ai_assist_edited_rate", "ai_assist_scratch_rate")


@dataclass(frozen=True)
class Comparison:
    key: str
    label: str
    format: str
    value: MetricValue
    reference: MetricValue
    reference_label: str  # "prior 30 days" | "team"
    direction: Direction
    verdict: Verdict  # up/down for neutral metrics


@dataclass(frozen=True)
class LowScore:
    conversation_id: str
    csat_score: int
    csat_at: datetime  # aware UTC
    channel: str | None
    inquiry: str | None


@dataclass(frozen=True)
class OneOnOne:
    agent_id: str
    name: str
    period: Period
    previous_period: Period
    volume: Comparison  # handled, this 30 days vs prior 30 days
    first_response: Comparison  # agent's per-agent reading vs the team's
    csat: Comparison  # agent CSAT vs team CSAT
    ai_assist: tuple[Comparison, ...]  # as-is, edited, scratch share vs the team's share
    low_scores: list[LowScore]  # CSAT <= 2 on conversations the agent handled, newest first


@dataclass(frozen=True)
class Prompt:
    key: str  # the comparison it comes from: "first_response" | "ai_assist_as_is"
    text: str  # one sentence with the numbers behind it


def _shown(comparison: Comparison, value: MetricValue) -> str:
    return f"{format_value(REGISTRY[comparison.key], value.value)} (n = {value.n})"


def prompts(meeting: OneOnOne, audience: Audience = "lead") -> list[Prompt]:
    """The one-on-one's prompts that apply to `meeting`, each with its numbers.

    - First response: only when the agent's median is slower than the team's.
    - AI drafts: only when they send a smaller share of AI drafts as is than the team.
    """
    found: list[Prompt] = []
    first = meeting.first_response
    if first.verdict == "worse":
        mine, team = _shown(first, first.value), _shown(first, first.reference)
        found.append(
            Prompt(
                "first_response",
                f"Your median first response is {mine}; for the {first.reference_label} it "
                f"is {team}. Worth telling your lead what is in your queue."
                if audience == "self"
                else f"First-response time higher than the team: {mine} against {team} for "
                f"the {first.reference_label}. Ask what is in their queue.",
            )
        )
    as_is = next((c for c in meeting.ai_assist if c.key == _ASSIST[0]), None)
    if as_is is not None and as_is.verdict == "down":
        mine, team = _shown(as_is, as_is.value), _shown(as_is, as_is.reference)
        found.append(
            Prompt(
                "ai_assist_as_is",
                f"You send {mine} of your replies as an AI draft as is; the "
                f"{as_is.reference_label} send {team}. If the drafts miss something, tell "
                "your lead what."
                if audience == "self"
                else f"Fewer AI drafts sent as is than the team: {mine} of their replies "
                f"against {team} for the {as_is.reference_label}. Ask why they edit or skip "
                "so many.",
            )
        )
    return found


def verdict(value: MetricValue, reference: MetricValue, direction: Direction) -> Verdict:
    """How `value` reads against `reference` for a metric where `direction` is better.

    Neutral metrics (volume, AI assist shares) only move up or down: more drafts sent as
    is is neither good nor bad by itself.
    """
    if value.value is None or reference.value is None:
        return "no_data"
    current, other = float(value.value), float(reference.value)
    # Values come rounded to 9 decimals; anything closer is the same number.
    if math.isclose(current, other, rel_tol=0.0, abs_tol=1e-9):
        return "same"
    if direction == "neutral":
        return "up" if current > other else "down"
    higher_is_better = direction == "higher"
    return "better" if (current > other) == higher_is_better else "worse"


def compare(
    key: str, value: MetricValue, reference: MetricValue, reference_label: str
) -> Comparison:
    """A comparison labelled, formatted and judged as registry metric `key` says."""
    metric = REGISTRY[key]
    if metric.format == "count":
        # A count over an empty sample is zero conversations, not an unknown: "up from 0".
        value = value if value.value is not None else MetricValue(0, value.n)
        reference = reference if reference.value is not None else MetricValue(0, reference.n)
    return Comparison(
        key=key,
        label=metric.label,
        format=metric.format,
        value=value,
        reference=reference,
        reference_label=reference_label,
        direction=metric.direction,
        verdict=verdict(value, reference, metric.direction),
    )


def _aware_utc(moment: Any) -> datetime:
    """Drivers give naive UTC (the facts' convention) or aware times; answer aware UTC."""
    if hasattr(moment, "to_pydatetime"):  # pandas Timestamp
        moment = moment.to_pydatetime()
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def low_scores(store: Store, agent_id: str, period: Period) -> list[LowScore]:
    """CSAT <= 2 on conversations the agent handled, answered in `period`, newest first.

    Same rows as the agent's csat_mean (handled, bucketed by csat_at), so every low
    score listed is one of the responses behind the CSAT shown beside it.
    """
    if not facts_exist(store):
        return []
    t = store.con.table(AGENT_CONVERSATIONS)
    picked = t.filter(
        (t.agent_id == agent_id)
        & t.handled
        & t.csat_score.notnull()
        & (t.csat_score <= LOW_CSAT_SCORE)
        & (t.csat_at >= period.start_utc)
        & (t.csat_at < period.end_utc)
    ).select("conversation_id", "csat_score", "csat_at", "channel", "inquiry")
    records = picked.to_pyarrow().to_pylist()
    found = [
        LowScore(
            conversation_id=str(record["conversation_id"]),
            csat_score=int(record["csat_score"]),
            csat_at=_aware_utc(record["csat_at"]),
            channel=record["channel"],
            inquiry=record["inquiry"],
        )
        for record in records
    ]
    # Newest first; the conversation id makes equal times come out the same every time.
    found.sort(key=lambda score: score.conversation_id)
    found.sort(key=lambda score: score.csat_at, reverse=True)
    return found


def one_on_one(
    store: Store, agent_id: str, viewer: Viewer = TEAM_VIEWER, *, as_of: datetime | None = None
) -> OneOnOne:
    """One agent's 30 days ending at `as_of` (default now), for a one-on-one.

    An agent viewer may open only their own; asking for anyone else, or for an agent
    deskpulse has never seen, raises NotVisibleError (views answer 404 either way).
    """
    # The one helper that decides who may open an agent (DESIGN.md: access in two places).
    agent = find_agent(store, agent_id, viewer)

    team_label = AI_TEAM_LABEL if agent.kind == "ai" else TEAM_LABEL
    window = Window(period="30d", as_of=as_of)
    fields = window.query_fields()
    mine = query(
        store,
        Query(
            metrics=["handled", _FIRST_RESPONSE[0], _CSAT[0], *_ASSIST],
            group_by=["agent"],
            filters=Filters(agent=agent_id),
            compare=True,
            **fields,
        ),
        viewer,
    )
    # Ungrouped: team figures, which an agent viewer may see too. A person is compared
    # with the people on the team: AI agents answer in seconds and would make every human
    # read "slower than the team".
    team = query(
        store,
        Query(
            metrics=[_FIRST_RESPONSE[1], _CSAT[1], *_ASSIST],
            filters=Filters(agent_kind="ai" if agent.kind == "ai" else "human"),
            **fields,
        ),
        viewer,
    ).single()

    row = next((r for r in mine.rows if r.group.get("agent") == agent_id), None)
    empty = MetricValue(None, 0)

    def now(name: str) -> MetricValue:
        return empty if row is None else row.metrics.get(name, empty)

    def before(name: str) -> MetricValue:
        return empty if row is None or row.previous is None else row.previous.get(name, empty)

    # query() sets previous_period whenever compare is on and there is no time grouping.
    previous_period = mine.previous_period or mine.period.previous()
    return OneOnOne(
        agent_id=agent_id,
        name=agent.name,
        period=mine.period,
        previous_period=previous_period,
        volume=compare("handled", now("handled"), before("handled"), PRIOR_LABEL),
        first_response=compare(
            _FIRST_RESPONSE[0],
            now(_FIRST_RESPONSE[0]),
            team.metrics[_FIRST_RESPONSE[1]],
            team_label,
        ),
        csat=compare(_CSAT[0], now(_CSAT[0]), team.metrics[_CSAT[1]], team_label),
        ai_assist=tuple(
            compare(name, now(name), team.metrics[name], team_label) for name in _ASSIST
        ),
        low_scores=low_scores(store, agent_id, mine.period),
    )


__all__ = [
    "Audience",
    "Comparison",
    "LowScore",
    "OneOnOne",
    "Prompt",
    "compare",
    "low_scores",
    "one_on_one",
    "prompts",
    "verdict",
]
