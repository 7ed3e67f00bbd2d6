"""Saved views: save the filters and period of a page, open them from the menu, and
nobody but their owner opens, renames or deletes a private one (pages and API)."""

from __future__ import annotations

import html

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.web.accounts.models import Profile, Role
from deskpulse.web.saved_views.models import SavedView
from tests.web.web_helpers import assert_error

pytestmark = pytest.mark.django_db

QUERY = "period=7d&time=business"
FILTERED = "period=7d&team=billing&channel=email"


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def bob(db: None) -> User:
    user = User.objects.create_user(username="bob", email="bob@example.com")
    Profile.objects.create(user=user, role=Role.AGENT, agent_id="bob")
    return user


def save(user: User, name: str = "Billing e-mail", **fields: object) -> SavedView:
    values: dict[str, object] = {"page": "analytics", "query": FILTERED, **fields}
    return SavedView.objects.create(owner=user, name=name, **values)


def test_save_from_the_menu_then_open_it_again(client: Client, agent: User) -> None:
    signed_in(client, agent)
    menu = client.get(f"/analytics/?{QUERY}&utm_source=mail").content.decode()
    assert "data-saved-views" in menu
    # The form carries the page's own parameters only.
    assert f'name="query" value="{QUERY.replace("&", "&amp;")}"' in menu
    saved = client.post(
        "/saved-views/save/", {"name": "Billing e-mail", "page": "analytics", "query": QUERY}
    )
    assert saved.status_code == 302
    assert saved["Location"] == f"/analytics/?{QUERY}"
    view = SavedView.objects.get(owner=agent)
    assert (view.name, view.page, view.query, view.shared) == (
        "Billing e-mail",
        "analytics",
        QUERY,
        False,
    )
    assert f'href="/saved-views/{view.pk}/"' in client.get("/analytics/").content.decode()
    opened = client.get(f"/saved-views/{view.pk}/")
    assert (opened.status_code, opened["Location"]) == (302, f"/analytics/?{QUERY}")


def test_the_menu_keeps_the_leaderboards_sort(client: Client, owner: User) -> None:
    html = signed_in(client, owner).get("/analytics/?period=14d&sort=csat_mean&order=asc")
    assert 'name="query" value="period=14d&amp;sort=csat_mean&amp;order=asc"' in (
        html.content.decode()
    )
    saved = client.post(
        "/saved-views/save/",
        {
            "name": "Lowest CSAT",
            "page": "leaderboard",
            "query": "period=14d&sort=csat_mean&order=asc",
        },
    )
    assert saved["Location"] == "/analytics/?period=14d&sort=csat_mean&order=asc#leaderboard"


def test_a_leaderboard_view_opens_at_the_leaderboard(client: Client, owner: User) -> None:
    view = save(owner, page="leaderboard", query="period=30d&sort=csat_mean&order=desc")
    opened = signed_in(client, owner).get(f"/saved-views/{view.pk}/")
    assert opened["Location"] == "/analytics/?period=30d&sort=csat_mean&order=desc#leaderboard"


def test_the_conversations_list_has_the_menu(client: Client, owner: User) -> None:
    save(owner, name="Escalated chats", page="conversations", query="channel=chat&escalated=yes")
    save(owner, name="Dashboard only")
    html = signed_in(client, owner).get("/analytics/conversations/").content.decode()
    assert "Escalated chats" in html
    assert "Dashboard only" not in html


@pytest.mark.parametrize(
    ("page", "query", "field", "words"),
    [
        ("analytics", "period=7d&agent=bob", "query", "'agent' is not a parameter of this page"),
        ("analytics", "period=8d", "period", "'8d' is not 7d, 14d, 30d, 90d or custom"),
        ("analytics", "period=custom&from=2026-03-01", "to", ""),
        ("analytics", "team=a%00b", "team", "control characters"),
        ("settings", "", "page", "'settings' is not a page that can be saved"),
    ],
)
def test_a_query_the_page_does_not_take_is_refused_naming_it(
    client: Client, owner: User, page: str, query: str, field: str, words: str
) -> None:
    answer = signed_in(client, owner).post(
        "/api/v1/saved-views",
        {"name": "x", "page": page, "query": query},
        content_type="application/json",
    )
    # A body the API cannot use is a 422 (pages say 400), like every other body.
    error = assert_error(answer, 422, "invalid_saved_view", field)
    assert words in error["message"]
    assert not SavedView.objects.exists()


