"""The /analytics pages: team dashboard with the leaderboard, agent drill-downs, one-on-ones,
the conversations behind a number and a conversation's timeline.

Views only arrange what the analysis layer returns. Every view that loads an object goes
through the core's one finder for it (`find_agent`, `conversation_detail`), which refuses
anything the viewer may not see with NotVisibleError: `errors_as_page` answers it with
the 404 page, exactly as for an id nobody has.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from deskpulse.analysis.agents import find_agent
from deskpulse.analysis.conversations import (
    ConversationFilters,
    conversations_csv,
    list_conversations,
)
from deskpulse.analysis.drilldown import (
    agent_board,
    agent_dashboard_payload,
    window_dashboard_payload,
)
from deskpulse.analysis.leaderboard import (
    COLUMNS,
    FEW_CSAT_RESPONSES,
    Leaderboard,
    column_label,
    leaderboard,
)
from deskpulse.analysis.leaderboard import leaderboard_csv as board_csv
from deskpulse.analysis.load_balancing import QUADRANTS, LoadBalance, LoadPoint, load_balance
from deskpulse.analysis.one_on_one import Comparison as OneOnOneComparison
from deskpulse.analysis.one_on_one import one_on_one, prompts
from deskpulse.analysis.timeline import conversation_detail
from deskpulse.events.store import Store
from deskpulse.metrics.dashboard import TILE_METRICS, TimeBasis, read_time
from deskpulse.metrics.format import EMPTY, format_value
from deskpulse.metrics.query import Filters, Viewer
from deskpulse.metrics.registry import REGISTRY
from deskpulse.metrics.window import Window
from deskpulse.web.access import member_required, viewer_of
from deskpulse.web.accounts.teams import team_names
from deskpulse.web.analytics import charts
from deskpulse.web.analytics.filters import LABELS, filter_form, read_scope, scope_params
from deskpulse.web.analytics.present import (
    FEW_SAMPLES,
    duration_text,
    is_few,
    percent_text,
    score_text,
    tiles,
)
from deskpulse.web.api.problems import errors_as_page
from deskpulse.web.names import names_for
from deskpulse.web.params import PageState, ParameterError, page_state, read_window
from deskpulse.web.request_guard import note_bad_parameter
from deskpulse.web.runtime import install_settings, store_with_facts
from deskpulse.web.signals.present import panel_context

logger = logging.getLogger("deskpulse.web")

PERIOD_LINKS = (("7d", "7 days"), ("14d", "14 days"), ("30d", "30 days"), ("90d", "90 days"))

# What the leaderboard does not measure (seed 000), shown on every page that ranks people.
NOT_MEASURED = (
    ("Quality of writing.", "Read the conversations themselves."),
    (
        "Depth of solution.",
        "A 30-second canned reply and a 30-minute investigation both count as one conversation.",
    ),
    (
        "Customer effort.",
        "A conversation that took 4 messages back and forth shows the same as a "
        "one-message resolution. CSAT is your signal there.",
    ),
)


def _window(request: HttpRequest) -> Window:
    """The URL's period; a bad one is reported on the page and 30 days shown instead."""
    try:
        return read_window(request.GET, install_settings().tz)
    except ParameterError as error:
        messages.error(request, f"{error.field}: {error.message}. Showing the last 30 days.")
        note_bad_parameter(request)
        return Window()


def _period_label(window: Window, start: datetime, end: datetime) -> str:
    last = end - timedelta(microseconds=1)
    span = f"{start:%b %-d} \u2013 {last:%b %-d, %Y}"
    if window.period == "custom":
        return span
    return f"last {window.period.removesuffix('d')} days ({span})"


def _period_context(request: HttpRequest, window: Window, path: str) -> dict[str, Any]:
    # The dashboard's filters travel with every link, like the period.
    state = page_state(request.GET, window)
    state = PageState({**state.values, **scope_params(request.GET)})
    return {
        "state": state,
        "window": window,
        "time_basis": read_time(request.GET.get("time")),
        "period_links": [
            (name, label, state.link(path, period=name, **{"from": None, "to": None}))
            for name, label in PERIOD_LINKS
        ],
        "custom_from": request.GET.get("from", ""),
        "custom_to": request.GET.get("to", ""),
        "as_of": request.GET.get("as_of", ""),
    }


