"""Everything the /analytics page shows for one period, as one payload.

Tiles with their previous-period values, the daily series behind the charts, the
distribution of CSAT and NPS answers, and the leaderboard, all from `query()`. The
performance budget (150 ms p50 for 90 days on a million conversations) is measured on
this function by benchmarks/bench_foundation.py.
"""

from __future__ import annotations

import threading
import time as monotonic
import weakref
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, get_args

import ibis

from deskpulse.errors import DeskpulseError
from deskpulse.events.contract import Channel
from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist
from deskpulse.metrics.query import (
    TEAM_VIEWER,
    Filters,
    GroupBy,
    Query,
    Viewer,
    execute_sql,
    query,
)
from deskpulse.metrics.registry import BUSINESS_TWINS, CONVERSATIONS, LEADERBOARD_METRICS
from deskpulse.metrics.window import Window

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


# -- the filters that scope the whole dashboard ----------------------------------------

# What a lead narrows /analytics to (issue 16), in the order the filter form shows them.
# Each is a column of every facts table, so one filter scopes tiles, charts, cards,
# signals and the leaderboard alike. `team` is the conversation's team (its latest
# assignment's team_id), not the agents' membership.
SCOPE_FILTERS: tuple[str, ...] = (
    "team",
    "channel",
    "inbox",
    "inquiry",
    "customer_tier",
    "language",
)
CHANNELS: tuple[str, ...] = get_args(Channel)
# What the error message calls each filter's values.
_PLURALS = {
    "team": "teams",
    "channel": "channels",
    "inbox": "inboxes",
    "inquiry": "inquiries",
    "customer_tier": "customer tiers",
    "language": "languages",
}
_COLUMNS = {
    "team": "team_id",
    "inbox": "inbox_id",
    "inquiry": "inquiry",
    "customer_tier": "customer_tier",
    "language": "language",
}


class UnknownFilterValueError(DeskpulseError, ValueError):
    """A filter value nothing in the data carries: a typo must not read as an empty
    dashboard. `field` names the filter; the message names the value and lists some
    known ones."""


def scope_values(filters: Filters) -> dict[str, str]:
    """The scope filters that are set, by name (for payloads and links)."""
    return {name: value for name in SCOPE_FILTERS if (value := getattr(filters, name)) is not None}


# Known values change only when new events arrive; a page asks on every load, so the
# answer is kept briefly, and a value not found in it is looked up afresh before it is
# refused (a team that has just appeared is never refused).
_CHOICES_FOR_SECONDS = 30.0
_CHOICES: weakref.WeakKeyDictionary[Store, tuple[float, dict[str, tuple[str, ...]]]] = (
    weakref.WeakKeyDictionary()
)
_CHOICES_LOCK = threading.Lock()


def filter_choices(store: Store, *, fresh: bool = False) -> dict[str, tuple[str, ...]]:
    """Every value each scope filter can take, sorted: what the conversation facts carry
    (channels: the event contract's six; teams: also every team an agent belongs to)."""
    if not fresh:
        with _CHOICES_LOCK:
            found = _CHOICES.get(store)
        if found is not None and monotonic.monotonic() - found[0] < _CHOICES_FOR_SECONDS:
            return found[1]
    choices: dict[str, tuple[str, ...]] = {"channel": CHANNELS}
    seen: dict[str, set[str]] = {name: set() for name in _COLUMNS}
    if facts_exist(store):
        t = store.con.table(CONVERSATIONS)
        for name, column in _COLUMNS.items():
            expression = t.select(value=t[column]).filter(ibis._.value.notnull()).distinct()
            sql = str(store.con.compile(expression))
            seen[name].update(str(row["value"]) for row in execute_sql(store, sql, 30.0))
        agents = store.con.table("agents")
        members = agents.select(value=agents.team_ids.unnest()).distinct()
        rows = execute_sql(store, str(store.con.compile(members)), 30.0)
        seen["team"].update(str(row["value"]) for row in rows if row["value"] is not None)
    for name in _COLUMNS:
        choices[name] = tuple(sorted(seen[name]))
    with _CHOICES_LOCK:
        _CHOICES[store] = (monotonic.monotonic(), choices)
    return choices


