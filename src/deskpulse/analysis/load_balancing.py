"""Load balancing: conversations handled against median first response, per agent.

Seed 000 reads the two columns together in four quadrants. The split lines are the
team's medians over the agents with a reading, so half the team sits on each side of
each line: the chart says "compared with colleagues", never "good" or "bad" in absolute
terms. Every number is a leaderboard reading (so it comes from `query()`); this module
only takes medians of those readings and places agents.

AI agents are left out: load balancing is about people's workload and time. A bot's
volume and instant replies would drag both medians and say nothing about who to protect
or relieve.

The seed's names and sentences are a lead's verdicts about someone ("This agent is
drowning"). An agent looking at their own point gets the same reading in their own
terms instead (`own_name`, `own_words`): what their queue looks like next to the
team's, and what they can do about it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal

from deskpulse.analysis.leaderboard import AgentRow, Leaderboard, leaderboard
from deskpulse.events.store import Store
from deskpulse.metrics.periods import Period
from deskpulse.metrics.query import TEAM_VIEWER, Filters, Viewer
from deskpulse.metrics.window import Window

QuadrantKey = Literal["workhorse", "underloaded", "drowning", "context_needed"]


@dataclass(frozen=True)
class Quadrant:
    key: QuadrantKey
    title: str  # what the two readings say, e.g. "High volume + fast response"
    name: str  # what a lead calls it, e.g. "Reliable workhorse"
    guidance: str  # the seed's sentences, verbatim
    # The same reading for the agent it describes, e.g. "Busier queue, faster replies",
    # and what they can do about it, addressed to them.
    own_name: str
    own_words: str


QUADRANTS: tuple[Quadrant, ...] = (
    Quadrant(
        "workhorse",
        "High volume + fast response",
        "Reliable workhorse",
        "This agent is your reliable workhorse. Protect their time.",
        "Busier queue, faster replies",
        "Your queue is busier than most and you answer faster than most: if it feels like "
        "too much, tell your lead before it shows.",
    ),
    Quadrant(
        "underloaded",
        "Low volume + fast response",
        "Underloaded or fast triage",
        "This agent is underloaded or specializes in fast triage. Worth a conversation.",
        "Lighter queue, faster replies",
        "You handle fewer conversations than most and answer faster than most: if you have "
        "room for more, or your queue is quick triage, say so to your lead.",
    ),
    Quadrant(
        "drowning",
        "High volume + slow response",
        "Drowning",
        "This agent is drowning. Reassign or reroute.",
        "Busier queue, slower replies",
        "Your queue is busier than most and your first replies take longer than most: talk "
        "to your lead about routing.",
    ),
    Quadrant(
        "context_needed",
        "Low volume + slow response",
        "Context needed",
        "This agent is on hard tickets, on PTO, or struggling. Context matters — open the "
        "drill-down.",
        "Lighter queue, slower replies",
        "You handle fewer conversations than most and your first replies take longer than "
        "most: hard conversations or time off can explain it; tell your lead what is in your "
        "queue.",
    ),
)
QUADRANT_BY_KEY: dict[str, Quadrant] = {quadrant.key: quadrant for quadrant in QUADRANTS}


@dataclass(frozen=True)
class LoadPoint:
    agent_id: str
    name: str
    handled: int
    first_response_median: float | None
    first_response_n: int
    quadrant: str | None  # a QUADRANTS key; None when the agent has no reading to place


@dataclass(frozen=True)
class LoadBalance:
    period: Period
    handled_threshold: float | None  # team median of agents' conversations handled
    first_response_threshold: float | None  # team median of agents' median first response
    points: list[LoadPoint]  # agents placed (agent viewer: only their own)
    left_out: list[str]  # names of human agents with no reading to place (team view only)
    # True when an agent looks at their own point: pages then use the quadrants' own_name
    # and own_words, never the lead's verdicts.
    own: bool = False


def _placeable(row: AgentRow) -> bool:
    """Handled at least one conversation and has a first-response sample."""
    handled = row.handled.value
    return handled is not None and handled >= 1 and row.first_response_median.value is not None


def quadrant_of(
    handled: float, first_response: float, handled_threshold: float, first_response_threshold: float
) -> QuadrantKey:
    """High volume is at or above the handled median; fast is at or below the
    first-response median, so an agent exactly on a line counts on the favourable side."""
    high = handled >= handled_threshold
    fast = first_response <= first_response_threshold
    if high:
        return "workhorse" if fast else "drowning"
    return "underloaded" if fast else "context_needed"


def _point(
    row: AgentRow, handled_threshold: float | None, first_response_threshold: float | None
) -> LoadPoint:
    handled = int(row.handled.value or 0)
    first_response = row.first_response_median.value
    quadrant: str | None = None
    if (
        _placeable(row)
        and first_response is not None
        and handled_threshold is not None
        and first_response_threshold is not None
    ):
        quadrant = quadrant_of(
            handled, float(first_response), handled_threshold, first_response_threshold
        )
    return LoadPoint(
        agent_id=row.agent_id,
        name=row.name,
        handled=handled,
        first_response_median=None if first_response is None else float(first_response),
        first_response_n=row.first_response_median.n,
        quadrant=quadrant,
    )


def load_balance(
    store: Store,
    window: Window,
    viewer: Viewer = TEAM_VIEWER,
    *,
    team: str | None = None,
    viewer_board: Leaderboard | None = None,
    filters: Filters | None = None,
) -> LoadBalance:
    """Human agents placed in the four load-balancing quadrants for `window`.

    The thresholds are medians over the human agents (of `team`, by membership) with at
    least one conversation handled and a first-response sample. AI agents are excluded.
    An agent viewer gets the same team thresholds (medians name nobody) but only their
    own point, and no list of colleagues left out.

    `viewer_board` is a leaderboard the caller already has for the same window, viewer
    and team (the /analytics page has one): it is reused instead of asked for again.
    """
    # Team-wide on purpose, also for an agent viewer: the medians are aggregates.
    if viewer_board is not None and not viewer.is_agent:
        team_board = viewer_board
    else:
        team_board = leaderboard(store, window, TEAM_VIEWER, team=team, filters=filters)
    humans = [row for row in team_board.rows if row.kind != "ai"]
    placeable = [row for row in humans if _placeable(row)]
    handled_threshold: float | None = None
    first_response_threshold: float | None = None
    if placeable:
        handled_threshold = float(statistics.median(float(r.handled.value or 0) for r in placeable))
        first_response_threshold = float(
            statistics.median(float(r.first_response_median.value or 0) for r in placeable)
        )

    if viewer.is_agent:
        # The viewer's own row comes through their own scoped query, not the team board.
        own = viewer_board or leaderboard(store, window, viewer, team=team, filters=filters)
        points = [
            _point(row, handled_threshold, first_response_threshold)
            for row in own.rows
            if row.kind != "ai" and row.agent_id == viewer.agent_id
        ]
        left_out: list[str] = []
    else:
        points = [_point(row, handled_threshold, first_response_threshold) for row in placeable]
        left_out = [row.name for row in humans if not _placeable(row)]
    return LoadBalance(
        period=team_board.period,
        handled_threshold=handled_threshold,
        first_response_threshold=first_response_threshold,
        points=points,
        left_out=left_out,
        own=viewer.is_agent,
    )


__all__ = [
    "QUADRANTS",
    "QUADRANT_BY_KEY",
    "LoadBalance",
    "LoadPoint",
    "Quadrant",
    "load_balance",
    "quadrant_of",
]
