"""Who may open what under /performance and /api/v1/performance, for every kind of visitor.

The visitors: the owner, an admin, the agent alice, another agent (bob), an anonymous
visitor, an account without a role, an ingest-only token, and read tokens of the owner
and of alice. Another agent's pages answer 404, exactly as an id nobody has (their
existence is not revealed); anonymous pages go to the sign-in page and the anonymous API
answers 401; an account without a role gets 403.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store
from deskpulse.web.accounts.models import Profile, Role
from tests.web.conftest import MakeToken
from tests.web.performance_team import AS_OF, build_scored_team, serving
from tests.web.web_helpers import assert_error

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = build_scored_team(tmp_path_factory.mktemp("performance-access"))
    yield store
    store.close()


@pytest.fixture(autouse=True)
def api_store(scored: Store) -> Iterator[Store]:
    with serving(scored):
        yield scored


@pytest.fixture
def bob(db: None) -> User:
    user = User.objects.create_user(username="bob", email="bob@example.com")
    Profile.objects.create(user=user, role=Role.AGENT, agent_id="bob")
    return user


# fmt: off
PAGES: list[tuple[str, int, int, int, int]] = [
    # url                                                   owner  admin  alice    bob
    ("/performance/",                                         200,   200,   302,   302),
    ("/performance/agents/alice/",                            200,   200,   200,   404),
    ("/performance/agents/alice/inquiries/billing/",          200,   200,   200,   404),
    ("/performance/agents/bob/",                              200,   200,   404,   200),
    ("/performance/agents/bob/inquiries/billing/",            200,   200,   404,   200),
    ("/performance/agents/helperbot/",                        200,   200,   404,   404),
    ("/performance/agents/nobody/",                           404,   404,   404,   404),
    ("/performance/agents/nobody/inquiries/billing/",         404,   404,   404,   404),
]
API: list[tuple[str, int, int, int, int]] = [
    ("/api/v1/performance/agents/alice",                      200,   200,   200,   404),
    ("/api/v1/performance/agents/alice/inquiries/billing",    200,   200,   200,   404),
    ("/api/v1/performance/agents/bob",                        200,   200,   404,   200),
    ("/api/v1/performance/agents/bob/inquiries/billing",      200,   200,   404,   200),
    ("/api/v1/performance/agents/nobody",                     404,   404,   404,   404),
    ("/api/v1/performance/agents/nobody/inquiries/billing",   404,   404,   404,   404),
]
# fmt: on

VISITORS = (
    "owner",
    "admin",
    "alice",
    "bob",
    "anonymous",
    "outsider",
    "ingest token",
    "owner's read token",
    "alice's read token",
)
SESSION_COLUMN = {"owner": 0, "admin": 1, "alice": 2, "bob": 3}
EXPECTED_CODES = {
    ("anonymous", 401): "missing_token",
    ("ingest token", 403): "insufficient_scope",
    ("outsider", 403): "no_profile",
}


def expected(api: bool, statuses: tuple[int, ...], visitor: str) -> int:
    if visitor in SESSION_COLUMN:
        return statuses[SESSION_COLUMN[visitor]]
    if visitor == "outsider":
        return 403
    if not api:  # anonymous, or a bearer token without a session
        return 302
    return {
        "anonymous": 401,
        "ingest token": 403,
        "owner's read token": statuses[SESSION_COLUMN["owner"]],
        "alice's read token": statuses[SESSION_COLUMN["alice"]],
    }[visitor]


def with_as_of(url: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}as_of={AS_OF}"


@dataclass
class Visit:
    client: Client
    token: str | None = None

    def get(self, url: str) -> Any:
        headers = {} if self.token is None else {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        return self.client.get(with_as_of(url), **headers)


@pytest.fixture
def visit(request: pytest.FixtureRequest, client: Client, make_token: MakeToken) -> Any:
    def user(name: str) -> User:
        found: User = request.getfixturevalue({"alice": "agent"}.get(name, name))
        return found

    def make(name: str) -> Visit:
        if name in ("owner", "admin", "alice", "bob", "outsider"):
            client.force_login(user(name))
            return Visit(client)
        if name == "anonymous":
            return Visit(client)
        if name == "ingest token":
            return Visit(client, make_token(user("owner"), ("ingest",)))
        if name == "owner's read token":
            return Visit(client, make_token(user("owner"), ("read",)))
        if name == "alice's read token":
            return Visit(client, make_token(user("alice"), ("read",)))
        raise AssertionError(name)

    return make


def _matrix(table: list[tuple[str, int, int, int, int]], api: bool) -> list[Any]:
    return [
        pytest.param(url, visitor, expected(api, tuple(rest), visitor), id=f"{url} {visitor}")
        for url, *rest in table
        for visitor in VISITORS
    ]


@pytest.mark.parametrize(("url", "visitor", "status"), _matrix(PAGES, api=False))
def test_page_access(visit: Any, url: str, visitor: str, status: int) -> None:
    response = visit(visitor).get(url)
    assert response.status_code == status, f"{visitor} {url}: {response.status_code}"
    if status == 302:
        target = response["Location"]
        if visitor in ("alice", "bob"):
            # /performance/ takes an agent to their own page, keeping the URL's as_of.
            assert target == f"/performance/agents/{visitor}/?as_of={AS_OF}", target
        else:
            assert target.startswith(f"{LOGIN}?next="), target
    else:
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("url", "visitor", "status"), _matrix(API, api=True))
def test_api_access(visit: Any, url: str, visitor: str, status: int) -> None:
    response = visit(visitor).get(url)
    if status == 200:
        assert response.status_code == 200, f"{visitor} {url}: {response.content!r}"
        assert response["Content-Type"].startswith("application/json")
        return
    code = EXPECTED_CODES.get((visitor, status), "not_found" if status == 404 else None)
    assert code is not None, (visitor, status)
    assert_error(response, status, code)


@pytest.mark.parametrize(
    ("mine", "theirs", "nobodys"),
    [
        (
            "/performance/agents/alice/",
            "/performance/agents/bob/",
            "/performance/agents/nobody/",
        ),
        (
            "/api/v1/performance/agents/alice/inquiries/login",
            "/api/v1/performance/agents/bob/inquiries/login",
            "/api/v1/performance/agents/nobody/inquiries/login",
        ),
    ],
)
def test_another_agent_looks_like_nobody(
    client: Client, agent: User, mine: str, theirs: str, nobodys: str
) -> None:
    """Bob's page answers alice exactly as an id nobody has: nothing tells he exists."""
    client.force_login(agent)
    assert client.get(with_as_of(mine)).status_code == 200
    other = client.get(with_as_of(theirs))
    missing = client.get(with_as_of(nobodys))
    assert other.status_code == missing.status_code == 404
    assert b"Bob" not in other.content
    assert without_csrf(other.content.replace(b"/bob/", b"/nobody/")) == without_csrf(
        missing.content
    )


def without_csrf(content: bytes) -> bytes:
    """The page without its CSRF token (a fresh one per response)."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)
