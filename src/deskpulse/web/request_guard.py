"""Requests that no view should see, refused in one place for every route.

A control character (NUL, the other C0 and C1 controls, DEL) in a query parameter, its
name or a path segment is never a value anybody meant. Passed on, a NUL cuts SQL text
and PostgreSQL refuses it outright, so it is refused here with a 400 naming the
parameter: in the API's one error shape under /api/, as a page elsewhere.

Pages also tell this middleware when they met a known parameter with a bad value and
chose to show their defaults instead (`note_bad_parameter`): the person still gets a
usable page that names the parameter, and the answer's status says 400.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve

from deskpulse.web.api.errors import ApiError, error_response, is_api_request
from deskpulse.web.api.problems import render_problem

_FLAG = "_deskpulse_bad_parameter"


def has_control_character(text: str) -> bool:
    return any(unicodedata.category(character) == "Cc" for character in text)


def printable(text: str) -> str:
    """`text` with its control characters escaped, fit to quote in a message."""
    return "".join(
        ascii(character)[1:-1] if unicodedata.category(character) == "Cc" else character
        for character in text
    )


def control_character_in(request: HttpRequest) -> tuple[str, str] | None:
    """(parameter, message) for the first control character in the query string's names
    and values or in the path; None when there is none. A path segment is named after
    the route's parameter that holds it (agent_id, conversation_id, ...)."""
    query = request.GET
    for name in query:
        if has_control_character(name):
            shown = printable(name)
            return shown, f"the parameter name {shown!r} has a control character"
        for value in query.getlist(name):
            if has_control_character(value):
                return name, f"{name}: control characters (such as NUL) are not allowed"
    if has_control_character(request.path):
        field = "path"
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        for name, value in (match.kwargs if match else {}).items():
            if isinstance(value, str) and has_control_character(value):
                field = name
                break
        return field, f"{field}: control characters (such as NUL) are not allowed in the path"
    return None


def note_bad_parameter(request: HttpRequest) -> None:
    """A page met a bad value of a known parameter, named it, and shows its defaults."""
    setattr(request, _FLAG, True)


class RequestGuardMiddleware:
    """400 for control characters anywhere in the query or the path, on every route;
    400 for a page that showed its defaults in place of a bad parameter."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        found = control_character_in(request)
        if found is not None:
            return self._refuse(request, *found)
        response = self.get_response(request)
        if getattr(request, _FLAG, False) and response.status_code == 200:
            response.status_code = 400
        return response

    def _refuse(self, request: HttpRequest, field: str, message: str) -> HttpResponseBase:
        if is_api_request(request):
            return error_response(ApiError(400, "invalid_character", message, field))
        return render_problem(request, "That address cannot be read", message, 400)