def _board_choices(request: HttpRequest) -> tuple[str, bool, TimeBasis]:
    """The leaderboard's sort column, order and time basis from the URL; a value that
    names nothing is a ParameterError (a 400 page naming it)."""
    sort = request.GET.get("sort") or "handled"
    order = (request.GET.get("order") or "").strip()
    if order not in ("", "asc", "desc"):
        raise ParameterError("order", "asc (low to high) or desc (high to low)")
    descending = (order or ("asc" if sort == "agent" else "desc")) != "asc"
    time = (request.GET.get("time") or "").strip()
    if time not in ("", "calendar", "business"):
        raise ParameterError("time", "calendar or business")
    return sort, descending, read_time(time)


# -- building blocks shared by the team page and the drill-down ------------------------


def _time_links(state: PageState, path: str) -> list[tuple[str, str, str]]:
    """The calendar / business-hours toggle: (value, label, href), keeping the rest."""
    return [
        ("calendar", "Calendar time", state.link(path, time=None)),
        ("business", "Business hours", state.link(path, time="business")),
    ]


def _dashboard_context(
    store: Store,
    window: Window,
    viewer: Viewer,
    filters: Filters,
    conversations_link: Callable[[str], str],
    time: TimeBasis = "calendar",
    tile_names: tuple[str, ...] = TILE_METRICS,
) -> dict[str, Any]:
    if filters.agent is not None:
        scope = filters.model_copy(update={"agent": None})
        payload = agent_dashboard_payload(store, window, filters.agent, viewer, time, scope)
    else:
        payload = window_dashboard_payload(store, window, viewer, filters, time)
    period = payload["period"]
    previous = payload["previous_period"]
    previous_label = "the previous period"
    if previous is not None:
        previous_start = datetime.fromisoformat(previous["from"])
        previous_end = datetime.fromisoformat(previous["to"])
        last = previous_end - timedelta(microseconds=1)
        previous_label = f"the previous period ({previous_start:%b %-d} \u2013 {last:%b %-d})"
    settings = install_settings()
    figures = {
        "chart-volume": charts.volume_by_channel(payload["volume_by_channel"]),
        "chart-first-response": charts.first_response(payload["series"]),
        "chart-csat": charts.csat(payload["series"]),
        "chart-ai-share": charts.ai_vs_human(payload["series"]),
    }
    return {
        "payload": payload,
        "period_text": _period_label(
            window, datetime.fromisoformat(period["from"]), datetime.fromisoformat(period["to"])
        ),
        "tiles": tiles(
            payload,
            tile_names,
            previous_label=previous_label,
            currency=settings.currency,
            link=conversations_link,
            per_agent=tuple(payload.get("per_agent_tiles", ())),
        ),
        "figures": figures,
        "score_cards": [
            (_score_card(payload, "csat"), "CSAT"),
            (_score_card(payload, "nps"), "NPS"),
        ],
        "few_samples": FEW_SAMPLES,
    }


def _score_card(payload: dict[str, Any], card: str) -> dict[str, Any]:
    spread = payload["distributions"][card]
    total = sum(bucket["responses"] for bucket in spread)
    biggest = max((bucket["responses"] for bucket in spread), default=0)
    metrics = payload["tiles"]["metrics"]
    bars = [
        {
            "score": bucket["score"],
            "responses": bucket["responses"],
            "share": percent_text(bucket["responses"] / total) if total else EMPTY,
            "width": round(100 * bucket["responses"] / biggest) if biggest else 0,
            "group": _score_group(card, bucket["score"]),
        }
        for bucket in spread
    ]
    if card == "csat":
        headline = [
            ("CSAT", format_value(REGISTRY["csat_mean"], metrics["csat_mean"]["value"])),
            ("% satisfied (4\u20135)", percent_text(metrics["csat_satisfied_rate"]["value"])),
            ("Response rate", percent_text(metrics["csat_response_rate"]["value"])),
        ]
    else:
        headline = [("NPS", format_value(REGISTRY["nps"], metrics["nps"]["value"]))]
    return {
        "bars": bars,
        "responses": total,
        "responses_text": f"{total:,}",
        "headline": headline,
        "few": 0 < total < FEW_SAMPLES,
    }


