"""Bearer tokens on the API: each way of failing has its own status and code."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.web.accounts.models import ApiToken
from deskpulse.web.accounts.tokens import revoke_token
from tests.web.web_helpers import EVENTS_URL, Api, assert_error, created

pytestmark = pytest.mark.django_db


def test_missing_token_is_401(anonymous: Api) -> None:
    response = anonymous.post_events([created("e1")])
    assert_error(response, 401, "missing_token")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Token abc", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Bearer two words", "dp_abc"],
)
def test_malformed_authorization_header_is_401(client: Client, header: str) -> None:
    response = client.post(
        EVENTS_URL, b"[]", content_type="application/json", headers={"Authorization": header}
    )
    assert_error(response, 401, "malformed_authorization")


@pytest.mark.parametrize(
    "token",
    [
        "not-a-deskpulse-token",
        "dp_0123456789ab_" + "x" * 43,  # well formed, unknown prefix
    ],
)
def test_unknown_token_is_401(client: Client, db: None, token: str) -> None:
    response = client.post(
        EVENTS_URL,
        b"[]",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_error(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_right_prefix_wrong_secret_is_401(api: Api) -> None:
    assert api.token is not None
    prefix = api.token.split("_")[1]
    forged = Api(api.client, f"dp_{prefix}_{'A' * 43}")
    assert_error(forged.post_events([created("e1")]), 401, "invalid_token")


def test_revoked_token_is_401(api: Api) -> None:
    assert api.post_events([created("e1")]).status_code == 200
    assert api.token is not None
    revoke_token(api.token.split("_")[1])
    assert_error(api.post_events([created("e2")]), 401, "revoked_token")


def test_token_of_deactivated_user_is_401(api: Api, owner: User) -> None:
    owner.is_active = False
    owner.save()
    assert_error(api.post_events([created("e1")]), 401, "invalid_token")


def test_read_token_cannot_ingest(client: Client, read_token: str) -> None:
    response = Api(client, read_token).post_events([created("e1")])
    assert_error(response, 403, "insufficient_scope")
    assert 'scope="ingest"' in response["WWW-Authenticate"]


def test_ingest_token_cannot_read(api: Api) -> None:
    assert_error(api.post_json("/api/v1/query", {}), 403, "insufficient_scope")
    assert_error(api.get("/api/v1/report"), 403, "insufficient_scope")


def test_read_endpoints_need_a_token(anonymous: Api) -> None:
    assert_error(anonymous.post_json("/api/v1/query", {}), 401, "missing_token")
    assert_error(anonymous.get("/api/v1/report"), 401, "missing_token")


def test_use_is_recorded(api: Api) -> None:
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    assert api.post_events([created("e1")]).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_open_endpoints_need_no_token(anonymous: Api) -> None:
    assert anonymous.get("/api/v1/health").status_code == 200
    assert anonymous.get("/api/v1/schema/events.json").status_code == 200
