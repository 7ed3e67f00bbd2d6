"""One agent's drill-down: the team page's tiles and charts, scoped to that agent.

Conversation-level numbers (resolution, FCR, CES, cost…) cover the conversations the
agent handled. Numbers that have a per-agent reading in the registry (conversations
handled, first response, CSAT, AI-drafted replies, handle time) use it, so a tile on the
drill-down always equals the agent's cell on the leaderboard.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from deskpulse.analysis.leaderboard import Leaderboard, leaderboard
from deskpulse.events.store import Store
from deskpulse.metrics.dashboard import (
    TILE_FLAGS,
    TILE_METRICS,
    TimeBasis,
    dashboard,
    timed,
    timed_values,
)
from deskpulse.metrics.query import TEAM_VIEWER, Filters, Query, Viewer, query
from deskpulse.metrics.registry import REGISTRY
from deskpulse.metrics.window import Window

PER_AGENT_TILES: tuple[str, ...] = tuple(
    name for name in (*TILE_METRICS, *TILE_FLAGS) if REGISTRY[name].agent_source is not None
)


def window_dashboard_payload(
    store: Store,
    window: Window,
    viewer: Viewer,
    filters: Filters | None = None,
    time: TimeBasis = "calendar",
) -> dict[str, Any]:
    """The team page's payload (without the leaderboard, which analysis builds) for a window."""
    return dashboard(store, window, filters, viewer, time=time)


def agent_dashboard_payload(
    store: Store,
    window: Window,
    agent_id: str,
    viewer: Viewer,
    time: TimeBasis = "calendar",
    scope: Filters | None = None,
) -> dict[str, Any]:
    """The drill-down's payload; `scope` narrows it like the dashboard's filters (the
    agent's work on one channel, say)."""
    filters = (scope or Filters()).model_copy(update={"agent": agent_id})
    payload = window_dashboard_payload(store, window, viewer, filters, time)
    own = query(
        store,
        Query(
            metrics=[timed(name, time) for name in PER_AGENT_TILES],
            group_by=["agent"],
            compare=True,
            filters=filters,
            **window.query_fields(),
        ),
        viewer,
    )
    tiles = payload["tiles"]
    row = next((r for r in own.rows if r.group.get("agent") == agent_id), None)
    metrics = {} if row is None else timed_values(row.metrics, PER_AGENT_TILES, time)
    previous_metrics = (
        {}
        if row is None or row.previous is None
        else timed_values(row.previous, PER_AGENT_TILES, time)
    )
    for name in PER_AGENT_TILES:
        current = metrics.get(name)
        previous = previous_metrics.get(name)
        tiles["metrics"][name] = {"value": None, "n": 0} if current is None else current.as_json()
        if "previous" in tiles:
            tiles["previous"][name] = (
                {"value": None, "n": 0} if previous is None else previous.as_json()
            )
    payload["per_agent_tiles"] = list(PER_AGENT_TILES)
    return payload


def agent_board(
    store: Store,
    window: Window,
    agent_id: str,
    viewer: Viewer,
    time: TimeBasis = "calendar",
    scope: Filters | None = None,
) -> Leaderboard:
    """The leaderboard with only `agent_id`'s row, as the drill-down shows it.

    An agent reads it through their own scope (query() gives their row only); a lead
    reads the team's board and keeps the one row, so a team filter the agent is not a
    member of narrows their work (to nothing) instead of refusing the lead."""
    if viewer.is_agent:
        return leaderboard(store, window, viewer, time=time, filters=scope)
    board = leaderboard(store, window, TEAM_VIEWER, time=time, filters=scope)
    return replace(board, rows=[row for row in board.rows if row.agent_id == agent_id])
