"""Everything the /analytics page shows for one period, as one payload.

Tiles with their previous-period values, the daily series behind the charts, and the
leaderboard, all from `query()`. The performance budget (150 ms p50 for 90 days on a
million conversations) is measured on this function by benchmarks/bench_foundation.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deskpulse.events.store import Store
from deskpulse.metrics.query import TEAM_VIEWER, Filters, Query, Viewer, query
from deskpulse.metrics.registry import LEADERBOARD_METRICS, TEAM_METRICS

# Daily series for the charts, grouped so each query scans one bucket column.
DAILY_SERIES: tuple[tuple[str, ...], ...] = (
    ("conversations", "ai_handled_rate"),
    ("first_response_median", "first_response_p90"),
    ("csat_mean", "csat_responses"),
    ("nps",),
)


def dashboard_payload(
    store: Store,
    *,
    period: str = "30d",
    as_of: datetime | None = None,
    filters: Filters | None = None,
    viewer: Viewer = TEAM_VIEWER,
) -> dict[str, Any]:
    common: dict[str, Any] = {"period": period, "as_of": as_of, "filters": filters or Filters()}
    tiles = query(store, Query(metrics=list(TEAM_METRICS), compare=True, **common), viewer)
    series: dict[str, Any] = {}
    for metrics in DAILY_SERIES:
        daily = query(store, Query(metrics=list(metrics), group_by=["day"], **common), viewer)
        for row in daily.rows:
            for name, value in row.metrics.items():
                series.setdefault(name, []).append({"day": row.group["day"], **value.as_json()})
    volume_by_channel = query(
        store, Query(metrics=["conversations"], group_by=["day", "channel"], **common), viewer
    )
    leaderboard = query(
        store, Query(metrics=list(LEADERBOARD_METRICS), group_by=["agent"], **common), viewer
    )
    return {
        "period": tiles.period.as_json(),
        "tiles": tiles.single().as_json(),
        "series": series,
        "volume_by_channel": [row.as_json() for row in volume_by_channel.rows],
        "leaderboard": [row.as_json() for row in leaderboard.rows],
    }
