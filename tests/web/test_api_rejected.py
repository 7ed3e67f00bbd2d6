"""GET /api/v1/rejected: the refused events an admin reads (what `deskpulse rejected`
prints), newest first, for owners and admins only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.rejections import rejected_json
from deskpulse.events.store import Store
from tests.web.conftest import MakeToken
from tests.web.web_helpers import Api, assert_error, created

pytestmark = pytest.mark.django_db

URL = "/api/v1/rejected"


@pytest.fixture
def refused(api: Api) -> None:
    """Two events refused in one batch beside an accepted one."""
    batch = [
        created("good", "c1"),
        created("bad-channel", "c2", channel="pigeon"),
        {"id": "bad-type", "type": "conversation.teleported", "occurred_at": "2026-03-02T10:00Z"},
    ]
    assert api.post_events(batch).json()["accepted"] == 1


def test_owners_read_every_refused_event_with_its_field_and_reason(
    refused: None, client: Client, owner: User, make_token: MakeToken, api_store: Store
) -> None:
    answer = Api(client, make_token(owner, ("read",))).get(URL)
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == 2
    by_id = {row["event_id"]: row for row in body["rejected"]}
    assert set(by_id) == {"bad-channel", "bad-type"}
    assert by_id["bad-channel"]["field"] == "channel"
    assert by_id["bad-channel"]["position"] == 1
    assert by_id["bad-channel"]["source"].startswith("api:")
    assert '"pigeon"' in by_id["bad-channel"]["raw"]
    # A timestamp with its offset, like every other moment the API gives.
    assert by_id["bad-type"]["received_at"].endswith("+00:00")
    # The CLI prints the very same answer.
    assert body == rejected_json(api_store)


def test_limit_and_offset_page_through_them(
    refused: None, client: Client, admin: User, make_token: MakeToken
) -> None:
    reader = Api(client, make_token(admin, ("read",)))
    first = reader.get(URL, limit=1).json()
    second = reader.get(URL, limit=1, offset=1).json()
    assert first["total"] == second["total"] == 2
    assert len(first["rejected"]) == len(second["rejected"]) == 1
    assert first["rejected"] != second["rejected"]


def test_a_session_of_an_admin_reads_them(refused: None, client: Client, admin: User) -> None:
    client.force_login(admin)
    assert client.get(URL).json()["total"] == 2


@pytest.mark.parametrize("limit", ["0", "10001", "many"])
def test_a_bad_limit_names_it(
    client: Client, owner: User, make_token: MakeToken, limit: str
) -> None:
    answer = Api(client, make_token(owner, ("read",))).get(URL, limit=limit)
    assert_error(answer, 422, "invalid_request", "limit")


def test_agents_are_refused(
    refused: None, client: Client, agent: User, make_token: MakeToken
) -> None:
    # A refused event carries its raw text, whoever's conversation it was about.
    assert_error(Api(client, make_token(agent, ("read",))).get(URL), 403, "admins_only")
    client.force_login(agent)
    assert_error(client.get(URL), 403, "admins_only")


def test_tokens_need_the_read_scope(
    client: Client, owner: User, make_token: MakeToken, anonymous: Api
) -> None:
    assert_error(Api(client, make_token(owner, ("ingest",))).get(URL), 403, "insufficient_scope")
    assert_error(anonymous.get(URL), 401, "missing_token")
