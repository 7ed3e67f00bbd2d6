"""One error shape for the whole JSON API.

    {"error": {"status": 413, "code": "too_many_events", "message": "…", "field": null}}

Every way a request under /api/ can fail ends here: exceptions raised in views and auth
(ninja exception handlers; a core DeskpulseError takes its status from the one table in
problems.py), Django's own 404/500 (handler404/handler500), and responses produced
outside any view such as ninja's 405 (ApiErrorShapeMiddleware).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from pydantic import ValidationError as PydanticValidationError

from deskpulse.errors import DeskpulseError
from deskpulse.web.api.problems import problem_of

logger = logging.getLogger("deskpulse.web.api")

API_PREFIX = "/api/"

# Codes for statuses when nothing more specific is known.
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


# The shape above as JSON Schema, for the OpenAPI document (contract.errors).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message", "field"],
            "additionalProperties": False,
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
            },
        }
    },
}


class ApiError(Exception):
    """An error response with a known status, code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def error_body(status: int, code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "field": field}}


def error_response(error: ApiError) -> JsonResponse:
    response = JsonResponse(
        error_body(error.status, error.code, error.message, error.field), status=error.status
    )
    for name, value in error.headers.items():
        response[name] = value
    return response


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:300]


def validation_error(exc: ValidationError) -> ApiError:
    """422 naming the first offending field, without ninja's param-source prefix."""
    errors = exc.errors or [{}]
    first = errors[0]
    location = [str(part) for part in first.get("loc", ())]
    # ninja prefixes the source (body/query/path) and, for a body model, its param name.
    if location and location[0] in {"body", "query", "path", "header", "cookie", "form"}:
        source = location.pop(0)
        if source == "body" and location[:1] == ["payload"]:
            location.pop(0)
    field = ".".join(location) or None
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    if first.get("type") == "missing":
        message = "is required" if location else "the request body is required"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    text = f"{field}: {message}{more}" if field else f"{message}{more}"
    return ApiError(422, "invalid_request", _first_line(text), field)


def pydantic_error(exc: PydanticValidationError) -> ApiError:
    """422 for a body that is JSON but not a valid request object."""
    errors = exc.errors(include_url=False)
    return validation_error(ValidationError([dict(error) for error in errors]))


def to_api_error(exc: BaseException) -> ApiError:
    """The ApiError a raised exception stands for; unknown exceptions are a 500."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, DeskpulseError):
        problem = problem_of(exc)
        return ApiError(problem.status, problem.code, problem.message, problem.field)
    if isinstance(exc, HttpError) and isinstance(exc.__cause__, ApiError | RequestDataTooBig):
        return to_api_error(exc.__cause__)
    if isinstance(exc, RequestDataTooBig):
        return ApiError(413, "payload_too_large", "the request body is too large")
    if isinstance(exc, ValidationError):
        return validation_error(exc)
    if isinstance(exc, PydanticValidationError):
        return pydantic_error(exc)
    if isinstance(exc, AuthenticationError):
        return ApiError(
            401,
            "missing_token",
            "authentication required: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="deskpulse"'},
        )
    if isinstance(exc, AuthorizationError | PermissionDenied):
        return ApiError(403, "forbidden", _first_line(str(exc)) or "forbidden")
    if isinstance(exc, HttpError):
        status = exc.status_code
        code = STATUS_CODES.get(status, _status_phrase(status).replace(" ", "_"))
        if status == 400 and str(exc).startswith("Cannot parse request body"):
            code = "malformed_json"
            message = "the request body is not valid JSON"
        else:
            message = _first_line(str(exc)) or _status_phrase(status)
        return ApiError(status, code, message)
    if isinstance(exc, Http404):
        return ApiError(404, "not_found", "not found")
    if isinstance(exc, SuspiciousOperation):
        return ApiError(400, "bad_request", "the request was refused as suspicious")
    return ApiError(500, "internal_error", "internal error; the server log has the details")


def handle_exception(request: HttpRequest, exc: Exception) -> HttpResponse:
    """ninja exception handler for every exception class."""
    error = to_api_error(exc)
    if error.status >= 500:
        logger.error(
            "%s %s failed",
            request.method,
            request.path,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
    return error_response(error)


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return error_response(ApiError(404, "not_found", f"no API route at {request.path}"))
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Http404())


def handler500(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return error_response(
            ApiError(500, "internal_error", "internal error; the server log has the details")
        )
    from django.views.defaults import server_error

    return server_error(request)


class ApiErrorShapeMiddleware:
    """Re-shapes any non-JSON error response under /api/ into the API error shape.

    Covers what never reaches a ninja handler: ninja's plain-text 405, Django's 400 for a
    disallowed Host, and the HTML 404/500 pages Django renders with DEBUG on.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not is_api_request(request)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status = response.status_code
        code = STATUS_CODES.get(status, _status_phrase(status).replace(" ", "_"))
        if status == 405:
            allowed = response.get("Allow", "")
            message = f"{request.method} is not allowed on {request.path}"
            if allowed:
                message += f"; allowed: {allowed}"
        elif status == 404:
            message = f"no API route at {request.path}"
        elif status >= 500:
            message = "internal error; the server log has the details"
        else:
            message = _status_phrase(status)
        shaped = error_response(ApiError(status, code, message))
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if header in response:
                shaped[header] = response[header]
        return shaped
