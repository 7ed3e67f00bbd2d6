"""The JSON API behind every /analytics page, with the pages' scoping.

Each endpoint calls the same analysis function as its page, so a number on a page and
the same number from the API cannot differ. A signed-in session or a bearer token with
the `read` scope (web/api/auth.py has the one rule). Another agent's objects answer 404.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router
from ninja import Query as NinjaQuery

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
from deskpulse.analysis.leaderboard import leaderboard, leaderboard_csv
from deskpulse.analysis.load_balancing import QUADRANTS, load_balance
from deskpulse.analysis.one_on_one import one_on_one
from deskpulse.analysis.timeline import conversation_detail
from deskpulse.metrics.dashboard import SCOPE_FILTERS, TimeBasis
from deskpulse.metrics.query import Filters, Viewer
from deskpulse.metrics.window import Window
from deskpulse.names import agent_label
from deskpulse.web.analytics.filters import read_scope
from deskpulse.web.analytics.teams import csv_response, teams_payload
from deskpulse.web.api.auth import READ, viewer_of
from deskpulse.web.api.contract import errors
from deskpulse.web.api.errors import ApiError
from deskpulse.web.api.jsonable import jsonable
from deskpulse.web.api.window_params import ReportingPeriodParams
from deskpulse.web.names import names_for
from deskpulse.web.params import read_window
from deskpulse.web.runtime import install_settings, store_with_facts

router = Router(auth=READ, tags=["analytics"])


class PeriodParams(ReportingPeriodParams):
    time: Literal["calendar", "business"] = Field(
        default="calendar", description="business: durations in business hours"
    )


class ScopedParams(PeriodParams):
    """The dashboard's filters: each narrows every number to the conversations it selects."""

    team: str | None = Field(
        default=None,
        description="the conversations of this team (the leaderboard: its members' work on them)",
    )
    channel: str | None = Field(default=None, description="chat, email, voice, social, sms, other")
    inbox: str | None = Field(default=None, description="an inbox id")
    inquiry: str | None = Field(default=None, description="an inquiry type")
    customer_tier: str | None = Field(default=None, description="a customer tier")
    language: str | None = Field(default=None, description="a language")

    def scope(self, viewer: Viewer) -> Filters:
        """The filters, refused (422 naming the parameter and value) when the data knows
        no such value; an agent's team is checked by the query layer (404 if not theirs)."""
        return read_scope(self.model_dump(include=set(SCOPE_FILTERS)), store_with_facts(), viewer)


class BoardParams(ScopedParams):
    sort: str = Field(default="handled", description="column key to sort by")
    order: Literal["asc", "desc"] = "desc"


class ConversationParams(PeriodParams):
    metric: str | None = Field(default=None, description="list the conversations behind it")
    agent: str | None = None
    channel: str | None = None
    inbox: str | None = None
    inquiry: str | None = None
    team: str | None = None
    customer_tier: str | None = None
    language: str | None = None
    status: str | None = None
    max_csat: int | None = Field(default=None, ge=1, le=5)
    escalated: bool | None = None
    ai_handled: bool | None = None
    q: str | None = Field(default=None, description="a conversation or customer id")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)

    def filters(self) -> ConversationFilters:
        return ConversationFilters(
            channel=self.channel,
            inbox=self.inbox,
            inquiry=self.inquiry,
            team=self.team,
            customer_tier=self.customer_tier,
            language=self.language,
            status=self.status,
            agent=self.agent,
            metric=self.metric,
            max_csat=self.max_csat,
            escalated=self.escalated,
            ai_handled=self.ai_handled,
            search=self.q,
        )


def _payload(
    window: Window, viewer: Viewer, filters: Filters, time: TimeBasis = "calendar"
) -> dict[str, Any]:
    return window_dashboard_payload(store_with_facts(), window, viewer, filters, time)


def _board(params: BoardParams, viewer: Viewer, filters: Filters | None = None) -> Any:
    scope = params.scope(viewer) if filters is None else filters
    return leaderboard(
        store_with_facts(),
        params.window(),
        viewer,
        team=scope.team,
        sort=params.sort,
        descending=params.order == "desc",
        time=params.time,
        filters=scope,
    )


@router.get(
    "/dashboard",
    summary="The /analytics page: tiles, charts, cards, load, leaderboard",
    openapi_extra=errors(404, 504),
)
def get_dashboard(request: HttpRequest, params: NinjaQuery[BoardParams]) -> dict[str, Any]:
    viewer = viewer_of(request)
    window = params.window()
    filters = params.scope(viewer)  # parameters before the work
    payload = _payload(window, viewer, filters, params.time)
    board = _board(params, viewer, filters)
    payload["leaderboard"] = jsonable(board)
    payload["load_balancing"] = jsonable(
        load_balance(
            store_with_facts(),
            window,
            viewer,
            team=filters.team,
            viewer_board=board,
            filters=filters,
        )
    )
    return payload


def _whole_team(request: HttpRequest) -> None:
    if viewer_of(request).is_agent:
        raise ApiError(403, "admins_only", "teams side by side is for owners and admins")


@router.get(
    "/teams",
    summary="Every team side by side: the dashboard's tiles per team, with n and change",
    openapi_extra=errors(403, 504),
)
def get_teams(request: HttpRequest, params: NinjaQuery[PeriodParams]) -> dict[str, Any]:
    _whole_team(request)
    return teams_payload(store_with_facts(), params.window(), params.time)


