"""The /performance pages: an agent's performance by inquiry with the Agent Effectiveness
Score, and one inquiry in detail (seed 002).

Views only arrange what `deskpulse.analysis.effectiveness` returns. Every view that loads
an agent goes through `find_agent`, whose NotVisibleError is the 404 page for anyone the
viewer may not see: an agent opening another agent's page by URL learns nothing, not
even that they exist.
Agents never see another agent's name or id here: the best agent is "Top performer".
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from deskpulse import clock
from deskpulse.analysis.agents import Agent, find_agent
from deskpulse.analysis.effectiveness import (
    BAND_LABELS,
    MIN_INTERACTIONS,
    AgentPerformance,
    InquiryDetail,
    InquiryPerformance,
    agent_performance,
    inquiry_detail,
    sort_inquiries,
)
from deskpulse.events.store import Store
from deskpulse.metrics.format import EMPTY, format_duration
from deskpulse.metrics.periods import custom_period, named_period
from deskpulse.metrics.query import Viewer
from deskpulse.metrics.report import agent_directory
from deskpulse.metrics.window import Window
from deskpulse.web.access import member_required, viewer_of
from deskpulse.web.accounts.teams import team_names
from deskpulse.web.api.problems import errors_as_page
from deskpulse.web.coaching.service import recommendation_for
from deskpulse.web.coaching.views import estimate_note
from deskpulse.web.params import ParameterError
from deskpulse.web.performance import status
from deskpulse.web.performance.params import (
    DEFAULT_SORT,
    WINDOW_CHOICES,
    LinkState,
    PerformanceParams,
    link_state,
    read_params,
)
from deskpulse.web.performance.present import (
    CHANNEL_LABELS,
    METRIC_ORDER,
    SOURCE_WORDS,
    comparison,
    impact_text,
    impact_words,
    inquiry_row,
    meaning,
    metric_text,
    short_label,
    sources_text,
)
from deskpulse.web.request_guard import note_bad_parameter
from deskpulse.web.runtime import install_settings, store_with_facts

logger = logging.getLogger("deskpulse.web")

# Links of the other apps of issue 4 (coaching is H4's app; these URLs are the contract).
COACHING_MINE = "/coaching/"
COACHING_TEAM = "/coaching/team/"
COACHING_NEW = "/coaching/new/"


def agent_path(agent_id: str) -> str:
    return f"/performance/agents/{quote(agent_id, safe='')}/"


def inquiry_path(agent_id: str, inquiry: str) -> str:
    return f"{agent_path(agent_id)}inquiries/{quote(inquiry, safe='')}/"


def scored_store() -> Store:
    """The store with effectiveness facts as fresh as the facts they are built from."""
    from deskpulse.models.scoring import ensure_scored

    store = store_with_facts()
    ensure_scored(store, install_settings())
    return store


def resolved_span(window: Window, tz: Any) -> tuple[datetime, datetime]:
    """The instants a window covers, for the page's "Dec 5 - Mar 4, 2026" line."""
    if window.period == "custom" and window.start is not None and window.end is not None:
        period = custom_period(window.start, window.end, tz)
    else:
        period = named_period(window.period, window.as_of or clock.now(), tz)
    return period.start, period.end


def span_text(start: datetime, end: datetime) -> str:
    last = end - timedelta(microseconds=1)
    if end - start <= timedelta(days=1):
        return f"{start:%b %-d, %H:%M} \u2013 {end:%b %-d, %Y %H:%M}"
    return f"{start:%b %-d} \u2013 {last:%b %-d, %Y}"


def _params(request: HttpRequest) -> PerformanceParams:
    """The URL's choices; a bad one is named on the page and left out, never a dead end."""
    raw: dict[str, Any] = {key: request.GET.get(key) for key in request.GET}
    tz = install_settings().tz
    for _ in range(len(raw) + 1):
        try:
            return read_params(raw, tz)
        except ParameterError as error:
            messages.error(request, f"{error.field}: {error.message}. Left out.")
            note_bad_parameter(request)
            dropped = ("from", "to", "window") if error.field in ("from", "to") else (error.field,)
            for key in dropped:
                raw.pop(key, None)
    return read_params({}, tz)