def test_names_are_unique_per_person_and_the_error_says_so(client: Client, owner: User) -> None:
    save(owner)
    answer = signed_in(client, owner).post(
        "/saved-views/save/", {"name": "Billing  e-mail", "page": "analytics", "query": ""}
    )
    assert answer.status_code == 400
    assert "you already have a view named 'Billing e-mail'" in html.unescape(
        answer.content.decode()
    )


def test_only_owners_share_and_everyone_then_opens_it_read_only(
    client: Client, owner: User, agent: User, bob: User
) -> None:
    mine = save(bob, name="Bob's")
    refused = signed_in(client, bob).post(f"/saved-views/{mine.pk}/change/", {"action": "share"})
    assert refused.status_code == 400
    assert "only owners can share" in refused.content.decode()
    shared = save(owner, name="Team view", shared=True)
    client.logout()
    signed_in(client, agent)
    assert client.get(f"/saved-views/{shared.pk}/").status_code == 302
    assert "Team view" in client.get("/analytics/").content.decode()
    for action in ("rename", "delete", "unshare"):
        answer = client.post(f"/saved-views/{shared.pk}/change/", {"action": action, "name": "x"})
        assert answer.status_code == 404
    shared.refresh_from_db()
    assert (shared.name, shared.shared) == ("Team view", True)


def test_nobody_else_opens_renames_or_deletes_a_private_view(
    client: Client, owner: User, agent: User, bob: User
) -> None:
    private = save(bob, name="Mine")
    for user in (agent, owner):
        signed_in(client, user)
        assert client.get(f"/saved-views/{private.pk}/").status_code == 404
        for action in ("rename", "delete"):
            answer = client.post(
                f"/saved-views/{private.pk}/change/", {"action": action, "name": "x"}
            )
            assert answer.status_code == 404
        assert "Mine" not in client.get("/saved-views/").content.decode()
        client.logout()
    private.refresh_from_db()
    assert private.name == "Mine"


def test_the_owner_renames_and_deletes_their_view(client: Client, bob: User) -> None:
    view = save(bob)
    signed_in(client, bob)
    renamed = client.post(
        f"/saved-views/{view.pk}/change/", {"action": "rename", "name": "Billing, weekly"}
    )
    assert renamed.status_code == 302
    view.refresh_from_db()
    assert view.name == "Billing, weekly"
    assert client.post(f"/saved-views/{view.pk}/change/", {"action": "delete"}).status_code == 302
    assert not SavedView.objects.exists()


def test_the_api_lists_creates_renames_and_deletes(client: Client, owner: User, bob: User) -> None:
    save(bob, name="Bob's private")
    signed_in(client, owner)
    created = client.post(
        "/api/v1/saved-views",
        {
            "name": "Chats",
            "page": "conversations",
            "query": "?channel=chat&period=14d",
            "shared": True,
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    view = created.json()["view"]
    assert view["url"] == "/analytics/conversations/?channel=chat&period=14d"
    assert (view["shared"], view["mine"]) == (True, True)
    listed = client.get("/api/v1/saved-views").json()["views"]
    assert [v["name"] for v in listed] == ["Chats"]
    patched = client.patch(
        f"/api/v1/saved-views/{view['id']}", {"name": "Chat queue"}, content_type="application/json"
    )
    assert patched.json()["view"]["name"] == "Chat queue"
    assert client.delete(f"/api/v1/saved-views/{view['id']}").status_code == 204
    assert client.get("/api/v1/saved-views").json()["views"] == []