@router.get(
    "/teams.csv",
    summary="Teams side by side as CSV: value, n, previous value and change per tile",
    openapi_extra=errors(403, 504),
)
def get_teams_csv(request: HttpRequest, params: NinjaQuery[PeriodParams]) -> HttpResponse:
    _whole_team(request)
    return csv_response(teams_payload(store_with_facts(), params.window(), params.time))


@router.get(
    "/leaderboard",
    summary="The agent leaderboard (agents: their own row only)",
    openapi_extra=errors(404, 504),
)
def get_leaderboard(request: HttpRequest, params: NinjaQuery[BoardParams]) -> dict[str, Any]:
    viewer = viewer_of(request)
    return jsonable(_board(params, viewer))  # type: ignore[no-any-return]


@router.get(
    "/leaderboard.csv",
    summary="The leaderboard as CSV, exactly as the page shows it",
    openapi_extra=errors(404, 504),
)
def get_leaderboard_csv(request: HttpRequest, params: NinjaQuery[BoardParams]) -> HttpResponse:
    viewer = viewer_of(request)
    board = _board(params, viewer)
    response = HttpResponse(leaderboard_csv(board), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="leaderboard.csv"'
    return response


@router.get(
    "/load-balancing",
    summary="Handled vs median first response, with quadrants",
    openapi_extra=errors(404, 504),
)
def get_load_balancing(request: HttpRequest, params: NinjaQuery[BoardParams]) -> dict[str, Any]:
    viewer = viewer_of(request)
    window = params.window()
    filters = params.scope(viewer)
    balance = load_balance(store_with_facts(), window, viewer, team=filters.team, filters=filters)
    if balance.own:
        # An agent reads their own point: the quadrants in their terms, no lead verdicts.
        quadrants: Any = [
            {"key": q.key, "title": q.title, "own_name": q.own_name, "own_words": q.own_words}
            for q in QUADRANTS
        ]
    else:
        quadrants = jsonable(QUADRANTS)
    return {**jsonable(balance), "quadrants": quadrants}


@router.get(
    "/agents/{agent_id}",
    summary="One agent's drill-down: tiles, charts, leaderboard row",
    openapi_extra=errors(504),
)
def get_agent(
    request: HttpRequest, agent_id: str, params: NinjaQuery[ScopedParams]
) -> dict[str, Any]:
    viewer = viewer_of(request)
    window = params.window()  # parameters are read before any object is looked up
    store = store_with_facts()
    agent = find_agent(store, agent_id, viewer)
    scope = params.scope(viewer)
    payload = agent_dashboard_payload(store, window, agent_id, viewer, params.time, scope)
    board = agent_board(store, window, agent_id, viewer, params.time, scope)
    return {
        "agent": jsonable(agent),
        "row": jsonable(board.rows[0]) if board.rows else None,
        **payload,
    }


@router.get(
    "/agents/{agent_id}/one-on-one", summary="The 30-day one-on-one view", openapi_extra=errors(504)
)
def get_one_on_one(request: HttpRequest, agent_id: str, as_of: str | None = None) -> dict[str, Any]:
    viewer = viewer_of(request)
    end = read_window({"as_of": as_of}, install_settings().tz).as_of
    store = store_with_facts()
    find_agent(store, agent_id, viewer)
    return jsonable(one_on_one(store, agent_id, viewer, as_of=end))  # type: ignore[no-any-return]


@router.get(
    "/conversations",
    summary="The conversations behind a number, filterable",
    openapi_extra=errors(404, 504),
)
def get_conversations(
    request: HttpRequest, params: NinjaQuery[ConversationParams]
) -> dict[str, Any]:
    viewer = viewer_of(request)
    read_scope(params.model_dump(include=set(SCOPE_FILTERS)), store_with_facts(), viewer)
    if params.agent:
        find_agent(store_with_facts(), params.agent, viewer)
    listing = list_conversations(
        store_with_facts(),
        params.window(),
        viewer,
        params.filters(),
        limit=params.limit,
        offset=params.offset,
    )
    return jsonable(listing)  # type: ignore[no-any-return]


@router.get(
    "/conversations.csv",
    summary="The same list as CSV (up to 50,000 rows)",
    openapi_extra=errors(404, 504),
)
def get_conversations_csv(
    request: HttpRequest, params: NinjaQuery[ConversationParams]
) -> HttpResponse:
    viewer = viewer_of(request)
    read_scope(params.model_dump(include=set(SCOPE_FILTERS)), store_with_facts(), viewer)
    rows: list[Any] = []
    if params.agent:
        find_agent(store_with_facts(), params.agent, viewer)
    offset = 0
    while offset < 50_000:
        listing = list_conversations(
            store_with_facts(),
            params.window(),
            viewer,
            params.filters(),
            limit=500,
            offset=offset,
        )
        rows.extend(listing.rows)
        offset += 500
        if offset >= listing.total:
            break
    response = HttpResponse(conversations_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="conversations.csv"'
    return response


@router.get(
    "/conversations/{conversation_id}",
    summary="One conversation: its events, and which events started and stopped each clock",
    openapi_extra=errors(504),
)
def get_conversation(request: HttpRequest, conversation_id: str) -> dict[str, Any]:
    viewer = viewer_of(request)
    detail = conversation_detail(store_with_facts(), conversation_id, viewer)
    body: dict[str, Any] = jsonable(detail)
    # The events keep their ids; each agent on it gains its name next to its id.
    names = names_for(request)
    for agent in body["agents"]:
        agent["name"] = agent_label(agent["agent_id"], names)
    return body
