"""The JSON API, version 1, mounted at /api/v1/ (OpenAPI at /api/v1/docs)."""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.http import Http404, HttpRequest, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import ValidationError as PydanticValidationError

from deskpulse.events.contract import Rejection, events_json_schema
from deskpulse.events.ingest import IngestResult, ingest_objects
from deskpulse.events.store import Store
from deskpulse.facts.build import refresh_facts
from deskpulse.web import bodies
from deskpulse.web.auth import TokenAuth, token_of, viewer_for
from deskpulse.web.errors import ApiError, handle_exception
from deskpulse.web.runtime import get_store, install_settings

logger = logging.getLogger("deskpulse.web.api")

api = NinjaAPI(
    title="deskpulse API",
    version="1",
    description=(
        "Send conversation events, read metrics. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `deskpulse token create`). "
        'Every error has the shape {"error": {"status", "code", "message", "field"}}.'
    ),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

for _exception_class in (
    Exception,
    ApiError,
    HttpError,
    AuthenticationError,
    ValidationError,
    PydanticValidationError,
    Http404,
):
    api.add_exception_handler(_exception_class, handle_exception)


# -- response schemas (for the OpenAPI document) ----------------------------------------


class ErrorDetail(Schema):
    status: int
    code: str
    message: str
    field: str | None


class ErrorOut(Schema):
    error: ErrorDetail


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


def _errors(*statuses: int) -> dict[int, type[Schema]]:
    return dict.fromkeys(statuses, ErrorOut)


# -- health and schema ---------------------------------------------------------------------


@api.get("/health", response={200: HealthOut, **_errors(503)}, summary="Liveness and event count")
def health(request: HttpRequest) -> dict[str, Any]:
    store = get_store()
    try:
        events = store.count("events")
    except Exception as error:
        logger.exception("health check could not read the event store")
        raise ApiError(503, "store_unavailable", "the event store cannot be read") from error
    return {"ok": True, "events": events, "backend": store.backend}


@functools.cache
def _event_schema() -> dict[str, Any]:
    return events_json_schema()


@api.get("/schema/events.json", summary="JSON Schema of one event (contract v1)")
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


@api.post(
    "/events",
    auth=TokenAuth("ingest"),
    response={200: IngestOut, **_errors(400, 401, 403, 413, 415)},
    openapi_extra=_EVENTS_BODY,
    summary="Send events",
    description=(
        "Validates each event on its own: good events are stored even when others in the "
        "batch are rejected. `id` is the idempotency key, so resending counts as duplicates. "
        "Events are durable when the response arrives."
    ),
)
def post_events(request: HttpRequest) -> dict[str, Any]:
    token = token_of(request)
    limits = install_settings()
    body_format = bodies.events_format(request)
    body = bodies.read_body(request, limits.max_request_bytes)
    store = get_store()
    source = f"api:{token.prefix}"
    if body_format == "array":
        objects = bodies.parse_event_array(body, limits.max_events_per_request)
        result = ingest_objects(store, objects, source)
    else:
        lines = bodies.parse_event_lines(body, limits.max_events_per_request)
        result = _with_line_errors(ingest_objects(store, lines.values, source), lines)
    if result.accepted:
        _refresh_facts(store)
    return result.as_json()


def _with_line_errors(result: IngestResult, lines: bodies.JsonLines) -> IngestResult:
    """Give unparseable lines their parse error as the reason.

    They went through ingest_objects as their raw text, so their index and stored raw
    text are right and the store keeps them with the rejected events; only the reason
    ("event must be a JSON object") is replaced by the more useful parse error.
    """
    if not lines.malformed:
        return result
    rejected = [
        Rejection(index=r.index, id=None, field=None, reason=lines.malformed[r.index])
        if r.index in lines.malformed
        else r
        for r in result.rejected
    ]
    return IngestResult(accepted=result.accepted, duplicates=result.duplicates, rejected=rejected)


def _refresh_facts(store: Store) -> None:
    """Catch the facts up with what was just stored, without failing the request.

    The events are already committed when this runs; answering with an error would make
    the client resend events that are safe. A failed refresh leaves the conversations
    marked dirty, so the next refresh (the next ingest, or `deskpulse facts`) redoes them.
    """
    try:
        refresh_facts(store)
    except Exception:
        logger.exception("facts refresh after ingest failed; the events are stored")


# -- metrics -------------------------------------------------------------------------------


def _metrics_unavailable(what: str) -> ApiError:
    return ApiError(501, "not_implemented", f"{what} is not available in this version")


@api.post(
    "/query",
    auth=TokenAuth("read"),
    response={200: dict[str, Any], **_errors(400, 401, 403, 413, 415, 422)},
    summary="Run one metrics query",
)
def post_query(request: HttpRequest) -> Any:
    try:
        from deskpulse.metrics.query import Query, query
    except ModuleNotFoundError as missing:
        if missing.name and missing.name.startswith("deskpulse.metrics"):
            raise _metrics_unavailable("the query API") from missing
        raise
    token = token_of(request)
    bodies.require_json(request)
    data = bodies.parse_json(bodies.read_body(request, install_settings().max_request_bytes))
    parsed = Query.model_validate(data)
    viewer = viewer_for(token)
    return query(get_store(), parsed, viewer)


@api.get(
    "/report",
    auth=TokenAuth("read"),
    response={200: dict[str, Any], **_errors(401, 403, 422)},
    summary="The analytics report for a period",
)
def get_report(request: HttpRequest, period: str = "30d", as_of: str | None = None) -> Any:
    try:
        from deskpulse.metrics.report import build_report
    except ModuleNotFoundError as missing:
        if missing.name and missing.name.startswith("deskpulse.metrics"):
            raise _metrics_unavailable("the report API") from missing
        raise
    token = token_of(request)
    viewer = viewer_for(token)
    return build_report(get_store(), period=period, as_of=as_of, viewer=viewer)
