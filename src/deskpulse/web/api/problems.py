"""The one mapping from a core error to HTTP, used by the API and the pages alike.

Every error the core raises about a request is a `DeskpulseError` (deskpulse/errors.py)
carrying its code, field and message; the table below decides its status, by class. The
API answers with the one error shape (errors.py turns any DeskpulseError an endpoint
raises into it), and pages render the problem page with the same status through
`errors_as_page`, with one difference: a page answers 400 where the API says 422. A
page's input is its own URL or form, and 400 is what the pages have always answered for
a value they cannot use (the README promises "API 422, pages 400").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from deskpulse.errors import ConflictError, DeskpulseError, NotFoundError
from deskpulse.metrics.query import QueryTimeoutError

# The status of each kind of error; an error takes the entry of its nearest listed class.
STATUS_BY_CLASS: dict[type[DeskpulseError], int] = {
    # 404 rather than 403: whether another agent's data exists is not revealed.
    NotFoundError: 404,
    ConflictError: 409,
    QueryTimeoutError: 504,
    # Anything else someone asked for that cannot be used: a value, a field, a query.
    DeskpulseError: 422,
}

# What the problem page says above the message, by status.
PAGE_TITLES: dict[int, str] = {
    409: "That cannot be done now",
    504: "That took too long",
}
DEFAULT_PAGE_TITLE = "That question cannot be answered"
PROBLEM_TEMPLATE = "deskpulse/problem.html"


@dataclass(frozen=True)
class Problem:
    """What a DeskpulseError means over HTTP."""

    status: int
    code: str
    message: str
    field: str | None

    @property
    def page_status(self) -> int:
        return 400 if self.status == 422 else self.status


def status_of(error: DeskpulseError) -> int:
    for kind in type(error).__mro__:
        status = STATUS_BY_CLASS.get(kind)
        if status is not None:
            return status
    return 422  # unreachable: DeskpulseError itself is in the table


def problem_of(error: DeskpulseError) -> Problem:
    return Problem(status_of(error), error.code, str(error), error.field)


def problem_page(request: HttpRequest, error: DeskpulseError) -> HttpResponse:
    """The page for `error`: the site's 404 page for what is not found (or not to be
    seen), else the problem page with the table's status."""
    problem = problem_of(error)
    if problem.status == 404:
        raise Http404(problem.message)
    return render_problem(
        request,
        PAGE_TITLES.get(problem.status, DEFAULT_PAGE_TITLE),
        problem.message,
        problem.page_status,
    )


def render_problem(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(request, PROBLEM_TEMPLATE, {"title": title, "message": message}, status=status)


View = TypeVar("View", bound=Callable[..., HttpResponse])


def errors_as_page(view: View) -> View:
    """Pages: a DeskpulseError the view raises becomes the page that says what is wrong."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DeskpulseError as error:
            return problem_page(request, error)

    return cast(View, wrapped)