def _window_context(
    params: PerformanceParams, state: LinkState, path: str, window: Window
) -> dict[str, Any]:
    start, end = resolved_span(window, install_settings().tz)
    return {
        "window_links": [
            (
                name,
                label,
                state.link(
                    path, window=None if name == "3m" else name, **{"from": None, "to": None}
                ),
            )
            for name, label in WINDOW_CHOICES
        ],
        "window_name": params.window_name,
        "window_text": span_text(start, end),
        "custom_from": state.values.get("from", ""),
        "custom_to": state.values.get("to", ""),
        "kept_for_custom": {
            key: value
            for key, value in state.values.items()
            if value and key not in ("window", "from", "to")
        },
    }


def _coaching_link(viewer: Viewer, agent_id: str) -> str:
    """Agents see their own plans; a coach sees this agent's plans on the team view."""
    if viewer.is_agent:
        return COACHING_MINE
    return f"{COACHING_TEAM}?agent={quote(agent_id, safe='')}"


def _heading(viewer: Viewer, agent: Agent) -> str:
    return "My performance" if viewer.is_agent else f"{agent.name}: performance"


# -- pages ------------------------------------------------------------------------------


@member_required
@errors_as_page
def home(request: HttpRequest) -> HttpResponse:
    """Agents go to their own page; owners and admins pick an agent."""
    viewer = viewer_of(request)
    if viewer.is_agent:
        assert viewer.agent_id is not None
        target = agent_path(viewer.agent_id)
        query = request.GET.urlencode()
        return HttpResponseRedirect(f"{target}?{query}" if query else target)
    store = store_with_facts()
    directory = agent_directory(store)
    humans = [row for row in directory.values() if (row.get("kind") or "human") == "human"]
    all_teams = {team for row in humans for team in (row.get("team_ids") or ())}
    names = team_names(all_teams)
    keep = {key: request.GET.get(key, "") for key in ("window", "from", "to", "as_of", "model")}
    state = LinkState({key: value for key, value in keep.items() if value})
    agents = sorted(
        (
            {
                "agent_id": row["agent_id"],
                "name": str(row.get("name") or row["agent_id"]),
                "teams": ", ".join(
                    sorted(names.get(team, team) for team in (row.get("team_ids") or ()))
                )
                or EMPTY,
                "active": bool(row.get("active", True)),
                "href": state.link(agent_path(row["agent_id"])),
            }
            for row in humans
        ),
        key=lambda agent: (not agent["active"], agent["name"].casefold()),
    )
    return render(
        request,
        "performance/home.html",
        {"nav": "performance", "agents": agents},
    )


def _sort_headers(
    state: LinkState, path: str, params: PerformanceParams, performance: AgentPerformance
) -> list[dict[str, Any]]:
    """Volume and every metric: a link that sorts high to low, then low to high. A
    measured outcome's column says "Measured … rate"."""
    headers = []
    columns = [(m, short_label(m, performance.source_of(m))) for m in METRIC_ORDER]
    for key, label in (("volume", "Volume"), *columns):
        active = params.sort == key
        direction = "asc" if active and params.descending else "desc"
        headers.append(
            {
                "key": key,
                "label": label,
                "title": "Contacts handled"
                if key == "volume"
                else meaning(key, performance.source_of(key)),
                "aria_sort": ("descending" if params.descending else "ascending")
                if active
                else "none",
                "href": state.link(
                    path,
                    sort=None if key == DEFAULT_SORT else key,
                    dir=None if direction == "desc" else direction,
                )
                + "#all-inquiries",
                "next": "low to high" if direction == "asc" else "high to low",
            }
        )
    return headers


@member_required
@errors_as_page
def agent_page(request: HttpRequest, agent_id: str) -> HttpResponse:
    """Top performing inquiries, inquiries to work on, and every inquiry, sortable."""
    viewer = viewer_of(request)
    store = scored_store()
    agent = find_agent(store, agent_id, viewer)
    params = _params(request)
    window = params.window()
    performance = agent_performance(store, viewer, agent_id, channel=params.model, window=window)
    path = agent_path(agent_id)
    state = link_state(request.GET, params)
    # Links keep the model actually shown, so switching the window keeps the channel.
    state.values["model"] = performance.channel or ""
    context = _agent_context(viewer, agent, performance, params, state, path)
    context.update(_window_context(params, state, path, window))
    return render(request, "performance/agent.html", context)