def _score_group(card: str, score: int) -> str:
    if card == "csat":
        return "satisfied" if score >= 4 else ("neutral" if score == 3 else "dissatisfied")
    return "promoter" if score >= 9 else ("passive" if score >= 7 else "detractor")


def _leaderboard_rows(board: Leaderboard, state: PageState) -> list[dict[str, Any]]:
    rows = []
    for row in board.rows:
        replies = row.assist_as_is.n
        rows.append(
            {
                "agent_id": row.agent_id,
                "name": row.name,
                "kind": row.kind,
                "href": state.link(f"/analytics/agents/{row.agent_id}/", sort=None, order=None),
                "handled": format_value(REGISTRY["handled"], row.handled.value or 0),
                "first_response": duration_text(_float(row.first_response_median.value)),
                "first_response_n": row.first_response_median.n,
                "first_response_few": is_few(
                    REGISTRY["first_response_median"], row.first_response_median.n
                ),
                "csat": score_text(_float(row.csat_mean.value)),
                "csat_n": row.csat_mean.n,
                "csat_few": row.few_csat_responses,
                "csat_shrunk": score_text(row.csat_shrunk),
                "assist": {
                    "as_is": _share(row.assist_as_is.value),
                    "edited": _share(row.assist_edited.value),
                    "scratch": _share(row.assist_scratch.value),
                    "replies": replies,
                },
                "ai_drafted": percent_text(_float(row.ai_drafted_rate.value)),
                "mentions": format_value(REGISTRY["mentions"], row.mentions.value or 0),
            }
        )
    return rows


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _share(value: float | int | None) -> float:
    return 0.0 if value is None else round(100 * float(value), 1)


def _sort_headers(board: Leaderboard, state: PageState) -> list[dict[str, Any]]:
    headers = []
    for column in COLUMNS:
        active = board.sort == column.key
        order = "asc" if active and board.descending else "desc"
        if not active and column.key == "agent":
            order = "asc"
        headers.append(
            {
                "key": column.key,
                "label": column_label(column, board.time),
                "numeric": column.key != "agent",
                "aria_sort": ("descending" if board.descending else "ascending")
                if active
                else "none",
                "href": state.link("/analytics/", sort=column.key, order=order) + "#leaderboard",
            }
        )
    return headers


QUADRANT_COLOURS = {
    "workhorse": "#2a9d8f",
    "underloaded": "#2456c7",
    "drowning": "#c44e52",
    "context_needed": "#d4a017",
    None: "#8a93a3",
}


def close_call_text(point: LoadPoint, balance: LoadBalance) -> str:
    """A sentence when the agent's point sits exactly on a team median: the quadrant then
    says "busier than most" or "faster than most" of a person who is in the middle."""
    said = []
    if balance.handled_threshold is not None and point.handled == balance.handled_threshold:
        said.append(f"your {point.handled} handled is exactly the team's middle figure")
    if (
        balance.first_response_threshold is not None
        and point.first_response_median == balance.first_response_threshold
    ):
        said.append("your median first response is exactly the team's middle figure")
    if not said:
        return ""
    return " and ".join(said).capitalize() + ", so this side of the line is a close call."