def check_filters(
    store: Store, filters: Filters, *, also_known: Mapping[str, Iterable[str]] | None = None
) -> None:
    """Refuse a scope filter value the data does not know, naming filter and value.

    `also_known` adds values known elsewhere (teams named in Settings before any event
    carries them)."""
    wanted = scope_values(filters)
    if not wanted:
        return
    extra = {name: set(values) for name, values in (also_known or {}).items()}
    choices = filter_choices(store)
    if any(v not in choices[n] and v not in extra.get(n, ()) for n, v in wanted.items()):
        choices = filter_choices(store, fresh=True)
    for name, value in wanted.items():
        known = set(choices[name]) | extra.get(name, set())
        if value not in known:
            listed = sorted(known)
            shown = ", ".join(listed[:20]) or "none yet"
            if len(listed) > 20:
                shown += f" and {len(listed) - 20} more"
            raise UnknownFilterValueError(
                f"there is no {name.replace('_', ' ')} {value!r} ({_PLURALS[name]}: {shown})",
                name,
            )


def dashboard(
    store: Store,
    window: Window,
    filters: Filters | None = None,
    viewer: Viewer = TEAM_VIEWER,
    *,
    time: TimeBasis = "calendar",
    include_leaderboard: bool = False,
) -> dict[str, Any]:
    """The /analytics payload for `window`, scoped by `filters`, as `viewer` may see it.

    The one core function behind the page, its API twin, the teams page and the digest:
    tiles with the previous period's values and every n, the daily series, the CSAT/NPS
    spread and (with `include_leaderboard`) the raw per-agent readings. The viewer's
    scope is applied by query(): an agent may narrow to their own team only. Values are
    not checked here against the data (check_filters does that for surfaces that take
    them from people)."""
    filters = filters or Filters()
    payload = dashboard_payload(
        store,
        period=window.period,
        as_of=window.as_of,
        start=window.start,
        end=window.end,
        filters=filters,
        viewer=viewer,
        include_leaderboard=include_leaderboard,
        time=time,
    )
    payload["filters"] = scope_values(filters)
    return payload


# -- teams side by side ------------------------------------------------------------------


def teams_side_by_side(
    store: Store,
    window: Window,
    teams: Iterable[str] = (),
    *,
    time: TimeBasis = "calendar",
) -> dict[str, Any]:
    """The dashboard's tiles for every team at once, for owners and admins.

    One query grouped by the conversation's team (the same rows `dashboard(...,
    Filters(team=...))` reads, so a team's row equals its own dashboard's tiles), with the
    previous period per team. Teams in `teams` that had nothing in either period get a
    row of empty samples; conversations of no team get a row of their own (team None),
    so the rows add up to the organisation's counts.
    """
    tile_names = [*TILE_METRICS, *TILE_FLAGS]
    result = query(
        store,
        Query(
            metrics=[timed(name, time) for name in tile_names],
            group_by=["team"],
            compare=True,
            **window.query_fields(),
        ),
        TEAM_VIEWER,
    )
    found = {row.group.get("team"): row for row in result.rows}
    named = sorted({*teams, *(team for team in found if team is not None)})
    order: list[str | None] = [*named, *([None] if None in found else [])]
    empty = {"value": None, "n": 0}
    rows: list[dict[str, Any]] = []
    for team in order:
        row = found.get(team)
        current = {} if row is None else timed_values(row.metrics, tile_names, time)
        before = {} if row is None or row.previous is None else row.previous
        previous = timed_values(before, tile_names, time)
        rows.append(
            {
                "team": team,
                "tiles": {
                    "metrics": {
                        name: current[name].as_json() if name in current else dict(empty)
                        for name in tile_names
                    },
                    "previous": {
                        name: previous[name].as_json() if name in previous else dict(empty)
                        for name in tile_names
                    },
                },
            }
        )
    return {
        "time": time,
        "period": result.period.as_json(),
        "previous_period": None
        if result.previous_period is None
        else result.previous_period.as_json(),
        "metrics": list(TILE_METRICS),
        "teams": rows,
    }