def _agent_context(
    viewer: Viewer,
    agent: Agent,
    performance: AgentPerformance,
    params: PerformanceParams,
    state: LinkState,
    path: str,
) -> dict[str, Any]:
    def detail_href(inquiry: str) -> str:
        return state.link(inquiry_path(agent.agent_id, inquiry), sort=None, dir=None)

    def row_of(row: InquiryPerformance) -> dict[str, Any]:
        shown = inquiry_row(row, detail_href(row.inquiry), own=viewer.is_agent)
        # The columns are named after the agent's rows as a whole; an inquiry whose
        # outcome comes from elsewhere says so beside its number.
        for key, metric in shown["metrics"].items():
            differs = metric["source"] is not None and metric["source"] != performance.source_of(
                key
            )
            metric["flag"] = (
                {"model": "predicted", "measured": "measured"}.get(metric["source"], "mixed")
                if differs
                else ""
            )
        shown["source_flag"] = (
            row.satisfaction_source != performance.satisfaction_source
            or row.resolution_source != performance.resolution_source
        )
        return shown

    rows = sort_inquiries(performance.inquiries, params.sort, params.descending)
    model = status.channel_status(performance.channel) if performance.channel else None
    return {
        "nav": "performance",
        "heading": _heading(viewer, agent),
        "agent": agent,
        "is_agent": viewer.is_agent,
        "performance": performance,
        "channel": performance.channel,
        "model_links": [
            (channel, CHANNEL_LABELS.get(channel, channel), state.link(path, model=channel))
            for channel in performance.channels
        ],
        "model": model,
        "overall": [
            {
                "key": metric,
                "label": performance.label(metric),
                "measured": performance.source_of(metric) == "measured",
                "text": metric_text(metric, performance.overall[metric].value),
                "n": performance.overall[metric].n,
            }
            for metric in METRIC_ORDER
            if metric in performance.overall
        ],
        "top_performing": [row_of(row) for row in performance.top_performing],
        "to_work_on": [row_of(row) for row in performance.to_work_on],
        "rows": [row_of(row) for row in rows],
        "sources_text": sources_text(
            performance.satisfaction_source, performance.resolution_source
        ),
        "headers": _sort_headers(state, path, params, performance),
        "sort_text": _sort_words(params, performance),
        "coaching_href": _coaching_link(viewer, agent.agent_id),
        "min_interactions": MIN_INTERACTIONS,
        "bands": BAND_LABELS,
        "source_words": SOURCE_WORDS,
        "state": state,
    }


def _sort_words(params: PerformanceParams, performance: AgentPerformance) -> str:
    what = "volume" if params.sort == "volume" else performance.label(params.sort)
    return f"{what}, {'high to low' if params.descending else 'low to high'}"


@member_required
@errors_as_page
def inquiry_page(request: HttpRequest, agent_id: str, inquiry: str) -> HttpResponse:
    """One inquiry: each metric with its band, the metric to focus on, recent examples."""
    viewer = viewer_of(request)
    store = scored_store()
    agent = find_agent(store, agent_id, viewer)
    params = _params(request)
    window = params.window()
    channel = params.model
    if channel is None:
        # No model in the URL: the agent page's default, the agent's busiest channel.
        channel = agent_performance(store, viewer, agent_id, channel=None, window=window).channel
    detail = focused_detail(
        store, viewer, agent_id, channel=channel, inquiry=inquiry, window=window
    )
    path = inquiry_path(agent_id, inquiry)
    state = link_state(request.GET, params)
    state.values["model"] = detail.channel or ""
    state.values["sort"] = state.values["dir"] = ""
    context = _inquiry_context(viewer, agent, detail, state)
    context.update(_window_context(params, state, path, window))
    context["estimate_note"] = estimate_note(store.settings.handle_time_estimate_cap_seconds)
    return render(request, "performance/inquiry.html", context)


