"""The API's own endpoints, beside the features' routers: health, the event schema,
sending events, rejected events, one metrics query and the report.

/query and /report are the metrics layer's own surface (what every dashboard tile and the
CLI's report are made of); features mount their endpoints from their own `api.py`.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Literal

from django.http import HttpRequest, JsonResponse
from ninja import Field, Router, Schema
from ninja import Query as NinjaQuery

from deskpulse.analysis.agents import find_agent
from deskpulse.events.contract import events_json_schema
from deskpulse.events.ingest import IngestResult, ingest_objects
from deskpulse.events.rejections import rejected_json
from deskpulse.events.store import Store
from deskpulse.facts.build import refresh_facts
from deskpulse.facts.quarantine import quarantined_count
from deskpulse.metrics.periods import PeriodInputError, check_custom
from deskpulse.metrics.query import Filters as MetricsFilters
from deskpulse.metrics.query import Query as MetricsQuery
from deskpulse.metrics.query import QueryError, query
from deskpulse.metrics.report import build_report
from deskpulse.web.api import bodies
from deskpulse.web.api.auth import INGEST, READ, token_source, viewer_of
from deskpulse.web.api.contract import errors
from deskpulse.web.api.errors import ApiError
from deskpulse.web.params import ParameterError, read_window, supported
from deskpulse.web.runtime import get_store, install_settings, store_with_facts

logger = logging.getLogger("deskpulse.web.api")

router = Router()


# -- response schemas (for the OpenAPI document) ----------------------------------------


class RejectionOut(Schema):
    index: int
    id: str | None
    field: str | None
    reason: str


class IngestOut(Schema):
    accepted: int
    duplicates: int
    rejected: list[RejectionOut]


class HealthOut(Schema):
    ok: bool
    events: int
    backend: str
    quarantined: int = Field(description="conversations left out of the facts (data health)")


# -- health and schema ---------------------------------------------------------------------


@router.get(
    "/health",
    response={200: HealthOut},
    openapi_extra=errors(503),
    summary="Liveness and event count",
)
def health(request: HttpRequest) -> dict[str, Any]:
    try:
        store = get_store()
        events = store.count("events")
        held = quarantined_count(store)
    except Exception as error:
        logger.exception("health check could not read the event store")
        raise ApiError(503, "store_unavailable", "the event store cannot be read") from error
    return {"ok": True, "events": events, "backend": store.backend, "quarantined": held}


class RejectedParams(Schema):
    limit: int = Field(default=50, ge=1, le=10_000, description="how many, newest first")
    offset: int = Field(default=0, ge=0, description="skip this many of the newest")


@router.get(
    "/rejected",
    auth=READ,
    response=dict[str, Any],
    openapi_extra=errors(403),
    summary="Rejected events, newest first, with the field and the reason (owners and admins)",
    description=(
        'Answers {"total", "rejected": [{"received_at", "source", "position", "event_id", '
        '"type", "field", "reason", "raw"}]}: what `deskpulse rejected` prints.'
    ),
)
def get_rejected(request: HttpRequest, params: NinjaQuery[RejectedParams]) -> dict[str, Any]:
    # A refused event carries its raw text, whoever's conversation it was about.
    if viewer_of(request).is_agent:
        raise ApiError(403, "admins_only", "rejected events are for owners and admins")
    return rejected_json(get_store(), limit=params.limit, offset=params.offset)


@functools.cache
def _event_schema() -> dict[str, Any]:
    return events_json_schema()


@router.get("/schema/events.json", summary="JSON Schema of one event (contract v1)")
def event_schema(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_event_schema(), content_type="application/schema+json")


# -- ingest --------------------------------------------------------------------------------

_EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "A JSON array of events, or JSON Lines (one event per line). Each event follows "
            "/api/v1/schema/events.json. At most 10,000 events per request; gzip accepted "
            "with Content-Encoding: gzip."
        ),
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"type": "object"}, "maxItems": 10_000}
            },
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    }
}


@router.post(
    "/events",
    auth=INGEST,
    response={200: IngestOut},
    openapi_extra={**_EVENTS_BODY, **errors(413, 415)},
    summary="Send events",
    description=(
        "Validates each event on its own: good events are stored even when others in the "
        "batch are rejected. `id` is the idempotency key, so resending counts as duplicates. "
        "Events are durable when the response arrives."
    ),
)
def post_events(request: HttpRequest) -> dict[str, Any]:
    source = token_source(request)
    limits = install_settings()
    body_format = bodies.events_format(request)
    body = bodies.read_body(request, limits.max_request_bytes)
    store = get_store()
    if body_format == "array":
        values = bodies.parse_event_array(body, limits.max_events_per_request)
        reasons: dict[int, str] = {}
    else:
        lines = bodies.parse_event_lines(body, limits.max_events_per_request)
        values, reasons = lines.values, dict(lines.malformed)
    result = _ingest(store, values, reasons, source)
    if result.accepted:
        _refresh_facts(store)
    return result.as_json()


def _ingest(store: Store, values: list[Any], reasons: dict[int, str], source: str) -> IngestResult:
    """Store the batch; lines that are not JSON are rejected with their parse error."""
    return ingest_objects(store, values, source, refused=reasons)


def _refresh_facts(store: Store) -> None:
    """Catch the facts up with what was just stored, without failing the request.

    The events are already committed when this runs; answering with an error would make
    the client resend events that are safe. A failed refresh leaves the conversations
    marked dirty, so the next refresh (the next ingest, or `deskpulse rebuild`) redoes them.
    """
    try:
        refresh_facts(store)
    except Exception:
        logger.exception("facts refresh after ingest failed; the events are stored")


# -- metrics -------------------------------------------------------------------------------


@router.post(
    "/query",
    auth=READ,
    response={200: dict[str, Any]},
    openapi_extra=errors(404, 504),
    summary="Run one metrics query",
    description=(
        "The query object behind every dashboard tile. Agents' tokens only ever see their "
        "own agent rows."
    ),
)
def post_query(request: HttpRequest, payload: MetricsQuery) -> dict[str, Any]:
    viewer = viewer_of(request)
    _check_dates(payload)
    return query(store_with_facts(), payload, viewer).as_json()


def _check_dates(payload: MetricsQuery) -> None:
    """The query's dates in the supported range, a custom period at most 400 days."""
    tz = install_settings().tz
    try:
        for name, value in (("as_of", payload.as_of), ("from", payload.start), ("to", payload.end)):
            if value is not None:
                supported(value, name, tz)
        if payload.start is not None and payload.end is not None:
            check_custom(payload.start, payload.end)
    except (ParameterError, PeriodInputError) as error:
        # A date of the query object: the query is what cannot be answered.
        raise QueryError(error.field or "as_of", error.message) from None


