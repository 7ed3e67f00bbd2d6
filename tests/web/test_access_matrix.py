"""Who may open what: every /analytics page and /api/v1 analytics endpoint for every kind
of visitor, against one small hand-made team.

The visitors: the owner, an admin, the agent alice, another agent (bob), an anonymous
visitor, an account without a role, an ingest-only token, and read tokens of the owner
and of alice. Another agent's objects answer 404 (their existence is not revealed);
anonymous pages redirect to the sign-in page, the anonymous API answers 401; an account
without a role gets 403. A bearer token on a page is not a session: it is anonymous there.

An agent's leaderboard has exactly one row, their own, on the page, in the API and in
both CSV exports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store, open_store
from deskpulse.settings import Settings
from deskpulse.web.accounts.models import Profile, Role
from deskpulse.web.runtime import using_store
from tests.factories import Events, ingest_and_build
from tests.web.conftest import MakeToken
from tests.web.web_helpers import assert_error

pytestmark = pytest.mark.django_db

# Every URL carries as_of, so the 30-day default period ends on this day whatever the
# date the suite runs on. The events below happen on March 2, 2026.
AS_OF = "2026-03-08"
LOGIN = "/accounts/login/"

ALICE_CONVERSATION = "c-alice-1"
BOB_ONLY_CONVERSATION = "c-bob-1"


def team_events() -> list[dict[str, Any]]:
    """Two human agents (alice, bob) and an AI agent, five conversations with CSAT.

    c-bob-1 is the only conversation bob took part in, and alice did not touch it.
    """
    f = Events()
    f.agent("alice", name="Alice Archer", teams=["t1"])
    f.agent("bob", name="Bob Baker", teams=["t1"])
    f.agent("helperbot", name="Helper Bot", kind="ai")
    c1 = f.conversation(ALICE_CONVERSATION, customer="u1", inquiry="billing", at=0)
    c1.customer(at=0.5).assign("alice", team="t1", at=1).reply("alice", at=5)
    c1.resolve(at=30, by="alice").survey("csat", 5, at=40)
    c2 = f.conversation("c-alice-2", customer="u2", inquiry="login", at=60)
    c2.customer(at=60.5).assign("alice", team="t1", at=61)
    c2.reply("alice", at=70, ai_assist="draft_edited").resolve(at=90, by="alice")
    c2.survey("csat", 4, at=100)
    c3 = f.conversation("c-shared", customer="u3", at=120)
    c3.customer(at=120.5).ai_reply("helperbot", at=121)
    c3.escalate(from_agent="helperbot", to_agent="alice", at=125)
    c3.assign("alice", team="t1", at=125).reply("alice", at=130).resolve(at=150, by="alice")
    c3.survey("csat", 3, at=160)
    c4 = f.conversation(BOB_ONLY_CONVERSATION, customer="u4", inquiry="billing", at=180)
    c4.customer(at=180.5).assign("bob", team="t1", at=181).reply("bob", at=190)
    c4.resolve(at=220, by="bob").survey("csat", 2, at=230)
    c5 = f.conversation("c-bot-1", customer="u5", at=240)
    c5.customer(at=240.5).ai_reply("helperbot", at=241).resolve(at=245, by="helperbot")
    c5.survey("csat", 5, at=250)
    return f.events


@pytest.fixture(scope="module")
def team_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The team's events, ingested and built once for the module (building facts per
    test made the matrix take minutes). Every request here is a GET: nothing writes."""
    store = open_store(Settings(data_dir=tmp_path_factory.mktemp("access-matrix")))
    ingest_and_build(store, team_events())
    yield store
    store.close()


@pytest.fixture(autouse=True)
def api_store(team_store: Store) -> Iterator[Store]:
    """Overrides tests/web/conftest.py's autouse store: the API serves the team's store."""
    with using_store(team_store):
        yield team_store


@pytest.fixture
def bob(db: None) -> User:
    user = User.objects.create_user(username="bob", email="bob@example.com")
    Profile.objects.create(user=user, role=Role.AGENT, agent_id="bob")
    return user


# API endpoints that read no period refuse as_of like any parameter they do not take.
TAKES_NO_PERIOD = ("/api/v1/alerts/", "/api/v1/conversations/", "/api/v1/saved-views")


