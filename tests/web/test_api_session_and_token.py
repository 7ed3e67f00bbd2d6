"""One rule for sessions and tokens on every /api/v1 endpoint (web/api/auth.py).

Over every operation of the OpenAPI document: a signed-in session is accepted (with the
CSRF token when the method changes something), a bearer token with the endpoint's scope
is accepted, a token without it is refused 403 insufficient_scope, a session that also
sends an Authorization header is judged by the token, and a session's change without
the CSRF token is refused 403 csrf_failed. "Accepted" means neither 401 nor 403: the
request went on to the endpoint (which may still say 404 or 422 about the made-up ids
and empty bodies these requests carry).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.middleware.csrf import CSRF_SECRET_LENGTH
from django.test import Client

from deskpulse.web.api.auth import SessionAuth, TokenAuth
from tests.web.conftest import MakeToken
from tests.web.web_helpers import assert_error

pytestmark = pytest.mark.django_db

SCOPES = ("read", "write", "ingest")
# Public on purpose: liveness, the event schema, and webhooks whose URL carries a secret.
PUBLIC = {
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/schema/events.json"),
    ("POST", "/api/v1/connectors/chatwoot/{secret}"),
}
# Required query parameters, so a request gets past ninja's own validation.
REQUIRED = {"model": "chat", "inquiry": "billing", "metric": "csat"}


def _routes() -> list[tuple[str, str, dict[str, Any], str | None]]:
    """(method, path, OpenAPI operation, scope the endpoint needs) for every operation."""
    from deskpulse.web.api.v1 import api

    api.urls  # binds the routers  # noqa: B018
    scopes: dict[tuple[str, str], str | None] = {}
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            for operation in view.operations:
                callbacks = list(operation.auth_callbacks)
                scope = None
                if callbacks:
                    # The one rule: a session first, then a token, for one scope.
                    assert [type(c) for c in callbacks] == [SessionAuth, TokenAuth], path
                    assert len({c.scope for c in callbacks}) == 1, path
                    scope = callbacks[0].scope
                for method in operation.methods:
                    scopes[(method, path.replace("{path:", "{"))] = scope
    document = api.get_openapi_schema()
    routes = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            key = (method.upper(), path.removeprefix("/api/v1"))
            routes.append((method.upper(), path, operation, scopes[key]))
    return routes


ROUTES = _routes()
SECURED = [route for route in ROUTES if (route[0], route[1]) not in PUBLIC]


def _ids(routes: list[Any]) -> list[str]:
    return [f"{method} {path}" for method, path, *_ in routes]


def _url(path: str, operation: dict[str, Any]) -> str:
    query = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            path = path.replace(f"{{{parameter['name']}}}", "1")
        elif parameter.get("required"):
            query.append(f"{parameter['name']}={REQUIRED[parameter['name']]}")
    return path + ("?" + "&".join(query) if query else "")


def _request(client: Client, method: str, url: str, headers: dict[str, str] | None = None) -> Any:
    if method == "GET":
        return client.get(url, headers=headers or {})
    body = b"[]" if url.endswith("/events") else b"{}"
    return client.generic(method, url, body, content_type="application/json", headers=headers or {})


def _csrf(client: Client) -> dict[str, str]:
    """The CSRF header a signed-in browser sends: the csrftoken cookie's value (any
    32-letter secret is one Django would have handed out)."""
    secret = "s" * CSRF_SECRET_LENGTH
    client.cookies["csrftoken"] = secret
    return {"X-CSRFToken": secret}


def _accepted(response: Any) -> None:
    assert response.status_code not in (401, 403), response.content
    assert response.status_code < 500, response.content


def test_every_operation_is_public_or_follows_the_one_rule() -> None:
    public = {(method, path) for method, path, _, scope in ROUTES if scope is None}
    assert public == PUBLIC
    assert {scope for *_, scope in SECURED} == set(SCOPES)


@pytest.mark.parametrize(("method", "path", "operation", "scope"), SECURED, ids=_ids(SECURED))
def test_a_session_is_accepted(
    owner: User, method: str, path: str, operation: dict[str, Any], scope: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    headers = {} if method == "GET" else _csrf(client)
    _accepted(_request(client, method, _url(path, operation), headers))


@pytest.mark.parametrize(("method", "path", "operation", "scope"), SECURED, ids=_ids(SECURED))
def test_a_token_with_the_scope_is_accepted(
    client: Client,
    owner: User,
    make_token: MakeToken,
    method: str,
    path: str,
    operation: dict[str, Any],
    scope: str,
) -> None:
    token = make_token(owner, (scope,))
    response = _request(client, method, _url(path, operation), {"Authorization": f"Bearer {token}"})
    _accepted(response)


@pytest.mark.parametrize(("method", "path", "operation", "scope"), SECURED, ids=_ids(SECURED))
def test_a_token_without_the_scope_is_403(
    client: Client,
    owner: User,
    make_token: MakeToken,
    method: str,
    path: str,
    operation: dict[str, Any],
    scope: str,
) -> None:
    token = make_token(owner, tuple(s for s in SCOPES if s != scope))
    response = _request(client, method, _url(path, operation), {"Authorization": f"Bearer {token}"})
    assert_error(response, 403, "insufficient_scope")
    assert f'scope="{scope}"' in response["WWW-Authenticate"]


@pytest.mark.parametrize(("method", "path", "operation", "scope"), SECURED, ids=_ids(SECURED))
def test_a_session_with_an_authorization_header_is_judged_by_the_token(
    owner: User,
    make_token: MakeToken,
    method: str,
    path: str,
    operation: dict[str, Any],
    scope: str,
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    headers = {} if method == "GET" else _csrf(client)
    weak = make_token(owner, tuple(s for s in SCOPES if s != scope))
    response = _request(
        client, method, _url(path, operation), {**headers, "Authorization": f"Bearer {weak}"}
    )
    assert_error(response, 403, "insufficient_scope")
    broken = _request(
        client, method, _url(path, operation), {**headers, "Authorization": "Bearer nope"}
    )
    assert_error(broken, 401, "invalid_token")


UNSAFE = [route for route in SECURED if route[0] != "GET"]


@pytest.mark.parametrize(("method", "path", "operation", "scope"), UNSAFE, ids=_ids(UNSAFE))
def test_a_sessions_change_without_the_csrf_token_is_403(
    owner: User, method: str, path: str, operation: dict[str, Any], scope: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert_error(_request(client, method, _url(path, operation)), 403, "csrf_failed")


@pytest.mark.parametrize(("method", "path", "operation", "scope"), SECURED, ids=_ids(SECURED))
def test_nobody_is_401(method: str, path: str, operation: dict[str, Any], scope: str) -> None:
    response = _request(Client(), method, _url(path, operation))
    assert_error(response, 401, "missing_token")


def test_sending_events_from_a_session_is_for_owners_and_admins(agent: User, admin: User) -> None:
    for person, status in ((agent, 403), (admin, 200)):
        client = Client(enforce_csrf_checks=True)
        client.force_login(person)
        response = _request(client, "POST", "/api/v1/events", _csrf(client))
        assert response.status_code == status, response.content
        if status == 403:
            assert_error(response, 403, "admins_only")


def test_report_and_query_take_a_signed_in_session(client: Client, owner: User) -> None:
    """The issue's case: a session was accepted by /dashboard but refused by these two."""
    client.force_login(owner)
    assert client.get("/api/v1/report").status_code == 200
    response = client.post(
        "/api/v1/query", {"metrics": ["conversations"]}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
