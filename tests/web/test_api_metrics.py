"""POST /api/v1/query and GET /api/v1/report: the metrics layer behind a token.

Who sees what is decided once, from the token's user: owners and admins see the team,
agents their own agent rows, users without a role nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.metrics.query import Viewer
from deskpulse.web.api import core as api_module
from tests.factories import Events
from tests.web.web_helpers import Api, assert_error

pytestmark = pytest.mark.django_db

AS_OF = "2026-03-08T00:00:00+00:00"
WEEK = {"period": "7d", "as_of": AS_OF}


@pytest.fixture
def history(api: Api) -> None:
    """Two agents, three conversations, in the week before AS_OF (sent through the API)."""
    f = Events()
    f.agent("alice", name="Alice").agent("bob", name="Bob")
    f.conversation("c1", customer="u1").customer(at=1).reply("alice", at=5).resolve(at=30)
    f.conversation("c2", customer="u2", at=60).customer(at=61).reply("alice", at=70)
    f.conversation("c3", customer="u3", at=120).customer(at=121).reply("bob", at=125)
    response = api.post_events(f.events)
    assert response.status_code == 200
    assert response.json()["rejected"] == []


def reader(client: Client, user: User, make_token: Any) -> Api:
    return Api(client, make_token(user, ("read",)))


def test_owner_queries_the_team(
    client: Client, owner: User, make_token: Any, history: None
) -> None:
    response = reader(client, owner, make_token).post_json(
        "/api/v1/query", {"metrics": ["conversations", "handled"], **WEEK}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["rows"][0]["metrics"]["conversations"] == {"value": 3, "n": 3}
    assert body["period"]["to"].startswith("2026-03-08")


def test_agent_sees_only_their_own_rows(
    client: Client, agent: User, make_token: Any, history: None
) -> None:
    response = reader(client, agent, make_token).post_json(
        "/api/v1/query", {"metrics": ["handled"], "group_by": ["agent"], **WEEK}
    )
    assert response.status_code == 200, response.content
    rows = response.json()["rows"]
    assert [row["group"]["agent"] for row in rows] == ["alice"]
    assert rows[0]["metrics"]["handled"]["value"] == 2


def test_agent_asking_for_another_agent_gets_404(
    client: Client, agent: User, make_token: Any, history: None
) -> None:
    response = reader(client, agent, make_token).post_json(
        "/api/v1/query", {"metrics": ["handled"], "filters": {"agent": "bob"}, **WEEK}
    )
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("owner", Viewer(agent_id=None)),
        ("admin", Viewer(agent_id=None)),
        ("agent", Viewer("alice")),
    ],
)
def test_viewer_follows_the_role(
    client: Client,
    make_token: Any,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    who: str,
    expected: Viewer,
) -> None:
    seen: list[Viewer] = []
    real_query = api_module.query

    def spy(store: Any, q: Any, viewer: Viewer) -> Any:
        seen.append(viewer)
        return real_query(store, q, viewer)

    monkeypatch.setattr(api_module, "query", spy)
    user = request.getfixturevalue(who)
    response = reader(client, user, make_token).post_json(
        "/api/v1/query", {"metrics": ["conversations"]}
    )
    assert response.status_code == 200, response.content
    assert seen == [expected]


def test_user_without_a_role_gets_403(client: Client, outsider: User, make_token: Any) -> None:
    token = reader(client, outsider, make_token)
    assert_error(token.post_json("/api/v1/query", {"metrics": ["handled"]}), 403, "no_profile")
    assert_error(token.get("/api/v1/report"), 403, "no_profile")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metrics": ["no_such_metric"]}, "metrics"),
        ({"metrics": []}, "metrics"),
        ({"metrics": ["handled"], "period": "13d"}, "period"),
        ({"metrics": ["handled"], "surprise": 1}, "surprise"),
        ({"metrics": ["handled"], "period": "custom"}, None),
        ({}, "metrics"),
        ([], None),
    ],
)
def test_invalid_query_is_422(
    client: Client, owner: User, make_token: Any, body: Any, field: str | None
) -> None:
    response = reader(client, owner, make_token).post_json("/api/v1/query", body)
    assert_error(response, 422, "invalid_request", field=field)


def test_query_metric_without_agent_reading_is_422(
    client: Client, owner: User, make_token: Any
) -> None:
    response = reader(client, owner, make_token).post_json(
        "/api/v1/query", {"metrics": ["conversations"], "group_by": ["agent"]}
    )
    assert_error(response, 422, "invalid_query", field="group_by")


def test_query_body_must_be_json(client: Client, owner: User, make_token: Any) -> None:
    token = make_token(owner, ("read",))
    headers = {"Authorization": f"Bearer {token}"}
    malformed = client.post("/api/v1/query", b"{", content_type="application/json", headers=headers)
    assert_error(malformed, 400, "malformed_json")
    wrong_type = client.post(
        "/api/v1/query", b'{"metrics": ["handled"]}', content_type="text/plain", headers=headers
    )
    assert_error(wrong_type, 415, "unsupported_media_type")
    empty = client.post("/api/v1/query", b"", content_type="application/json", headers=headers)
    assert_error(empty, 422, "invalid_request")


def test_report_for_the_team(client: Client, admin: User, make_token: Any, history: None) -> None:
    response = reader(client, admin, make_token).get("/api/v1/report", **WEEK)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["period"]["name"] == "7d"
    assert body["team"]["conversations"]["value"] == 3
    assert {a["agent_id"]: a["name"] for a in body["agents"]} == {"alice": "Alice", "bob": "Bob"}


def test_report_as_of_a_date_covers_that_whole_day(
    client: Client, owner: User, make_token: Any, history: None
) -> None:
    response = reader(client, owner, make_token).get(
        "/api/v1/report", period="7d", as_of="2026-03-07"
    )
    assert response.status_code == 200, response.content
    assert response.json()["period"]["to"].startswith("2026-03-08T00:00:00")


def test_report_leaderboard_of_an_agent_is_their_own_row(
    client: Client, agent: User, make_token: Any, history: None
) -> None:
    response = reader(client, agent, make_token).get("/api/v1/report", **WEEK)
    assert response.status_code == 200, response.content
    assert [a["agent_id"] for a in response.json()["agents"]] == ["alice"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "13d"}, "period"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2026-03-07T10:00:00"}, "as_of"),  # no offset
        ({"period": "custom", "from": "2026-03-01"}, "to"),
    ],
)
def test_invalid_report_parameters_are_422(
    client: Client, owner: User, make_token: Any, params: dict[str, str], field: str | None
) -> None:
    response = reader(client, owner, make_token).get("/api/v1/report", **params)
    assert_error(response, 422, "invalid_request", field=field)
