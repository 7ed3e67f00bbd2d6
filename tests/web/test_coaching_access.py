"""Who may see and change which coaching plan, on the pages and through the API.

An agent sees their own plans only: another agent's plan by URL or API is a 404, the
same answer as a plan that does not exist. Owners and admins (coaches) see and open
every plan. Someone without a role gets nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.analysis import coaching as core
from deskpulse.events.store import Store
from deskpulse.web.accounts.models import Profile, Role
from deskpulse.web.coaching.models import Plan, PlanAction, PlanAssistance, PlanStatus
from tests.web.coaching_scenario import BEGAN, BEGAN_PARAM, CHANNEL, INQUIRY, Scenario
from tests.web.conftest import MakeToken


@pytest.fixture
def bob(db: None) -> User:
    user = User.objects.create_user(username="bob", email="bob@example.com")
    Profile.objects.create(user=user, role=Role.AGENT, agent_id="bob")
    return user


@pytest.fixture
def history(api_store: Store) -> Scenario:
    s = Scenario()
    for name in ("alice", "bob"):
        s.chats(name, BEGAN - timedelta(days=30), [600, 700, 800], every=timedelta(days=3))
    s.load(api_store)
    return s


def stored_plan(agent_id: str) -> Plan:
    plan = Plan.objects.create(
        agent_id=agent_id,
        channel=CHANNEL,
        inquiry=INQUIRY,
        metric="aes_handle_time",
        direction="lower",
        improvement_percent=10,
        start_value=700.0,
        start_n=3,
        target_value=630.0,
        target_date=date(2026, 7, 15),
        began_at=BEGAN,
        status=PlanStatus.IN_PROGRESS,
        refreshed_at=BEGAN,
    )
    PlanAction.objects.create(plan=plan, position=0, text=f"{agent_id}'s action")
    PlanAssistance.objects.create(
        plan=plan, position=0, text=core.ASSISTANCE_CHOICES[3], from_list=True
    )
    return plan


@pytest.fixture
def plans(db: None, history: Scenario) -> dict[str, Plan]:
    return {"alice": stored_plan("alice"), "bob": stored_plan("bob")}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- pages ------------------------------------------------------------------------------------


def test_agent_opens_own_plan_but_not_anothers(
    client: Client, agent: User, plans: dict[str, Plan]
) -> None:
    client.force_login(agent)
    mine, theirs = plans["alice"], plans["bob"]
    assert client.get(f"/coaching/{mine.pk}/", {"as_of": BEGAN_PARAM}).status_code == 200
    assert client.get(f"/coaching/{theirs.pk}/").status_code == 404
    assert client.get("/coaching/999999/").status_code == 404
    # Nor tick another agent's action, even knowing both ids.
    action = theirs.actions.get()
    response = client.post(f"/coaching/{theirs.pk}/actions/{action.pk}/", {"done": "1"})
    assert response.status_code == 404
    action.refresh_from_db()
    assert not action.done
    # Nor reach an action through their own plan's URL.
    response = client.post(f"/coaching/{mine.pk}/actions/{action.pk}/", {"done": "1"})
    assert response.status_code == 404
    # The list shows their own plan only, and the coaches' page is not theirs.
    listing = client.get("/coaching/", {"as_of": BEGAN_PARAM})
    assert f'data-plan="{mine.pk}"' in listing.content.decode()
    assert f'data-plan="{theirs.pk}"' not in listing.content.decode()
    assert client.get("/coaching/team/").status_code == 404


def test_agent_cannot_start_a_plan_for_another_agent(
    client: Client, agent: User, history: Scenario
) -> None:
    client.force_login(agent)
    response = client.get("/coaching/new/", {"agent": "bob", "model": CHANNEL, "inquiry": INQUIRY})
    assert response.status_code == 404
    assert "coaching_draft" not in client.session


@pytest.mark.parametrize("role_fixture", ["owner", "admin"])
def test_coaches_see_every_plan_and_the_help_asked(
    client: Client, request: pytest.FixtureRequest, role_fixture: str, plans: dict[str, Plan]
) -> None:
    coach: User = request.getfixturevalue(role_fixture)
    client.force_login(coach)
    page = client.get("/coaching/team/", {"as_of": BEGAN_PARAM}).content.decode()
    for plan in plans.values():
        assert f'data-plan="{plan.pk}"' in page
    assert "Alice" in page
    assert "Bob" in page
    assert core.ASSISTANCE_CHOICES[3] in page
    only_bob = client.get("/coaching/team/", {"agent": "bob", "as_of": BEGAN_PARAM})
    assert f'data-plan="{plans["bob"].pk}"' in only_bob.content.decode()
    assert f'data-plan="{plans["alice"].pk}"' not in only_bob.content.decode()
    # A coach opens any plan and may tick its actions (say, together in a one-on-one).
    theirs = plans["bob"]
    assert client.get(f"/coaching/{theirs.pk}/", {"as_of": BEGAN_PARAM}).status_code == 200
    action = theirs.actions.get()
    client.post(f"/coaching/{theirs.pk}/actions/{action.pk}/", {"done": "1"})
    action.refresh_from_db()
    assert action.done
    # A coach's "my plans" is the team page.
    assert client.get("/coaching/")["Location"] == "/coaching/team/"


def test_outsider_and_anonymous_get_nothing(
    client: Client, outsider: User, plans: dict[str, Plan]
) -> None:
    plan = plans["alice"]
    for url in ("/coaching/", f"/coaching/{plan.pk}/", "/coaching/new/", "/coaching/team/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    client.force_login(outsider)
    for url in ("/coaching/", f"/coaching/{plan.pk}/", "/coaching/new/"):
        assert client.get(url).status_code == 403
    assert client.get("/coaching/team/").status_code == 404
    assert client.get("/api/v1/coaching/plans").status_code == 403
    assert client.get(f"/api/v1/coaching/plans/{plan.pk}").status_code == 403


# -- API --------------------------------------------------------------------------------------


Call = Callable[..., Any]


def test_api_agent_token_reads_and_changes_own_plans_only(
    client: Client, agent: User, make_token: MakeToken, plans: dict[str, Plan]
) -> None:
    token = make_token(agent, ("read", "write"))
    mine, theirs = plans["alice"], plans["bob"]
    listing = client.get("/api/v1/coaching/plans", headers=bearer(token)).json()
    assert [p["id"] for p in listing["plans"]] == [mine.pk]
    # No name of anyone else, and the agent's own list carries no names at all.
    assert "agent_name" not in listing["plans"][0]
    answer = client.get("/api/v1/coaching/plans", {"agent": "bob"}, headers=bearer(token))
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"

    for method, url, body in (
        ("get", f"/api/v1/coaching/plans/{theirs.pk}", None),
        ("post", f"/api/v1/coaching/plans/{theirs.pk}/refresh", None),
        (
            "patch",
            f"/api/v1/coaching/plans/{theirs.pk}/actions/{theirs.actions.get().pk}",
            {"done": True},
        ),
        (
            "patch",
            f"/api/v1/coaching/plans/{mine.pk}/actions/{theirs.actions.get().pk}",
            {"done": True},
        ),
    ):
        response = getattr(client, method)(
            url, body, content_type="application/json", headers=bearer(token)
        )
        assert response.status_code == 404, (method, url)
        assert response.json()["error"] == {
            "status": 404,
            "code": "not_found",
            "message": "not found",
            "field": None,
        }
    assert not theirs.actions.get().done

    response = client.patch(
        f"/api/v1/coaching/plans/{mine.pk}/actions/{mine.actions.get().pk}",
        {"done": True},
        content_type="application/json",
        headers=bearer(token),
    )
    assert response.status_code == 200
    assert response.json()["done"] is True


def test_api_agent_cannot_create_a_plan_for_another_agent(
    client: Client, agent: User, make_token: MakeToken, history: Scenario
) -> None:
    token = make_token(agent, ("read", "write"))
    response = client.post(
        f"/api/v1/coaching/plans?as_of={BEGAN_PARAM.replace('+', '%2B')}",
        {
            "agent_id": "bob",
            "channel": CHANNEL,
            "inquiry": INQUIRY,
            "metric": "aes_handle_time",
            "improvement_percent": 10,
            "target_date": "2026-07-15",
            "actions": ["x"],
            "assistance": ["y"],
        },
        content_type="application/json",
        headers=bearer(token),
    )
    assert response.status_code == 404
    assert not Plan.objects.exists()
    helper = client.get(
        "/api/v1/coaching/wizard",
        {"agent": "bob", "model": CHANNEL, "inquiry": INQUIRY, "as_of": BEGAN_PARAM},
        headers=bearer(token),
    )
    assert helper.status_code == 404


def test_api_coach_token_sees_every_plan_with_names(
    client: Client, admin: User, make_token: MakeToken, plans: dict[str, Plan]
) -> None:
    token = make_token(admin, ("read", "write"))
    listing = client.get("/api/v1/coaching/plans", headers=bearer(token)).json()
    assert sorted(p["agent_id"] for p in listing["plans"]) == ["alice", "bob"]
    assert {p["agent_name"] for p in listing["plans"]} == {"Alice", "Bob"}
    only = client.get("/api/v1/coaching/plans", {"agent": "bob"}, headers=bearer(token)).json()
    assert [p["agent_id"] for p in only["plans"]] == ["bob"]
    plan = client.get(
        f"/api/v1/coaching/plans/{plans['bob'].pk}", {"as_of": BEGAN_PARAM}, headers=bearer(token)
    )
    assert plan.status_code == 200
    assert plan.json()["assistance"] == [{"text": core.ASSISTANCE_CHOICES[3], "from_list": True}]


def test_api_without_credentials_or_with_an_ingest_token(
    client: Client, owner: User, make_token: MakeToken, plans: dict[str, Plan]
) -> None:
    response = client.get("/api/v1/coaching/plans")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_token"
    ingest = make_token(owner, ("ingest",))
    response = client.get("/api/v1/coaching/plans", headers=bearer(ingest))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_api_read_token_reads_a_plan_but_cannot_change_it(
    client: Client, agent: User, make_token: MakeToken, plans: dict[str, Plan]
) -> None:
    read = make_token(agent, ("read",))
    mine = plans["alice"]
    assert client.get(f"/api/v1/coaching/plans/{mine.pk}", headers=bearer(read)).status_code == 200
    response = client.post(f"/api/v1/coaching/plans/{mine.pk}/refresh", headers=bearer(read))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"
