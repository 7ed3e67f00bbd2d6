"""Every bad parameter on every /api/v1 endpoint is a 4xx in the one error shape, naming it.

The endpoints come from the OpenAPI document, so a new endpoint is covered without being
listed here: unknown query parameters (400 unknown_parameter), control characters in a
parameter, its name or a path segment (400 invalid_character), and dates outside the
supported range, reversed or over-long custom periods (422, naming the parameter).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import Events
from tests.web.conftest import MakeToken
from tests.web.web_helpers import Api, assert_error

pytestmark = pytest.mark.django_db

ALL_SCOPES = ("read", "write", "ingest")


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation of the OpenAPI document."""
    from deskpulse.web.api.v1 import api

    document = api.get_openapi_schema()
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


OPERATIONS = _operations()


def _query_names(operation: dict[str, Any]) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


def _path_names(operation: dict[str, Any]) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]


def _url(path: str, operation: dict[str, Any], **values: str) -> str:
    """The path with its parameters filled in (`values` first, else a harmless "1")."""
    for name in _path_names(operation):
        path = path.replace(f"{{{name}}}", quote(values.get(name, "1"), safe=""))
    return path


def _ids(operations: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    return [f"{method} {path}" for method, path, _ in operations]


# Values for required parameters and body fields, so a request gets as far as the
# parameter under test (a missing required one would be refused first, rightly).
REQUIRED = {"model": "chat", "inquiry": "billing", "metric": "csat", "channel": "chat"}


def _required(operation: dict[str, Any]) -> str:
    names = [
        p["name"]
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    ]
    return "".join(f"&{name}={REQUIRED[name]}" for name in names)


def _send(client: Client, token: str, method: str, url: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if method == "GET":
        return client.get(url, headers=headers)
    body = b"[]" if url.endswith("/events") else orjson.dumps(REQUIRED)
    return client.generic(method, url, body, content_type="application/json", headers=headers)


@pytest.fixture
def token(owner: User, make_token: MakeToken) -> str:
    return make_token(owner, ALL_SCOPES)


# -- unknown parameters ------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=_ids(OPERATIONS))
def test_unknown_query_parameter_is_400_naming_it(
    client: Client, token: str, method: str, path: str, operation: dict[str, Any]
) -> None:
    response = _send(client, token, method, _url(path, operation) + "?perod=7d")
    error = assert_error(response, 400, "unknown_parameter", "perod")
    known = _query_names(operation)
    for name in known:
        assert name in error["message"]
    if not known:
        assert "takes no query parameters" in error["message"]


def test_several_unknown_parameters_are_all_named(client: Client, token: str) -> None:
    response = Api(client, token).get("/api/v1/dashboard", foo="1", period="7d", bar="2")
    error = assert_error(response, 400, "unknown_parameter", "foo")
    assert "foo, bar" in error["message"]
    assert "period, from, to, as_of" in error["message"]


# -- control characters ------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=_ids(OPERATIONS))
def test_nul_in_a_query_parameter_is_400_naming_it(
    client: Client, token: str, method: str, path: str, operation: dict[str, Any]
) -> None:
    name = next(iter(_query_names(operation)), "anything")
    response = _send(client, token, method, f"{_url(path, operation)}?{name}=team%00billing")
    assert_error(response, 400, "invalid_character", name)


PATH_OPERATIONS = [op for op in OPERATIONS if _path_names(op[2])]


@pytest.mark.parametrize(
    ("method", "path", "operation"), PATH_OPERATIONS, ids=_ids(PATH_OPERATIONS)
)
def test_nul_in_a_path_segment_is_400_naming_it(
    client: Client, token: str, method: str, path: str, operation: dict[str, Any]
) -> None:
    name = _path_names(operation)[0]
    response = _send(client, token, method, _url(path, operation, **{name: "a\x00b"}))
    assert_error(response, 400, "invalid_character", name)


@pytest.mark.parametrize("character", ["%01", "%1B", "%7F", "%C2%85", "%0A"])
def test_other_control_characters_are_refused_too(
    client: Client, token: str, character: str
) -> None:
    response = Api(client, token).client.get(
        f"/api/v1/leaderboard?team=a{character}b", headers={"Authorization": f"Bearer {token}"}
    )
    assert_error(response, 400, "invalid_character", "team")


def test_a_control_character_in_a_parameter_name_is_refused(client: Client, token: str) -> None:
    response = client.get(
        "/api/v1/dashboard?te%00am=x", headers={"Authorization": f"Bearer {token}"}
    )
    error = assert_error(response, 400, "invalid_character", "te\\x00am")
    assert "control character" in error["message"]


def test_nul_in_a_path_with_no_route_is_400(client: Client, token: str) -> None:
    response = client.get("/api/v1/nowhere%00", headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 400, "invalid_character", "path")


def test_nul_in_a_query_body_filter_never_reaches_the_sql(client: Client, token: str) -> None:
    """A NUL inside a JSON body is not the URL's business; the metrics layer must still
    answer with a 4xx or a plain answer, never a cut SQL text."""
    response = client.post(
        "/api/v1/query",
        orjson.dumps({"metrics": ["conversations"], "filters": {"team": "a\x00b"}}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code in (200, 422), response.content


# -- dates -------------------------------------------------------------------------------------

DATED = [op for op in OPERATIONS if "as_of" in _query_names(op[2])]


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1999-12-31", "2099-01-01"])
@pytest.mark.parametrize(("method", "path", "operation"), DATED, ids=_ids(DATED))
def test_as_of_outside_the_supported_range_is_422(
    client: Client, token: str, method: str, path: str, operation: dict[str, Any], value: str
) -> None:
    url = f"{_url(path, operation)}?as_of={value}{_required(operation)}"
    response = _send(client, token, method, url)
    error = assert_error(response, 422, "invalid_request", "as_of")
    assert "2000-01-01" in error["message"]


def test_far_timestamps_with_offsets_are_422(client: Client, token: str) -> None:
    api = Api(client, token)
    for value in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-10:00"):
        assert_error(api.get("/api/v1/dashboard", as_of=value), 422, "invalid_request", "as_of")


CUSTOM = [op for op in OPERATIONS if {"from", "to"} <= set(_query_names(op[2]))]


def _custom(operation: dict[str, Any], start: str, end: str) -> str:
    chooser = "window" if "window" in _query_names(operation) else "period"
    return f"?{chooser}=custom&from={start}&to={end}"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("0001-01-01", "9999-12-31", "from"),  # the OverflowError
        ("0001-01-01", "0001-03-01", "from"),  # its previous period would be before year 1
        ("9999-10-01", "9999-12-31", "from"),
        ("2026-03-01", "9999-12-31", "to"),
        ("2026-03-31", "2026-03-01", "to"),  # reversed
        ("2020-01-01", "2026-03-01", "to"),  # more than 400 days
    ],
)
@pytest.mark.parametrize(("method", "path", "operation"), CUSTOM, ids=_ids(CUSTOM))
def test_bad_custom_ranges_are_422_naming_the_end_at_fault(
    client: Client,
    token: str,
    method: str,
    path: str,
    operation: dict[str, Any],
    start: str,
    end: str,
    field: str,
) -> None:
    response = _send(client, token, method, _url(path, operation) + _custom(operation, start, end))
    assert_error(response, 422, "invalid_request", field)


def test_the_edges_of_the_supported_range_are_answered(client: Client, token: str) -> None:
    """2000-01-01 and one year after today (the clock is pinned at 2027-01-13)."""
    api = Api(client, token)
    first = api.get(
        "/api/v1/dashboard", period="custom", **{"from": "2000-01-01", "to": "2000-12-31"}
    )
    assert first.status_code == 200, first.content
    assert api.get("/api/v1/leaderboard", as_of="2028-01-13").status_code == 200
    assert_error(
        api.get("/api/v1/leaderboard", as_of="2028-01-14"), 422, "invalid_request", "as_of"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"as_of": "9999-12-31T00:00:00+00:00"}, "as_of"),
        (
            {"period": "custom", "from": "0001-01-01T00:00:00Z", "to": "9999-12-31T00:00:00Z"},
            "from",
        ),
        ({"period": "custom", "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
    ],
)
def test_query_dates_outside_the_range_are_422(
    client: Client, token: str, body: dict[str, Any], field: str
) -> None:
    response = Api(client, token).post_json("/api/v1/query", {"metrics": ["conversations"], **body})
    assert_error(response, 422, "invalid_query", field)


# -- report?agent= and team= ---------------------------------------------------------------------

AS_OF = "2026-03-08T00:00:00+00:00"


@pytest.fixture
def two_agents(api: Api) -> None:
    f = Events()
    f.agent("alice", name="Alice", teams=["t-billing"]).agent("bob", name="Bob", teams=["t-tech"])
    f.conversation("c1", customer="u1").customer(at=1).reply("alice", at=5).resolve(at=30)
    f.conversation("c2", customer="u2", at=60).customer(at=61).reply("alice", at=70)
    f.conversation("c3", customer="u3", at=120).customer(at=121).reply("bob", at=125)
    assert api.post_events(f.events).json()["rejected"] == []


def test_report_for_one_agent_reads_like_their_drill_down(
    client: Client, token: str, two_agents: None
) -> None:
    api = Api(client, token)
    alice = api.get("/api/v1/report", period="7d", as_of=AS_OF, agent="alice")
    assert alice.status_code == 200, alice.content
    body = alice.json()
    assert [a["agent_id"] for a in body["agents"]] == ["alice"]
    # The team KPIs over the conversations she handled: two of the three.
    assert body["team"]["conversations"]["value"] == 2
    everyone = api.get("/api/v1/report", period="7d", as_of=AS_OF).json()
    assert everyone["team"]["conversations"]["value"] == 3


def test_report_for_an_unknown_agent_is_404(client: Client, token: str, two_agents: None) -> None:
    response = Api(client, token).get("/api/v1/report", as_of=AS_OF, agent="nobody")
    assert_error(response, 404, "not_found")


def test_report_for_another_agent_is_404_for_an_agent(
    client: Client, agent: User, make_token: MakeToken, two_agents: None
) -> None:
    reader = Api(client, make_token(agent, ("read",)))
    assert_error(reader.get("/api/v1/report", as_of=AS_OF, agent="bob"), 404, "not_found")
    own = reader.get("/api/v1/report", as_of=AS_OF, agent="alice")
    assert own.status_code == 200, own.content


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/dashboard",
        "/api/v1/leaderboard",
        "/api/v1/leaderboard.csv",
        "/api/v1/load-balancing",
    ],
)
def test_a_team_that_does_not_exist_is_422_naming_it(
    client: Client, token: str, two_agents: None, url: str
) -> None:
    api = Api(client, token)
    error = assert_error(api.get(url, as_of=AS_OF, team="t-biling"), 422, "invalid_request", "team")
    assert "'t-biling'" in error["message"]
    assert "t-billing" in error["message"]
    known = api.get(url, as_of=AS_OF, team="t-billing")
    assert known.status_code == 200, known.content
