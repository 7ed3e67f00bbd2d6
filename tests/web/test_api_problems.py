"""The one mapping from a core error to HTTP (web/api/problems.py), which the API and the
pages share: its status by class, and the page's 400 where the API says 422."""

from __future__ import annotations

import pytest

from deskpulse.errors import ConflictError, DeskpulseError, NotFoundError
from deskpulse.events.retraction import (
    RetractionConflictError,
    RetractionError,
    RetractionTargetMissingError,
)
from deskpulse.metrics.periods import PeriodInputError
from deskpulse.metrics.query import NotVisibleError, QueryError, QueryTimeoutError
from deskpulse.web.api.problems import problem_of, status_of


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (QueryError("metric", "unknown metric 'x'"), 422, "invalid_query"),
        (PeriodInputError("as_of", "before 2000-01-01"), 422, "invalid_request"),
        (NotVisibleError("not yours"), 404, "not_found"),
        (QueryTimeoutError("took too long"), 504, "query_timeout"),
        (
            RetractionTargetMissingError("no stored event has the id 'x'", "event_id"),
            404,
            "not_found",
        ),
        (
            RetractionConflictError("already_retracted", "'x' is already retracted"),
            409,
            "already_retracted",
        ),
        (RetractionError("invalid_request", "reason: is empty", "reason"), 422, "invalid_request"),
        (ConflictError("busy"), 409, "conflict"),
        (NotFoundError("gone"), 404, "not_found"),
    ],
)
def test_each_core_error_takes_the_status_of_its_nearest_listed_class(
    error: DeskpulseError, status: int, code: str
) -> None:
    assert status_of(error) == status
    assert problem_of(error).code == code


def test_a_problem_names_its_field_and_says_it_in_the_message() -> None:
    problem = problem_of(QueryError("period", "choose one of 7d, 14d, 30d, 90d"))
    assert (problem.status, problem.field) == (422, "period")
    assert problem.message == "period: choose one of 7d, 14d, 30d, 90d"
    assert problem.page_status == 400  # pages have always answered 400 for a bad value


def test_core_errors_keep_their_older_base_classes() -> None:
    # Code that caught ValueError / LookupError / TimeoutError before keeps working.
    assert isinstance(QueryError("f", "m"), ValueError)
    assert isinstance(NotVisibleError("m"), LookupError)
    assert isinstance(QueryTimeoutError("m"), TimeoutError)
    assert str(PeriodInputError("to", "after 2027-12-07")) == "to: after 2027-12-07"