def _load_context(balance: LoadBalance, state: PageState) -> dict[str, Any]:
    names = {quadrant.key: quadrant for quadrant in QUADRANTS}
    # An agent sees their own point in their own terms, never a lead's verdict about them.
    own = balance.own

    def quadrant_name(key: str | None) -> str:
        if key not in names:
            return EMPTY
        return names[key].own_name if own else names[key].name

    points = [
        {
            "name": point.name,
            "handled": point.handled,
            "first_response_median": point.first_response_median,
            "href": state.link(f"/analytics/agents/{point.agent_id}/", sort=None, order=None),
            "colour": QUADRANT_COLOURS.get(point.quadrant, "#8a93a3"),
        }
        for point in balance.points
        if point.first_response_median is not None
    ]
    mine = balance.points[0] if own and balance.points else None
    return {
        "figure": charts.load_scatter(
            points,
            balance.handled_threshold,
            balance.first_response_threshold,
            {q.key: q.own_name for q in QUADRANTS} if own else None,
        ),
        "own": own,
        "mine": None
        if mine is None or mine.quadrant not in names
        else {
            "name": quadrant_name(mine.quadrant),
            "words": names[mine.quadrant].own_words,
            "handled": mine.handled,
            "first_response": duration_text(mine.first_response_median),
            "on_the_line": close_call_text(mine, balance),
        },
        "quadrants": QUADRANTS,
        "placed": [
            {
                "name": point.name,
                "href": state.link(f"/analytics/agents/{point.agent_id}/", sort=None, order=None),
                "handled": point.handled,
                "first_response": duration_text(point.first_response_median),
                "quadrant": quadrant_name(point.quadrant),
            }
            for point in balance.points
        ],
        "handled_threshold": EMPTY
        if balance.handled_threshold is None
        else f"{balance.handled_threshold:g}",
        "response_threshold": duration_text(balance.first_response_threshold),
        "left_out": balance.left_out,
    }


def _scope_text(filters: Filters, names: dict[str, str]) -> str:
    """The filters in words, for the line that says the whole page is narrowed."""
    parts = []
    for name, (label, _) in LABELS.items():
        value = getattr(filters, name)
        if value is not None:
            shown = names.get(value, value) if name == "team" else value
            parts.append(f"{label.lower()} {shown}")
    return ", ".join(parts)


# -- pages ------------------------------------------------------------------------------


@member_required
@errors_as_page
def analytics(request: HttpRequest) -> HttpResponse:
    """/analytics: tiles, charts, CSAT/NPS cards, load balancing, then the leaderboard."""
    viewer = viewer_of(request)
    store = store_with_facts()
    window = _window(request)
    context = _period_context(request, window, "/analytics/")
    state: PageState = context["state"]
    filters = read_scope(request.GET, store, viewer)
    team = filters.team
    sort, descending, time = _board_choices(request)

    def conversations_link(metric: str) -> str:
        # The list behind a tile: the same filters (the team is the conversations' team).
        return state.link("/analytics/conversations/", metric=metric, sort=None, order=None)

    context["time_links"] = _time_links(state, "/analytics/")
    context.update(_dashboard_context(store, window, viewer, filters, conversations_link, time))
    board = leaderboard(
        store,
        window,
        viewer,
        team=team,
        sort=sort,
        descending=descending,
        time=time,
        filters=filters,
    )
    balance = load_balance(store, window, viewer, team=team, viewer_board=board, filters=filters)
    names = team_names()
    context["figures"]["chart-load"] = _load_context(balance, state)["figure"]
    # Friction signals only when already cached: otherwise the panel loads after the page
    # from /analytics/signals/panel/, so the statistics never slow the dashboard down.
    context["signals"] = panel_context(store, window, viewer, state, compute=False, filters=filters)
    context["filter_form"] = filter_form(store, viewer, filters, state.values)
    context["scope_text"] = _scope_text(filters, names)
    context["clear_filters_href"] = state.link(
        "/analytics/", **dict.fromkeys(scope_params(request.GET))
    )
    context.update(
        {
            "nav": "analytics",
            "heading": "Team analytics",
            "board": board,
            "board_rows": _leaderboard_rows(board, state),
            "board_headers": _sort_headers(board, state),
            "few_csat": FEW_CSAT_RESPONSES,
            "team": team,
            "team_name": names.get(team, team) if team else "",
            "csv_href": state.link("/analytics/leaderboard.csv"),
            # Owners and admins compare the teams; an agent has only their own.
            "teams_href": None
            if viewer.is_agent
            else state.link("/analytics/teams/", **dict.fromkeys(scope_params(request.GET))),
            "load": _load_context(balance, state),
            "not_measured": NOT_MEASURED,
        }
    )
    return render(request, "analytics/dashboard.html", context)


