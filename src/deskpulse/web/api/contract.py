"""What every /api/v1 operation promises besides its own answer, applied in one place.

- **Unknown query parameters are errors.** A parameter the operation does not take is
  answered 400 `unknown_parameter`, naming it and listing the ones it takes, before
  anything else is read: `dashboard?perod=7d` must not quietly show 30 days.
- **Its OpenAPI entry lists every status it can answer**, each error with the one error
  shape (errors.py): 400 for everyone (unknown parameters, control characters, malformed
  bodies), 414 for a URL longer than the HTTP server reads, 401 and 403 where it needs
  authentication, 422 where it reads parameters or a body, 404 where its path names an
  object, 413 and 415 where it reads a body, and whatever the endpoint adds with
  `errors(...)` (404 for an agent named in the query, 504 for a query that ran out of
  time, 503, 409 …).

`install(api)` hooks both into ninja's binding of each operation, so a new endpoint gets
them without doing anything.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from ninja import NinjaAPI
from ninja.operation import Operation

from deskpulse.web.api.errors import ERROR_SCHEMA, ApiError, error_response

BODY_SOURCES = frozenset({"body", "form", "file"})

# What each error status means on this API, for the OpenAPI document.
MEANINGS: dict[int, str] = {
    400: "Bad request: an unknown query parameter, a control character (such as NUL) in a "
    "parameter or the path, or a body that is not what the endpoint reads",
    401: "No valid session or bearer token",
    403: "Not allowed: the token lacks the scope, the account has no role, the role may not "
    "do this, or a session's change came without its CSRF token",
    404: "No such object, or one this person may not see",
    409: "Conflict with the install's current state",
    413: "The request body is too large",
    414: "The URL is longer than the server reads (gunicorn's request-line limit, about "
    "4 KB); answered by the HTTP server itself, not in the error shape",
    415: "The body is not of a media type this endpoint reads",
    422: "A parameter or body field has a value that cannot be used; `field` names it",
    503: "The store cannot be read",
    504: "The query took longer than its time limit; narrow the period or filters",
}


# Answered before Django sees the request, so not in the one error shape.
SERVER_STATUSES = frozenset({414})


def errors(*statuses: int) -> dict[str, Any]:
    """`openapi_extra` documenting these error statuses with the one error shape."""
    responses: dict[str, Any] = {}
    for status in statuses:
        entry: dict[str, Any] = {"description": MEANINGS.get(status, HTTPStatus(status).phrase)}
        if status not in SERVER_STATUSES:
            entry["content"] = {"application/json": {"schema": ERROR_SCHEMA}}
        responses[str(status)] = entry
    return {"responses": responses}


def created(
    status: int, example: dict[str, Any], **targets: tuple[str, str, str]
) -> dict[str, Any]:
    """`openapi_extra` for an endpoint that creates something: an example body, and OpenAPI
    links from its answer to the operations that take the new object's id, so stateful
    tests (and readers) can follow a create to its read, change and delete.

    `targets`: link name -> (operationId, parameter, JSON pointer into the answer)."""
    return {
        "requestBody": {"content": {"application/json": {"example": example}}},
        "responses": {
            str(status): {
                "description": "Created",
                "links": {
                    name: {
                        "operationId": operation,
                        "parameters": {parameter: f"$response.body#{pointer}"},
                    }
                    for name, (operation, parameter, pointer) in targets.items()
                },
            }
        },
    }


def query_parameters(operation: Operation) -> tuple[str, ...]:
    """The query parameter names the operation reads, as a URL spells them."""
    names: list[str] = []
    for model in operation.models:
        if model.__ninja_param_source__ != "query":
            continue
        flat = getattr(model, "__ninja_flatten_map__", None)
        if flat:
            names.extend(flat)
        else:
            names.extend(field.alias or name for name, field in model.model_fields.items())
    return tuple(dict.fromkeys(names))


def error_statuses(operation: Operation) -> list[int]:
    """The error statuses every operation like this one can answer."""
    sources = {model.__ninja_param_source__ for model in operation.models}
    statuses = {400, 414}
    if operation.auth_callbacks:
        statuses |= {401, 403}
    if sources:
        statuses.add(422)
    if "path" in sources:
        statuses.add(404)
    if sources & BODY_SOURCES:
        statuses |= {413, 415}
    return sorted(statuses)


def _document(operation: Operation) -> None:
    extra: dict[str, Any] = dict(operation.openapi_extra or {})
    declared = {str(status): status for status in operation.response_models}
    # ninja writes the statuses it declares as integers and merges openapi_extra into
    # them key by key: an extra "201" beside its 201 would be a duplicated key in the
    # document (swagger refuses it), so extras for a declared status take its own key.
    responses = {
        declared.get(str(status), status): entry
        for status, entry in extra.get("responses", {}).items()
    }
    for status, entry in errors(*error_statuses(operation))["responses"].items():
        if status not in declared:
            responses.setdefault(status, entry)
    extra["responses"] = responses
    operation.openapi_extra = extra


def unknown_parameter_error(request: HttpRequest, known: tuple[str, ...]) -> ApiError | None:
    unknown = [name for name in request.GET if name not in known]
    if not unknown:
        return None
    names = ", ".join(unknown)
    takes = f"it takes {', '.join(known)}" if known else "it takes no query parameters"
    plural = "s" if len(unknown) > 1 else ""
    return ApiError(
        400,
        "unknown_parameter",
        f"unknown query parameter{plural} {names} for {request.path}; {takes}",
        unknown[0],
    )


def _bind(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """ninja calls this with each operation's bound `run` as it binds the operation."""
    operation: Operation = run.__self__  # type: ignore[attr-defined]
    known = query_parameters(operation)
    _document(operation)

    @functools.wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        error = unknown_parameter_error(request, known)
        if error is not None:
            return error_response(error)
        return run(request, *args, **kwargs)

    return checked


def install(api: NinjaAPI) -> None:
    """Apply the contract to every operation of `api` (call before its URLs are built)."""
    api.add_decorator(_bind, mode="view")
