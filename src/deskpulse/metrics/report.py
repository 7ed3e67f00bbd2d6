"""The team report: KPIs and the agent leaderboard for a period (CLI and API).

Both halves come from `query()`; this module only arranges them and adds agent names.
The leaderboard is listed by conversations handled, without rank numbers: it is a view
for load balancing and one-on-ones, not a stack rank.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deskpulse.events.store import Store
from deskpulse.metrics.query import (
    TEAM_VIEWER,
    Filters,
    Query,
    Viewer,
    query,
)
from deskpulse.metrics.registry import LEADERBOARD_METRICS, TEAM_METRICS


def agent_directory(store: Store) -> dict[str, dict[str, Any]]:
    """Agent id -> {name, kind, team_ids, active}, from the latest agent.upserted."""
    if "agents" not in store.con.list_tables():
        return {}
    rows = store.con.table("agents").to_pyarrow().to_pylist()
    return {row["agent_id"]: row for row in rows}


def build_report(
    store: Store,
    *,
    period: str = "30d",
    as_of: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    filters: Filters | None = None,
    viewer: Viewer = TEAM_VIEWER,
) -> dict[str, Any]:
    common: dict[str, Any] = {"period": period, "as_of": as_of, "filters": filters or Filters()}
    if period == "custom":
        common.update({"from": start, "to": end})
    team = query(store, Query(metrics=list(TEAM_METRICS), compare=True, **common), viewer)
    board = query(
        store, Query(metrics=list(LEADERBOARD_METRICS), group_by=["agent"], **common), viewer
    )
    directory = agent_directory(store)
    team_row = team.single()
    agents: list[dict[str, Any]] = []
    for row in board.rows:
        agent_id = row.group["agent"]
        if agent_id is None:
            continue
        known = directory.get(agent_id, {})
        agents.append(
            {
                "agent_id": agent_id,
                "name": known.get("name") or agent_id,
                "kind": known.get("kind") or "human",
                "metrics": {name: value.as_json() for name, value in row.metrics.items()},
            }
        )
    agents.sort(key=lambda a: (-int(a["metrics"]["handled"]["value"] or 0), str(a["name"])))
    return {
        "period": {**team.period.as_json(), "name": period},
        "previous_period": None if team.previous_period is None else team.previous_period.as_json(),
        "team": {name: value.as_json() for name, value in team_row.metrics.items()},
        "team_previous": {
            name: value.as_json() for name, value in (team_row.previous or {}).items()
        },
        "agents": agents,
    }
