"""/analytics/teams/: every team side by side, for owners and admins (issue 16).

One row per team with the dashboard's tiles, each with its n and its change against the
previous period, and a link to that team's own dashboard (/analytics/?team=…). The
numbers are `teams_side_by_side` from the metrics layer, the same definitions and rows
as the dashboard under a team filter. A CSV export and the API twin (/api/v1/teams)
carry the same rows.

Agents get 403 (like alerts: the page exists, it is not theirs to use); an account
without a role 403; anonymous visitors the sign-in page.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from deskpulse.events.store import Store
from deskpulse.metrics.dashboard import (
    TILE_METRICS,
    TimeBasis,
    filter_choices,
    teams_side_by_side,
)
from deskpulse.metrics.registry import REGISTRY, Metric
from deskpulse.metrics.window import Window
from deskpulse.web.access import member_required, viewer_of
from deskpulse.web.accounts.teams import team_names
from deskpulse.web.analytics.present import tiles
from deskpulse.web.analytics.views import _period_context, _period_label, _window
from deskpulse.web.api.problems import errors_as_page, render_problem
from deskpulse.web.params import PageState, ParameterError, read_window
from deskpulse.web.runtime import install_settings, store_with_facts

NO_TEAM = "No team"
PATH = "/analytics/teams/"


def teams_payload(store: Store, window: Window, time: TimeBasis) -> dict[str, Any]:
    """The side-by-side rows, every known team included, each with its display name."""
    known = filter_choices(store)["team"]
    names = team_names(known)
    payload = teams_side_by_side(store, window, [*known, *names], time=time)
    for row in payload["teams"]:
        team = row["team"]
        row["name"] = NO_TEAM if team is None else names.get(team, team)
    return payload


def _read_time(request: HttpRequest) -> TimeBasis:
    time = (request.GET.get("time") or "").strip()
    if time not in ("", "calendar", "business"):
        raise ParameterError("time", "calendar or business")
    return "business" if time == "business" else "calendar"


def _refuse_agents(request: HttpRequest) -> HttpResponse | None:
    if viewer_of(request).is_agent:
        return render_problem(
            request,
            "For owners and admins",
            "Teams side by side compares every team; your own numbers are on Analytics.",
            403,
        )
    return None


@member_required
@errors_as_page
def teams_page(request: HttpRequest) -> HttpResponse:
    refused = _refuse_agents(request)
    if refused is not None:
        return refused
    store = store_with_facts()
    window = _window(request)
    time = _read_time(request)
    context = _period_context(request, window, PATH)
    state: PageState = context["state"]
    payload = teams_payload(store, window, time)
    currency = install_settings().currency
    previous = payload["previous_period"]
    previous_label = "the previous period"
    if previous is not None:
        previous_label = f"the previous period ({_span(previous)})"
    period = payload["period"]
    rows = []
    for row in payload["teams"]:
        team = row["team"]
        href = None if team is None else state.link("/analytics/", team=team)

        def link(metric: str, team: str | None = team) -> str:
            if team is None:
                return ""
            return state.link("/analytics/conversations/", metric=metric, team=team)

        rows.append(
            {
                "team": team,
                "name": row["name"],
                "href": href,
                "tiles": tiles(
                    {"tiles": row["tiles"], "time": time},
                    TILE_METRICS,
                    previous_label=previous_label,
                    currency=currency,
                    link=link,
                ),
            }
        )
    context.update(
        {
            "nav": "analytics",
            "heading": "Teams side by side",
            "period_text": _period_label(
                window,
                datetime.fromisoformat(period["from"]),
                datetime.fromisoformat(period["to"]),
            ),
            "columns": [REGISTRY[name] for name in TILE_METRICS],
            "rows": rows,
            "csv_href": state.link("/analytics/teams.csv"),
        }
    )
    return render(request, "analytics/teams.html", context)


def _span(period: dict[str, str]) -> str:
    start = datetime.fromisoformat(period["from"])
    last = datetime.fromisoformat(period["to"]) - timedelta(microseconds=1)
    return f"{start:%b %-d} \u2013 {last:%b %-d}"


@member_required
@errors_as_page
def teams_export(request: HttpRequest) -> HttpResponse:
    refused = _refuse_agents(request)
    if refused is not None:
        return refused
    window = read_window(request.GET, install_settings().tz)
    payload = teams_payload(store_with_facts(), window, _read_time(request))
    return csv_response(payload)


# -- CSV ----------------------------------------------------------------------------------

_UNITS = {"duration": "s", "percent": "%"}


def _cell(metric: Metric, value: float | int | None) -> str:
    """A plain CSV number: seconds and percents with 1 decimal, blank without a sample."""
    if value is None:
        return ""
    match metric.format:
        case "count":
            return str(int(value))
        case "percent":
            return f"{100 * float(value):.1f}"
        case "duration":
            return f"{float(value):.1f}"
        case "nps":
            return f"{float(value):.1f}"
    return f"{float(value):.2f}" if metric.format == "score" else f"{float(value):.3f}"


def teams_csv(payload: dict[str, Any]) -> str:
    """One line per team: each tile's value, n, previous value and change (value minus
    previous, in the value's unit; blank when either has no sample)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = ["team_id", "Team"]
    for name in TILE_METRICS:
        metric = REGISTRY[name]
        unit = _UNITS.get(metric.format)
        label = f"{metric.label} ({unit})" if unit else metric.label
        header.extend([label, f"{metric.label}: n", f"{label}: previous", f"{label}: change"])
    writer.writerow(header)
    for row in payload["teams"]:
        cells = [row["team"] or "", row["name"]]
        for name in TILE_METRICS:
            metric = REGISTRY[name]
            now = row["tiles"]["metrics"][name]
            before = row["tiles"]["previous"][name]
            change: float | None = None
            if now["value"] is not None and before["value"] is not None:
                change = float(now["value"]) - float(before["value"])
            cells.extend(
                [
                    _cell(metric, now["value"]),
                    str(now["n"]),
                    _cell(metric, before["value"]),
                    "" if change is None else _cell(metric, change),
                ]
            )
        writer.writerow(cells)
    return out.getvalue()


def csv_response(payload: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(teams_csv(payload), content_type="text/csv; charset=utf-8")
    first = payload["period"]["from"][:10]
    response["Content-Disposition"] = f'attachment; filename="teams-{first}.csv"'
    return response