@member_required
@errors_as_page
def leaderboard_export(request: HttpRequest) -> HttpResponse:
    """The leaderboard exactly as the page shows it (same period, team and order), as CSV."""
    viewer = viewer_of(request)
    store = store_with_facts()
    window = read_window(request.GET, install_settings().tz)
    filters = read_scope(request.GET, store, viewer)
    sort, descending, time = _board_choices(request)
    board = leaderboard(
        store,
        window,
        viewer,
        team=filters.team,
        sort=sort,
        descending=descending,
        time=time,
        filters=filters,
    )
    response = HttpResponse(board_csv(board), content_type="text/csv; charset=utf-8")
    first = board.period.start.date().isoformat()
    last = (board.period.end - timedelta(microseconds=1)).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="leaderboard-{first}-{last}.csv"'
    return response


@member_required
@errors_as_page
def agent_page(request: HttpRequest, agent_id: str) -> HttpResponse:
    """One agent's drill-down: the team page's tiles and charts, scoped to their work."""
    viewer = viewer_of(request)
    store = store_with_facts()
    agent = find_agent(store, agent_id, viewer)
    window = _window(request)
    scope = read_scope(request.GET, store, viewer)
    path = f"/analytics/agents/{agent_id}/"
    context = _period_context(request, window, path)
    state: PageState = context["state"]

    def conversations_link(metric: str) -> str:
        return state.link(
            "/analytics/conversations/",
            metric=metric,
            agent=agent_id,
            sort=None,
            order=None,
        )

    time = read_time(request.GET.get("time"))
    context["time_links"] = _time_links(state, path)
    # A person's conversations are never AI-handled (they replied), and an AI agent
    # drafts nothing for itself: each drill-down shows the reading that describes it.
    unread = "ai_handled_rate" if agent.kind == "human" else "ai_drafted_rate"
    context.update(
        _dashboard_context(
            store,
            window,
            viewer,
            scope.model_copy(update={"agent": agent_id}),
            conversations_link,
            time,
            tuple(name for name in TILE_METRICS if name != unread),
        )
    )
    board = agent_board(store, window, agent_id, viewer, time, scope)
    rows = _leaderboard_rows(board, state)
    context.update(
        {
            "nav": "mine" if viewer.is_agent else "analytics",
            # An agent only ever opens their own drill-down: it speaks to them.
            "own": viewer.is_agent,
            "agent": agent,
            "heading": agent.name,
            "row": rows[0] if rows else None,
            "one_on_one_href": state.link(
                f"{path}one-on-one/", period=None, sort=None, order=None, team=None
            ),
            "conversations_href": state.link(
                "/analytics/conversations/", agent=agent_id, sort=None, order=None
            ),
            "filter_form": filter_form(store, viewer, scope, state.values),
            "scope_text": _scope_text(scope, team_names()),
            "clear_filters_href": state.link(path, **dict.fromkeys(scope_params(request.GET))),
            "not_measured": NOT_MEASURED,
        }
    )
    return render(request, "analytics/agent.html", context)