def with_as_of(url: str) -> str:
    if url.startswith(TAKES_NO_PERIOD):
        return url
    return f"{url}{'&' if '?' in url else '?'}as_of={AS_OF}"


# -- the expectations -----------------------------------------------------------------------
#
# One row per target: the status for a session of the owner, an admin, alice and bob.
# The other visitors follow from the kind of target (see `expected`):
#   anonymous             pages 302 to the sign-in page, API 401
#   outsider (no role)    403 everywhere
#   ingest-only token     pages 302 (a token is no session), API 403
#   read token, owner     pages 302, API as the owner's session
#   read token, alice     pages 302, API as alice's session

# fmt: off
PAGES: list[tuple[str, int, int, int, int]] = [
    # url                                                       owner  admin  alice    bob
    ("/analytics/",                                               200,   200,   200,   200),
    ("/analytics/leaderboard.csv",                                200,   200,   200,   200),
    ("/analytics/agents/alice/",                                  200,   200,   200,   404),
    ("/analytics/agents/alice/one-on-one/",                       200,   200,   200,   404),
    ("/analytics/agents/bob/",                                    200,   200,   404,   200),
    ("/analytics/agents/bob/one-on-one/",                         200,   200,   404,   200),
    ("/analytics/agents/helperbot/",                              200,   200,   404,   404),
    ("/analytics/conversations/",                                 200,   200,   200,   200),
    ("/analytics/conversations/?agent=alice",                     200,   200,   200,   404),
    ("/analytics/conversations/?agent=bob",                       200,   200,   404,   200),
    ("/analytics/conversations.csv",                              200,   200,   200,   200),
    ("/analytics/conversations.csv?agent=bob",                    200,   200,   404,   200),
    (f"/analytics/conversations/{ALICE_CONVERSATION}/",           200,   200,   200,   404),
    (f"/analytics/conversations/{BOB_ONLY_CONVERSATION}/",        200,   200,   404,   200),
    ("/analytics/agents/nobody/",                                 404,   404,   404,   404),
    ("/analytics/agents/nobody/one-on-one/",                      404,   404,   404,   404),
    ("/analytics/conversations/?agent=nobody",                    404,   404,   404,   404),
    ("/analytics/conversations.csv?agent=nobody",                 404,   404,   404,   404),
    ("/analytics/conversations/no-such-conversation/",            404,   404,   404,   404),
    # AI agents are not colleagues: every role sees them; a human id is not an AI agent.
    ("/ai-agents/",                                               200,   200,   200,   200),
    ("/ai-agents/helperbot/",                                     200,   200,   200,   200),
    ("/ai-agents/alice/",                                         404,   404,   404,   404),
    ("/ai-agents/nobody/",                                        404,   404,   404,   404),
    ("/ai-agents/quality/",                                       200,   200,   200,   200),
    ("/ai-agents/quality/?agent=helperbot",                       200,   200,   200,   200),
    ("/ai-agents/quality/?agent=bob",                             404,   404,   404,   404),
    ("/ai-agents/quality.csv",                                    200,   200,   200,   200),
    # Experiments are per variant, never per person: every role reads them.
    ("/experiments/",                                             200,   200,   200,   200),
    ("/experiments/no-such-experiment/",                          404,   404,   404,   404),
    # Alerts watch the whole team: owners and admins only; an agent gets 403 even for a
    # rule that does not exist (the role is refused before anything is looked up).
    # Teams side by side compares every team: owners and admins; agents 403, like alerts.
    ("/analytics/?team=t1",                                       200,   200,   200,   200),
    ("/analytics/teams/",                                         200,   200,   403,   403),
    ("/analytics/teams.csv",                                      200,   200,   403,   403),
    ("/alerts/",                                                  200,   200,   403,   403),
    ("/alerts/new/",                                              200,   200,   403,   403),
    ("/alerts/history/",                                          200,   200,   403,   403),
    ("/alerts/999/",                                              404,   404,   403,   403),
    ("/alerts/999/edit/",                                         404,   404,   403,   403),
    ("/settings/notifications/",                                  200,   200,   403,   403),
    # Connectors belong to the install: owners and admins; an unknown one is a 404.
    ("/settings/connectors/",                                     200,   200,   403,   403),
    ("/settings/connectors/999/",                                 404,   404,   403,   403),
    # Everyone chooses their own digest; an agent's is their own numbers.
    ("/settings/digest/",                                         200,   200,   200,   200),
    ("/settings/digest/preview/",                                 200,   200,   200,   200),
    # Saved views: each person's own and the shared ones (ownership: see the test below).
    ("/saved-views/",                                             200,   200,   200,   200),
    ("/saved-views/999/",                                         404,   404,   404,   404),
]
# fmt: on

