"""The JSON API, version 1, mounted at /api/v1/ (OpenAPI at /api/v1/docs): the NinjaAPI
with its parser and exception handlers, mounting the API's own endpoints (core.py) and
each feature's router (`web/<feature>/api.py`)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from pydantic import ValidationError as PydanticValidationError

from deskpulse.web.ai_agents.api import router as ai_agents_router
from deskpulse.web.alerts.api import router as alerts_router
from deskpulse.web.analytics.api import router as analytics_router
from deskpulse.web.api import bodies, contract
from deskpulse.web.api.core import router as core_router
from deskpulse.web.api.errors import ApiError, handle_exception
from deskpulse.web.coaching.api import router as coaching_router
from deskpulse.web.connectors.api import router as connectors_router
from deskpulse.web.data_health.api import router as data_health_router
from deskpulse.web.experiments.api import router as experiments_router
from deskpulse.web.models.api import router as models_router
from deskpulse.web.performance.api import router as performance_router
from deskpulse.web.saved_views.api import router as saved_views_router
from deskpulse.web.signals.api import router as signals_router


class JsonBodyParser(Parser):
    """Bodies of typed endpoints: JSON only, with our 415 and 400 instead of ninja's."""

    def parse_body(self, request: HttpRequest) -> Any:
        # ninja wraps what this raises in a 400; errors.to_api_error unwraps it again.
        bodies.require_json(request)
        return bodies.parse_json(request.body)


api = NinjaAPI(
    title="deskpulse API",
    version="1",
    description=(
        "Send conversation events, read metrics. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `deskpulse token create`) or a "
        "signed-in session (requests that change something also send the X-CSRFToken "
        "header). A token needs the `read`, `write` or `ingest` scope the endpoint names; "
        "a request with an Authorization header is judged by its token alone. Unknown "
        "query parameters and control characters (such as NUL) are refused with 400; "
        "dates run from 2000-01-01 to one year after today. "
        'Every error has the shape {"error": {"status", "code", "message", "field"}}.'
    ),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=JsonBodyParser(),
)

contract.install(api)

# Every exception ends in the one error shape; a core DeskpulseError takes its status
# from problems.STATUS_BY_CLASS (errors.to_api_error).
for _exception_class in (
    Exception,
    ApiError,
    HttpError,
    AuthenticationError,
    ValidationError,
    PydanticValidationError,
    Http404,
):
    # ninja's annotation has the handler take an exception *or its class*; it gets the former.
    api.add_exception_handler(_exception_class, handle_exception)  # type: ignore[arg-type]

# In the order the OpenAPI document lists them: the API's own endpoints, then each feature.
for _router in (
    core_router,
    analytics_router,
    connectors_router,
    performance_router,
    coaching_router,
    models_router,
    signals_router,
    ai_agents_router,
    experiments_router,
    alerts_router,
    data_health_router,
    saved_views_router,
):
    api.add_router("/", _router)