@member_required
@errors_as_page
def one_on_one_page(request: HttpRequest, agent_id: str) -> HttpResponse:
    """Seed 000's 15-minute one-on-one, over 30 days against the prior 30 and the team."""
    viewer = viewer_of(request)
    store = store_with_facts()
    agent = find_agent(store, agent_id, viewer)
    as_of = read_window({"as_of": request.GET.get("as_of")}, install_settings().tz).as_of
    meeting = one_on_one(store, agent_id, viewer, as_of=as_of)
    keep = {"as_of": request.GET.get("as_of") or None}
    state = PageState({k: v for k, v in keep.items() if v})
    return render(
        request,
        "analytics/one_on_one.html",
        {
            "nav": "mine" if viewer.is_agent else "analytics",
            "own": viewer.is_agent,
            "agent": agent,
            "meeting": meeting,
            "prompts": {
                prompt.key: prompt.text
                for prompt in prompts(meeting, "self" if viewer.is_agent else "lead")
            },
            "rows": [
                _comparison(c) for c in (meeting.volume, meeting.first_response, meeting.csat)
            ],
            "assist_rows": [_comparison(c) for c in meeting.ai_assist],
            "period_text": _period_label(Window(), meeting.period.start, meeting.period.end),
            "drilldown_href": state.link(f"/analytics/agents/{agent_id}/", period="30d"),
            "low_scores": [
                {
                    **asdict(low),
                    "href": f"/analytics/conversations/{low.conversation_id}/",
                }
                for low in meeting.low_scores
            ],
            "low_list_href": state.link(
                "/analytics/conversations/",
                agent=agent_id,
                period="30d",
                metric="csat_mean",
                max_csat="2",
            ),
        },
    )


def _comparison(comparison: OneOnOneComparison) -> dict[str, Any]:
    # The comparison's key is its registry metric: the one formatter reads it as shown
    # everywhere else.
    metric = REGISTRY[comparison.key]

    def text(value: float | int | None) -> str:
        return format_value(metric, value, install_settings().currency)

    wording = {
        "better": "better",
        "worse": "worse",
        "same": "the same",
        "up": "up",
        "down": "down",
        "no_data": "not enough data",
    }
    return {
        "label": comparison.label,
        "value": text(comparison.value.value),
        "n": comparison.value.n,
        "reference": text(comparison.reference.value),
        "reference_n": comparison.reference.n,
        "reference_label": comparison.reference_label,
        "verdict": wording[comparison.verdict],
        "css": {"better": "better", "worse": "worse"}.get(comparison.verdict, "same"),
    }


# What "in the period" means for the list behind a number: the event that completes it.
COMPLETING_EVENT = {
    "created_at": "creation",
    "first_reply_at": "first public reply",
    "first_response_at": "first response",
    "first_human_response_at": "first human response",
    "agent_first_response_at": "agent's first response",
    "first_resolved_at": "first resolution",
    "full_resolved_at": "final resolution",
    "resolved_at": "resolution",
    "csat_at": "CSAT answer",
    "nps_at": "NPS answer",
    "ces_at": "CES answer",
    "first_mentioned_at": "first mention",
}

CONVERSATION_FILTERS = (
    "channel",
    "inbox",
    "inquiry",
    "team",
    "customer_tier",
    "language",
    "status",
    "agent",
    "metric",
)


def _conversation_filters(request: HttpRequest) -> ConversationFilters:
    values: dict[str, Any] = {
        name: (request.GET.get(name) or "").strip() or None for name in CONVERSATION_FILTERS
    }
    low = (request.GET.get("max_csat") or "").strip()
    if low:
        if not low.isdigit() or not 1 <= int(low) <= 5:
            raise ParameterError("max_csat", "a CSAT score from 1 to 5")
        values["max_csat"] = int(low)
    for flag in ("escalated", "ai_handled"):
        raw = (request.GET.get(flag) or "").strip().lower()
        if raw:
            if raw not in ("yes", "no", "true", "false", "1", "0"):
                raise ParameterError(flag, "yes or no")
            values[flag] = raw in ("yes", "true", "1")
    search = (request.GET.get("q") or "").strip()
    if search:
        values["search"] = search
    return ConversationFilters(**values)