# fmt: off
API: list[tuple[str, int, int, int, int]] = [
    # url                                                       owner  admin  alice    bob
    ("/api/v1/dashboard",                                         200,   200,   200,   200),
    ("/api/v1/leaderboard",                                       200,   200,   200,   200),
    ("/api/v1/leaderboard.csv",                                   200,   200,   200,   200),
    ("/api/v1/load-balancing",                                    200,   200,   200,   200),
    ("/api/v1/agents/alice",                                      200,   200,   200,   404),
    ("/api/v1/agents/alice/one-on-one",                           200,   200,   200,   404),
    ("/api/v1/agents/bob",                                        200,   200,   404,   200),
    ("/api/v1/agents/bob/one-on-one",                             200,   200,   404,   200),
    ("/api/v1/agents/helperbot",                                  200,   200,   404,   404),
    ("/api/v1/conversations",                                     200,   200,   200,   200),
    ("/api/v1/conversations?agent=alice",                         200,   200,   200,   404),
    ("/api/v1/conversations?agent=bob",                           200,   200,   404,   200),
    ("/api/v1/conversations.csv",                                 200,   200,   200,   200),
    ("/api/v1/conversations.csv?agent=bob",                       200,   200,   404,   200),
    (f"/api/v1/conversations/{ALICE_CONVERSATION}",               200,   200,   200,   404),
    (f"/api/v1/conversations/{BOB_ONLY_CONVERSATION}",            200,   200,   404,   200),
    ("/api/v1/agents/nobody",                                     404,   404,   404,   404),
    ("/api/v1/agents/nobody/one-on-one",                          404,   404,   404,   404),
    ("/api/v1/conversations?agent=nobody",                        404,   404,   404,   404),
    ("/api/v1/conversations.csv?agent=nobody",                    404,   404,   404,   404),
    ("/api/v1/conversations/no-such-conversation",                404,   404,   404,   404),
    ("/api/v1/ai-agents",                                         200,   200,   200,   200),
    ("/api/v1/ai-agents/helperbot",                               200,   200,   200,   200),
    ("/api/v1/ai-agents/alice",                                   404,   404,   404,   404),
    ("/api/v1/ai-agents/nobody",                                  404,   404,   404,   404),
    ("/api/v1/ai-agents/quality",                                 200,   200,   200,   200),
    ("/api/v1/ai-agents/quality?agent=bob",                       404,   404,   404,   404),
    ("/api/v1/ai-agents/quality.csv",                             200,   200,   200,   200),
    ("/api/v1/experiments",                                       200,   200,   200,   200),
    ("/api/v1/experiments/no-such-experiment",                    404,   404,   404,   404),
    ("/api/v1/teams",                                             200,   200,   403,   403),
    ("/api/v1/teams.csv",                                         200,   200,   403,   403),
    # An agent narrows the dashboard to their own team (alice and bob are in t1); another
    # team is a 404 for them (tests/web/test_analytics_filters.py).
    ("/api/v1/dashboard?team=t1",                                 200,   200,   200,   200),
    ("/api/v1/alerts/rules",                                      200,   200,   403,   403),
    ("/api/v1/alerts/rules/999",                                  404,   404,   403,   403),
    ("/api/v1/alerts/history",                                    200,   200,   403,   403),
    ("/api/v1/saved-views",                                       200,   200,   200,   200),
    ("/api/v1/saved-views/999",                                   404,   404,   404,   404),
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


def expected(api: bool, statuses: tuple[int, int, int, int], visitor: str) -> int:
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


# API error codes: what each refusal says.
EXPECTED_CODES = {
    ("anonymous", 401): "missing_token",
    ("ingest token", 403): "insufficient_scope",
    ("outsider", 403): "no_profile",
    # Only the alerts and teams endpoints refuse an agent outright.
    ("alice", 403): "admins_only",
    ("bob", 403): "admins_only",
    ("alice's read token", 403): "admins_only",
}


@dataclass
class Visit:
    """A client set up as one visitor: a session, a bearer token, or neither."""

    client: Client
    token: str | None = None

    def get(self, url: str) -> Any:
        headers = {} if self.token is None else {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        return self.client.get(with_as_of(url), **headers)


@pytest.fixture
def visit(request: pytest.FixtureRequest, client: Client, make_token: MakeToken) -> Any:
    """visit(name) → a Visit for one of VISITORS (users are made on demand)."""

    def user(name: str) -> User:
        fixture = {"alice": "agent"}.get(name, name)
        found: User = request.getfixturevalue(fixture)
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
        pytest.param(url, visitor, expected(api, statuses, visitor), id=f"{url} {visitor}")
        for url, *rest in table
        for statuses in [tuple(rest)]
        for visitor in VISITORS
    ]


@pytest.mark.parametrize(("url", "visitor", "status"), _matrix(PAGES, api=False))
def test_page_access(visit: Any, url: str, visitor: str, status: int) -> None:
    response = visit(visitor).get(url)
    assert response.status_code == status, f"{visitor} {url}: {response.status_code}"
    if status == 302:
        target = response["Location"]
        assert target.startswith(f"{LOGIN}?next="), target
        assert "as_of" in target  # back to the same page after signing in
    elif status == 200:
        kind = "text/csv" if ".csv" in url else "text/html"
        assert response["Content-Type"].startswith(kind)
    else:
        # 403 and 404 are pages for people, not JSON.
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("url", "visitor", "status"), _matrix(API, api=True))
def test_api_access(visit: Any, url: str, visitor: str, status: int) -> None:
    response = visit(visitor).get(url)
    if status == 200:
        assert response.status_code == 200, f"{visitor} {url}: {response.content!r}"
        kind = "text/csv" if ".csv" in url else "application/json"
        assert response["Content-Type"].startswith(kind)
        return
    code = EXPECTED_CODES.get((visitor, status), "not_found" if status == 404 else None)
    assert code is not None, (visitor, status)
    assert_error(response, status, code)