def focused_detail(
    store: Store,
    viewer: Viewer,
    agent_id: str,
    *,
    channel: str,
    inquiry: str,
    window: Window,
) -> InquiryDetail:
    """The inquiry's detail with the coaching wizard's recommendation: the focus moves off
    handle time when most of the agent's handle time on the inquiry is estimated, so this
    page and the wizard never disagree on what to work on (issue 15)."""
    detail = inquiry_detail(
        store, viewer, agent_id, channel=channel, inquiry=inquiry, window=window
    )
    as_of = window.end or window.as_of or clock.now()
    metric, explanation = recommendation_for(store, detail, as_of=as_of)
    recommendation = replace(detail.recommendation, metric=metric, explanation=explanation)
    return replace(detail, recommendation=recommendation)


def _inquiry_context(
    viewer: Viewer, agent: Agent, detail: InquiryDetail, state: LinkState
) -> dict[str, Any]:
    performance = detail.performance
    recommendation = detail.recommendation
    metrics = [
        comparison(metric, performance.metrics[metric], performance.source_of(metric))
        for metric in METRIC_ORDER
        if metric in performance.metrics
    ]
    gaps = [
        {
            "key": metric,
            "label": performance.label(metric),
            "gap": EMPTY if gap is None else f"{gap:.2f}",
            "recommended": metric == recommendation.metric,
        }
        for metric, gap in recommendation.gaps.items()
        if metric in METRIC_ORDER
    ]
    coaching = (
        f"{COACHING_NEW}?agent={quote(agent.agent_id, safe='')}"
        f"&model={quote(detail.channel, safe='')}&inquiry={quote(performance.inquiry, safe='')}"
    )
    return {
        "nav": "performance",
        "heading": performance.inquiry,
        "agent": agent,
        "is_agent": viewer.is_agent,
        "owner_heading": _heading(viewer, agent),
        "back_href": state.link(agent_path(agent.agent_id)),
        "channel": detail.channel,
        "model": status.channel_status(detail.channel) if detail.channel else None,
        "inquiry": performance.inquiry,
        "volume": performance.volume,
        "volume_share": f"{100 * performance.volume_share:.0f}%",
        "impact": impact_text(performance.impact),
        "impact_words": impact_words(performance.impact, own=viewer.is_agent),
        "prediction_source": sources_text(
            performance.satisfaction_source, performance.resolution_source
        ),
        "satisfaction_source": performance.satisfaction_source,
        "resolution_source": performance.resolution_source,
        "metrics": metrics,
        "recommendation": recommendation,
        "recommended": None
        if recommendation.metric is None
        else {"key": recommendation.metric, "label": performance.label(recommendation.metric)},
        "gaps": gaps,
        "examples": [_example(example) for example in detail.examples],
        "examples_estimated": any(example.handle_time_estimated for example in detail.examples),
        "coaching_new_href": coaching,
        "min_interactions": MIN_INTERACTIONS,
        "state": state,
    }


def _example(example: Any) -> dict[str, Any]:
    return {
        "conversation_id": example.conversation_id,
        "created_at": example.created_at,
        "handle": EMPTY
        if example.handle_seconds is None
        else format_duration(example.handle_seconds),
        "handle_estimated": example.handle_time_estimated,
        "satisfaction": _outcome_text(
            "predicted_satisfaction",
            example.predicted_satisfaction,
            measured=example.satisfaction_source != "model",
        ),
        "resolution": _outcome_text(
            "predicted_resolution",
            example.predicted_resolution,
            measured=example.resolution_source != "model",
        ),
        "source": example.prediction_source,
        "satisfaction_measured": example.satisfaction_source != "model",
        "resolution_measured": example.resolution_source != "model",
        "csat": EMPTY if example.csat_score is None else str(example.csat_score),
        "fcr": EMPTY if example.fcr is None else ("yes" if example.fcr else "no"),
        "effectiveness": metric_text("effectiveness_score", example.effectiveness),
        "href": f"/analytics/conversations/{quote(example.conversation_id, safe='')}/",
    }


def _outcome_text(metric: str, value: float | None, *, measured: bool) -> str:
    """A prediction as a percent; a measured outcome (1.0 / 0.0) as yes or no."""
    if not measured:
        return metric_text(metric, value)
    return EMPTY if value is None else ("yes" if value >= 0.5 else "no")