@member_required
@errors_as_page
def conversations_page(request: HttpRequest) -> HttpResponse:
    """The conversations behind a number: same period, same filters, same definition."""
    viewer = viewer_of(request)
    store = store_with_facts()
    window = _window(request)
    read_scope(request.GET, store, viewer)  # a value the data does not know is named
    filters = _conversation_filters(request)
    agent = None if filters.agent is None else find_agent(store, filters.agent, viewer)
    try:
        page_number = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        raise ParameterError("page", "a page number") from None
    limit = 50
    listing = list_conversations(
        store, window, viewer, filters, limit=limit, offset=(page_number - 1) * limit
    )
    context = _period_context(request, window, "/analytics/conversations/")
    base = {
        **{
            name: request.GET.get(name, "")
            for name in (*CONVERSATION_FILTERS, "max_csat", "q", "escalated", "ai_handled")
        },
        **context["state"].values,
    }
    base.pop("sort", None)
    base.pop("order", None)
    state = PageState({k: v for k, v in base.items() if v})
    context["state"] = state
    context["period_links"] = [
        (
            name,
            label,
            state.link("/analytics/conversations/", period=name, **{"from": None, "to": None}),
        )
        for name, label in PERIOD_LINKS
    ]
    pages = max(1, -(-listing.total // limit))
    metric = REGISTRY.get(filters.metric or "")
    context.update(
        {
            "nav": "conversations",
            "listing": listing,
            "rows": [
                {
                    **asdict(row),
                    "href": f"/analytics/conversations/{row.conversation_id}/",
                    "first_response": duration_text(row.first_response_seconds),
                    "full_resolution": duration_text(row.full_resolution_seconds),
                    "handle": duration_text(row.handle_seconds),
                    "agent_first_response": duration_text(row.agent_first_response_seconds),
                }
                for row in listing.rows
            ],
            "filters": filters,
            "agent": agent,
            "completing_event": COMPLETING_EVENT.get(
                listing.time_column, listing.time_column.replace("_", " ")
            ),
            "metric": metric,
            "metrics": sorted(REGISTRY.values(), key=lambda m: m.label),
            "params": request.GET,
            "page": page_number,
            "pages": pages,
            "previous_href": state.link("/analytics/conversations/", page=str(page_number - 1))
            if page_number > 1
            else None,
            "next_href": state.link("/analytics/conversations/", page=str(page_number + 1))
            if page_number < pages
            else None,
            "csv_href": state.link("/analytics/conversations.csv"),
            "is_agent": viewer.is_agent,
            "channels": ("chat", "email", "voice", "social", "sms", "other"),
            "statuses": ("open", "pending", "snoozed", "resolved"),
        }
    )
    return render(request, "analytics/conversations.html", context)


@member_required
@errors_as_page
def conversations_export(request: HttpRequest) -> HttpResponse:
    viewer = viewer_of(request)
    store = store_with_facts()
    window = read_window(request.GET, install_settings().tz)
    read_scope(request.GET, store, viewer)
    filters = _conversation_filters(request)
    if filters.agent is not None:
        find_agent(store, filters.agent, viewer)
    rows = []
    offset = 0
    while True:
        listing = list_conversations(store, window, viewer, filters, limit=500, offset=offset)
        rows.extend(listing.rows)
        offset += 500
        if offset >= listing.total or offset >= 50_000:
            break
    response = HttpResponse(conversations_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="conversations.csv"'
    return response


@member_required
@errors_as_page
def conversation_page(request: HttpRequest, conversation_id: str) -> HttpResponse:
    """One conversation's events, each computed duration, and what started and stopped it."""
    viewer = viewer_of(request)
    detail = conversation_detail(store_with_facts(), conversation_id, viewer, names_for(request))
    clocks = [
        {
            **asdict(clock),
            "duration": duration_text(clock.seconds),
            # Only durations have a business-hours reading; the others show the empty mark.
            "business_duration": duration_text(clock.business_seconds),
        }
        for clock in detail.clocks
    ]
    return render(
        request,
        "analytics/conversation.html",
        {
            "nav": "conversations",
            "detail": detail,
            "facts": detail.facts,
            "clocks": clocks,
            "events": detail.events,
        },
    )