class ReportParams(Schema):
    period: Literal["7d", "14d", "30d", "90d", "custom"] = "30d"
    as_of: str | None = Field(
        default=None,
        description="end of the period: a date (through that day) or a timestamp with offset",
    )
    start: str | None = Field(default=None, alias="from", description="custom period start")
    end: str | None = Field(default=None, alias="to", description="custom period end")
    agent: str | None = Field(
        default=None,
        description="one agent's numbers: the team KPIs over the conversations they handled "
        "(as on their drill-down) and their own leaderboard row",
    )
    team: str | None = None
    channel: str | None = None
    inbox: str | None = None
    inquiry: str | None = None
    customer_tier: str | None = None
    language: str | None = None


@router.get(
    "/report",
    auth=READ,
    response={200: dict[str, Any]},
    openapi_extra=errors(404, 504),
    summary="Team KPIs with the previous period, and the agent leaderboard",
)
def get_report(request: HttpRequest, params: NinjaQuery[ReportParams]) -> dict[str, Any]:
    viewer = viewer_of(request)
    agent = (params.agent or "").strip() or None
    filters = MetricsFilters(
        team=params.team,
        agent=agent,
        channel=params.channel,
        inbox=params.inbox,
        inquiry=params.inquiry,
        customer_tier=params.customer_tier,
        language=params.language,
    )
    window = read_window(
        {"period": params.period, "as_of": params.as_of, "from": params.start, "to": params.end},
        install_settings().tz,
    )
    store = store_with_facts()
    if agent is not None:
        find_agent(store, agent, viewer)
    return build_report(
        store,
        period=window.period,
        as_of=window.as_of,
        start=window.start,
        end=window.end,
        filters=filters,
        viewer=viewer,
    )
