"""Retracting events over the API, and the data health API and page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store
from tests.web.conftest import MakeToken
from tests.web.web_helpers import Api, assert_error, created

pytestmark = pytest.mark.django_db


def survey(event_id: str, conversation: str, score: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "survey.responded",
        "occurred_at": "2026-03-02T12:00:00Z",
        "conversation_id": conversation,
        "survey": "csat",
        "score": score,
    }


@pytest.fixture
def loaded(api: Api) -> None:
    batch = [created("e1", "c1"), survey("s1", "c1", 2)]
    assert api.post_events(batch).json()["accepted"] == 2


def retract(client: Client, token: str, event_id: str, reason: Any = "a test survey") -> Any:
    return Api(client, token).post_json(f"/api/v1/events/{event_id}/retract", {"reason": reason})


def csat_of(store: Store, conversation: str) -> Any:
    rows = store.execute(
        f"SELECT csat_score FROM conversation_facts WHERE conversation_id = '{conversation}'"
    )
    return rows[0][0]


def test_an_owner_retracts_and_the_facts_are_recomputed(
    client: Client, owner: User, make_token: MakeToken, api_store: Store, loaded: None
) -> None:
    assert csat_of(api_store, "c1") == 2
    token = make_token(owner, ("write",))
    response = retract(client, token, "s1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["event_id"] == "s1"
    assert body["event_type"] == "survey.responded"
    assert body["conversation_id"] == "c1"
    assert body["retracted_by"] == owner.email
    assert body["reason"] == "a test survey"
    assert csat_of(api_store, "c1") is None
    assert api_store.count("dirty_conversations") == 0
    again = retract(client, token, "s1")
    assert_error(again, 409, "already_retracted", "event_id")
    assert_error(retract(client, token, "nope"), 404, "not_found", "event_id")
    assert_error(retract(client, token, "e1", reason=""), 422, "invalid_request", "reason")
    # The audit trail, for owners and admins.
    health = Api(client, make_token(owner, ("read",))).get("/api/v1/data-health").json()
    assert health["counts"] == {"rejected": 0, "quarantined": 0, "retracted": 1}
    assert health["retracted"][0]["event_id"] == "s1"
    assert health["retracted"][0]["retracted_by"] == owner.email


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_agents_and_admins_cannot_retract(
    client: Client,
    make_token: MakeToken,
    api_store: Store,
    loaded: None,
    role: str,
    request: pytest.FixtureRequest,
) -> None:
    user = request.getfixturevalue(role)
    response = retract(client, make_token(user, ("write",)), "s1")
    assert_error(response, 403, "owners_only")
    assert csat_of(api_store, "c1") == 2
    assert api_store.count("events") == 2


def test_a_token_without_the_write_scope_cannot_retract(
    client: Client, read_token: str, loaded: None
) -> None:
    assert_error(retract(client, read_token, "s1"), 403, "insufficient_scope")


def test_an_owners_session_can_retract(
    client: Client, owner: User, api_store: Store, loaded: None
) -> None:
    client.force_login(owner)
    response = client.post(
        "/api/v1/events/s1/retract", {"reason": "test"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert csat_of(api_store, "c1") is None


def test_a_source_cannot_send_a_retraction(api: Api, api_store: Store, loaded: None) -> None:
    tombstone = {
        "id": "r1",
        "type": "event.retracted",
        "occurred_at": "2026-03-02T12:00:00Z",
        "event_id": "s1",
        "reason": "sneaky",
        "retracted_by": "an ingest token",
    }
    body = api.post_events([tombstone]).json()
    assert body["accepted"] == 0
    assert body["rejected"][0]["field"] == "type"
    assert csat_of(api_store, "c1") == 2


def test_data_health_is_for_owners_and_admins(
    client: Client, agent: User, admin: User, make_token: MakeToken, loaded: None
) -> None:
    agent_api = Api(client, make_token(agent, ("read",)))
    assert_error(agent_api.get("/api/v1/data-health"), 403, "admins_only")
    admin_api = Api(client, make_token(admin, ("read",)))
    assert admin_api.get("/api/v1/data-health").status_code == 200


def test_the_page_lists_rejected_quarantined_and_retracted(
    client: Client,
    owner: User,
    agent: User,
    make_token: MakeToken,
    api: Api,
    api_store: Store,
    loaded: None,
) -> None:
    api.post_events([created("old", "c-old", occurred_at="0001-01-01T00:00:00Z")])
    api_store.execute(
        "INSERT INTO quarantined_conversations VALUES "
        "('c-stuck', 'its facts cannot be computed: value out of range', NULL, "
        "TIMESTAMP '2026-03-02 10:00:00', TIMESTAMP '2026-03-02 11:00:00')"
    )
    assert retract(client, make_token(owner, ("write",)), "s1").status_code == 200
    client.force_login(owner)
    page = client.get("/settings/data-health/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Quarantined conversations (1)" in text
    assert "c-stuck" in text
    assert "value out of range" in text
    assert "Rejected events (1)" in text
    assert "before 2000-01-01T00:00:00Z" in text
    assert "Retracted events (1)" in text
    assert "a test survey" in text
    assert api.get("/api/v1/health").json()["quarantined"] == 1
    client.force_login(agent)
    assert client.get("/settings/data-health/").status_code == 404
