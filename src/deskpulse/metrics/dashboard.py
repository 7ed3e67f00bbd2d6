"""Everything the /analytics page shows for one period, as one payload.

Tiles with their previous-period values, the daily series behind the charts, the
distribution of CSAT and NPS answers, and the leaderboard, all from `query()`. The
performance budget (150 ms p50 for 90 days on a million conversations) is measured on
this function by benchmarks/bench_foundation.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from deskpulse.events.store import Store
from deskpulse.metrics.query import TEAM_VIEWER, Filters, GroupBy, Query, Viewer, query
from deskpulse.metrics.registry import BUSINESS_TWINS, LEADERBOARD_METRICS

# Calendar or business time for every duration shown (`?time=business` on the pages
# and the API). Payloads keep the calendar names as keys, so one page template serves
# both; under business time the values are the `*_business` twins', and the payload's
# `time` says which.
TimeBasis = Literal["calendar", "business"]
TIME_BASES: tuple[TimeBasis, ...] = ("calendar", "business")


def timed(name: str, time: TimeBasis) -> str:
    """The metric actually read for `name`: its business-time twin under business time."""
    return BUSINESS_TWINS.get(name, name) if time == "business" else name


def timed_values(values: dict[str, Any], names: Iterable[str], time: TimeBasis) -> dict[str, Any]:
    """`values` keyed by metric as read, re-keyed by the calendar `names` asked for."""
    return {name: values[timed(name, time)] for name in names if timed(name, time) in values}


def read_time(value: str | None) -> TimeBasis:
    """The `time` URL parameter; anything but "business" is calendar time."""
    return "business" if (value or "").strip() == "business" else "calendar"


# The KPI tiles, in the order the page shows them (seed 000: volume and speed, then
# outcomes, then what customers said, then effort and cost).
TILE_METRICS: tuple[str, ...] = (
    "conversations",
    "handled",
    "first_response_median",
    "first_human_response_median",
    "full_resolution_median",
    "resolution_rate",
    "fcr_rate",
    "escalation_rate",
    "ai_handled_rate",
    "ai_drafted_rate",
    "csat_mean",
    "csat_satisfied_rate",
    "csat_responses",
    "csat_response_rate",
    "nps",
    "ces_mean",
    "aht_mean",
    "cost_per_conversation",
)
# Asked for with the tiles but shown as a flag: is the AHT tile an estimate?
TILE_FLAGS: tuple[str, ...] = ("aht_estimated_rate",)

# Daily series for the charts, grouped so each query scans one bucket column.
DAILY_SERIES: tuple[tuple[str, ...], ...] = (
    ("conversations", "ai_handled_rate", "human_handled_rate"),
    ("first_response_median", "first_response_p90"),
    ("csat_mean", "csat_responses"),
)

# (metric counted, score column): the CSAT and NPS cards' spread of answers.
DISTRIBUTIONS: dict[str, tuple[str, GroupBy]] = {
    "csat": ("csat_responses", "csat_score"),
    "nps": ("nps", "nps_score"),
}
SCORE_RANGES: dict[str, range] = {"csat": range(1, 6), "nps": range(0, 11)}


def dashboard_payload(
    store: Store,
    *,
    period: str = "30d",
    as_of: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    filters: Filters | None = None,
    viewer: Viewer = TEAM_VIEWER,
    include_leaderboard: bool = True,
    time: TimeBasis = "calendar",
) -> dict[str, Any]:
    common: dict[str, Any] = {"period": period, "as_of": as_of, "filters": filters or Filters()}
    if period == "custom":
        common.update({"from": start, "to": end})
    tile_names = [*TILE_METRICS, *TILE_FLAGS]
    tiles = query(
        store,
        Query(metrics=[timed(n, time) for n in tile_names], compare=True, **common),
        viewer,
    )
    series: dict[str, Any] = {}
    for metrics in DAILY_SERIES:
        daily = query(
            store,
            Query(metrics=[timed(n, time) for n in metrics], group_by=["day"], **common),
            viewer,
        )
        for row in daily.rows:
            for name, value in timed_values(row.metrics, metrics, time).items():
                series.setdefault(name, []).append({"day": row.group["day"], **value.as_json()})
    volume_by_channel = query(
        store, Query(metrics=["conversations"], group_by=["day", "channel"], **common), viewer
    )
    distributions: dict[str, list[dict[str, Any]]] = {}
    for card, (metric, column) in DISTRIBUTIONS.items():
        spread = query(store, Query(metrics=[metric], group_by=[column], **common), viewer)
        counts = {
            row.group[column]: row.metrics[metric].n
            for row in spread.rows
            if row.group[column] is not None
        }
        distributions[card] = [
            {"score": score, "responses": counts.get(str(score), 0)} for score in SCORE_RANGES[card]
        ]
    tile_json = tiles.single().as_json()
    for part in ("metrics", "previous"):
        if part in tile_json:
            tile_json[part] = timed_values(tile_json[part], tile_names, time)
    payload: dict[str, Any] = {
        "time": time,
        "period": tiles.period.as_json(),
        "previous_period": None
        if tiles.previous_period is None
        else tiles.previous_period.as_json(),
        "tiles": tile_json,
        "series": series,
        "volume_by_channel": [row.as_json() for row in volume_by_channel.rows],
        "distributions": distributions,
    }
    if include_leaderboard:
        leaderboard = query(
            store,
            Query(
                metrics=[timed(n, time) for n in LEADERBOARD_METRICS],
                group_by=["agent"],
                **common,
            ),
            viewer,
        )
        entries = [result.as_json() for result in leaderboard.rows]
        for entry in entries:
            for part in ("metrics", "previous"):
                if isinstance(entry.get(part), dict):
                    entry[part] = timed_values(entry[part], LEADERBOARD_METRICS, time)
        payload["leaderboard"] = entries
    return payload