# -- what an agent sees ---------------------------------------------------------------------


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_agent_page_leaderboard_has_one_row_their_own(client: Client, agent: User) -> None:
    client.force_login(agent)
    response = client.get(with_as_of("/analytics/"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<tr") > 1  # the page has tables
    assert html.count('data-agent="') == 1, html.count('data-agent="')
    assert 'data-agent="alice"' in html
    assert "Bob Baker" not in html
    assert "Helper Bot" not in html


def test_agent_api_leaderboard_has_one_row_their_own(
    client: Client, agent: User, make_token: MakeToken
) -> None:
    client.force_login(agent)
    rows = client.get(with_as_of("/api/v1/leaderboard")).json()["rows"]
    assert [row["agent_id"] for row in rows] == ["alice"]
    assert rows[0]["handled"]["value"] == 3
    token = make_token(agent, ("read",))
    anonymous = Client()
    by_token = anonymous.get(
        with_as_of("/api/v1/leaderboard"), HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert [row["agent_id"] for row in by_token.json()["rows"]] == ["alice"]
    dashboard = client.get(with_as_of("/api/v1/dashboard")).json()
    assert [row["agent_id"] for row in dashboard["leaderboard"]["rows"]] == ["alice"]


@pytest.mark.parametrize("url", ["/analytics/leaderboard.csv", "/api/v1/leaderboard.csv"])
def test_agent_leaderboard_csv_has_one_data_row(client: Client, agent: User, url: str) -> None:
    client.force_login(agent)
    response = client.get(with_as_of(url))
    assert response.status_code == 200
    header, *rows = csv_rows(response.content)
    assert header[0] == "Agent"
    assert len(rows) == 1, rows
    assert rows[0][0] == "Alice Archer"


@pytest.mark.parametrize(
    "url", ["/api/v1/conversations", "/api/v1/conversations.csv", "/analytics/conversations.csv"]
)
def test_agent_conversation_lists_leave_out_conversations_they_did_not_handle(
    client: Client, agent: User, url: str
) -> None:
    client.force_login(agent)
    response = client.get(with_as_of(url))
    assert response.status_code == 200
    text = response.content.decode()
    assert ALICE_CONVERSATION in text
    assert "c-shared" in text
    assert BOB_ONLY_CONVERSATION not in text
    assert "c-bot-1" not in text


def test_agent_conversations_page_leaves_out_others(client: Client, agent: User) -> None:
    client.force_login(agent)
    html = client.get(with_as_of("/analytics/conversations/")).content.decode()
    assert f"/analytics/conversations/{ALICE_CONVERSATION}/" in html
    assert f"/analytics/conversations/{BOB_ONLY_CONVERSATION}/" not in html


def test_owner_sees_every_agent_who_replied(client: Client, owner: User) -> None:
    client.force_login(owner)
    rows = client.get(with_as_of("/api/v1/leaderboard")).json()["rows"]
    assert sorted(row["agent_id"] for row in rows) == ["alice", "bob", "helperbot"]
    kinds = {row["agent_id"]: row["kind"] for row in rows}
    assert kinds == {"alice": "human", "bob": "human", "helperbot": "ai"}
    html = client.get(with_as_of("/analytics/")).content.decode()
    for agent_id in ("alice", "bob", "helperbot"):
        assert html.count(f'data-agent="{agent_id}"') == 1, agent_id
    assert html.count('data-agent="') == 3
    _header, *csv_data = csv_rows(client.get(with_as_of("/analytics/leaderboard.csv")).content)
    assert sorted(row[0] for row in csv_data) == ["Alice Archer", "Bob Baker", "Helper Bot"]


def test_owner_conversation_list_has_every_conversation(client: Client, owner: User) -> None:
    client.force_login(owner)
    body = client.get(with_as_of("/api/v1/conversations")).json()
    ids = sorted(row["conversation_id"] for row in body["rows"])
    assert ids == sorted(
        [ALICE_CONVERSATION, "c-alice-2", "c-shared", BOB_ONLY_CONVERSATION, "c-bot-1"]
    )


def test_bob_sees_his_conversation_and_not_alices(client: Client, bob: User) -> None:
    client.force_login(bob)
    body = client.get(with_as_of("/api/v1/conversations")).json()
    assert [row["conversation_id"] for row in body["rows"]] == [BOB_ONLY_CONVERSATION]


def test_outsider_page_says_why(client: Client, outsider: User) -> None:
    client.force_login(outsider)
    response = client.get(with_as_of("/analytics/"))
    assert response.status_code == 403
    assert b"no role" in response.content


def test_api_error_bodies_have_one_shape(client: Client, agent: User) -> None:
    """Errors other than access ones (a bad period) keep the shape too."""
    client.force_login(agent)
    response = client.get("/api/v1/leaderboard?period=5d")
    assert response.status_code == 422
    body = orjson.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message", "field"}
    assert body["error"]["status"] == 422


def test_a_private_saved_view_is_its_owners_alone(
    client: Client, owner: User, agent: User, bob: User
) -> None:
    """Alice's private view: nobody else opens, renames or deletes it, on a page or
    through the API, not even an owner; it answers 404 as if it did not exist."""
    from deskpulse.web.saved_views.models import SavedView

    view = SavedView.objects.create(owner=agent, name="Mine", page="analytics", query="period=7d")
    for other in (bob, owner):
        client.force_login(other)
        assert client.get(f"/saved-views/{view.pk}/").status_code == 404
        for action in ("rename", "delete"):
            changed = client.post(
                f"/saved-views/{view.pk}/change/", {"action": action, "name": "x"}
            )
            assert changed.status_code == 404
        assert_error(client.get(f"/api/v1/saved-views/{view.pk}"), 404, "not_found")
        renamed = client.patch(
            f"/api/v1/saved-views/{view.pk}", {"name": "x"}, content_type="application/json"
        )
        assert_error(renamed, 404, "not_found")
        assert_error(client.delete(f"/api/v1/saved-views/{view.pk}"), 404, "not_found")
        assert client.get("/api/v1/saved-views").json()["views"] == []
        client.logout()
    client.force_login(agent)
    assert client.get(f"/saved-views/{view.pk}/")["Location"] == "/analytics/?period=7d"
    view.refresh_from_db()
    assert view.name == "Mine"
