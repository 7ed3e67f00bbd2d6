"""/api/v1/coaching/: the wizard's helper data, creating a plan with the wizard's
validation, reading, refreshing and ticking actions, in the API's one error shape."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.analysis import coaching as core
from deskpulse.analysis import effectiveness as eff
from deskpulse.events.store import Store
from deskpulse.web.coaching.models import Plan
from tests.web.coaching_scenario import (
    BEGAN,
    BEGAN_PARAM,
    CHANNEL,
    INQUIRY,
    Scenario,
    moment_param,
    team_history,
)
from tests.web.conftest import MakeToken

PLANS = "/api/v1/coaching/plans"


@pytest.fixture
def scenario(api_store: Store) -> Scenario:
    s = Scenario()
    team_history(s)
    s.load(api_store)
    return s


@pytest.fixture
def token(agent: User, make_token: MakeToken) -> str:
    return make_token(agent, ("read", "write"))


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def as_of(moment: str = BEGAN_PARAM) -> str:
    return moment.replace("+", "%2B")


def plan_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": CHANNEL,
        "inquiry": INQUIRY,
        "metric": "aes_handle_time",
        "improvement_percent": 20,
        "target_date": "2026-07-15",
        "actions": ["Use the refund macro"],
        "assistance": [core.ASSISTANCE_CHOICES[0], "Sit with me on Friday"],
    }
    body.update(changes)
    return body


def create(client: Client, token: str, body: dict[str, Any], moment: str = BEGAN_PARAM) -> Any:
    return client.post(
        f"{PLANS}?as_of={as_of(moment)}",
        body,
        content_type="application/json",
        headers=headers(token),
    )


def test_create_read_refresh_and_tick(
    client: Client, token: str, scenario: Scenario, api_store: Store
) -> None:
    response = create(client, token, plan_body())
    assert response.status_code == 201, response.content
    plan = response.json()
    assert plan["agent_id"] == "alice"  # an agent's plan is their own by default
    assert plan["start"] == {"value": 750.0, "n": 4, "text": "12m", "lookback_days": 91}
    assert plan["target"] == {"value": 600.0, "text": "10m"}
    # Now: only interactions since the plan began, none yet.
    assert plan["now"]["value"] is None
    assert (plan["now"]["n"], plan["now"]["interactions"], plan["now"]["since_start"]) == (0, 0, 0)
    assert plan["change"]["verdict"] == "no_now"
    assert plan["change"]["min_interactions"] == 20
    assert plan["change"]["confidence"] == 0.99
    assert plan["status"] == "in_progress"
    assert plan["direction"] == "lower"
    assert plan["began_at"] == "2026-06-01T12:00:00+00:00"
    assert plan["warnings"] == []
    assert [a["text"] for a in plan["actions"]] == ["Use the refund macro"]
    assert plan["assistance"] == [
        {"text": core.ASSISTANCE_CHOICES[0], "from_list": True},
        {"text": "Sit with me on Friday", "from_list": False},
    ]
    assert plan["history"] == [{"day": "2026-06-01", "value": None, "n": 0}]

    # Better work after the start, then a refresh: achieved.
    scenario.chats("alice", BEGAN + timedelta(days=3), [120] * 20, every=timedelta(hours=2))
    scenario.load(api_store)
    later = moment_param(BEGAN + timedelta(days=5))
    response = client.post(
        f"{PLANS}/{plan['id']}/refresh?as_of={as_of(later)}", headers=headers(token)
    )
    assert response.status_code == 200
    refreshed = response.json()
    # 20 since the start at 120 s <= 600 s, and beyond noise (Welch, 99%).
    assert refreshed["now"]["value"] == 120.0
    assert refreshed["change"]["method"] == "welch"
    assert refreshed["change"]["verdict"] == "beyond_noise"
    assert refreshed["change"]["high"] < 0
    assert refreshed["status"] == "achieved"
    assert refreshed["achieved_at"] == "2026-06-06T12:00:00+00:00"
    assert [p["day"] for p in refreshed["history"]] == ["2026-06-01", "2026-06-06"]

    action = plan["actions"][0]["id"]
    response = client.patch(
        f"{PLANS}/{plan['id']}/actions/{action}",
        {"done": True},
        content_type="application/json",
        headers=headers(token),
    )
    assert response.json()["done"] is True
    listing = client.get(PLANS, {"status": "achieved"}, headers=headers(token)).json()
    assert [p["id"] for p in listing["plans"]] == [plan["id"]]
    assert listing["plans"][0]["actions"][0]["done"] is True
    assert client.get(PLANS, {"status": "in_progress"}, headers=headers(token)).json() == {
        "plans": []
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"improvement_percent": 4}, "improvement", "between 5% and 50% (you entered 4%)"),
        ({"improvement_percent": 51}, "improvement", "between 5% and 50% (you entered 51%)"),
        ({"improvement_percent": None}, "improvement", "enter an improvement"),
        ({"actions": []}, "actions", "enter at least 1 item"),
        ({"actions": ["a", "b", "c", "d"]}, "actions", "enter at most 3 items (you entered 4)"),
        ({"assistance": ["  "]}, "assistance", "enter at least 1 item"),
        ({"assistance": ["a"] * 4}, "assistance", "enter at most 3 items"),
        ({"actions": ["x" * 201]}, "actions", "201 characters long"),
        ({"target_date": "2026-06-01"}, "target_date", "choose a date after today"),
        ({"target_date": "2026-05-01"}, "target_date", "choose a date after today"),
        ({"target_date": None}, "target_date", "choose the date"),
        ({"metric": "csat_mean"}, "metric", "choose one of"),
        ({"inquiry": " "}, "inquiry", "choose the inquiry"),
    ],
)
def test_create_validates_like_the_wizard(
    client: Client,
    token: str,
    scenario: Scenario,
    changes: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = create(client, token, plan_body(**changes))
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["field"] == field
    assert error["message"].startswith(f"{field}: ")
    assert message in error["message"]
    assert not Plan.objects.exists()


def test_create_refuses_malformed_json_fields_by_name(
    client: Client, token: str, scenario: Scenario
) -> None:
    response = create(client, token, plan_body(target_date="next week"))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "target_date"
    response = create(client, token, plan_body(improvement_percent="lots"))
    assert response.json()["error"]["field"] == "improvement_percent"


def test_create_warns_outside_two_weeks_to_three_months(
    client: Client, token: str, scenario: Scenario
) -> None:
    response = create(client, token, plan_body(target_date="2026-06-08"))
    assert response.status_code == 201
    assert response.json()["warnings"] == [
        "2026-06-08 is only 7 days away. We recommend at least 2 weeks, so there are enough "
        "interactions to see a change."
    ]


def test_create_needs_a_start_value(client: Client, token: str, scenario: Scenario) -> None:
    response = create(client, token, plan_body(inquiry="warranty"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "metric"
    assert "no starting point" in error["message"]


def test_session_writes_need_the_csrf_token(
    agent: User, scenario: Scenario, client: Client
) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    response = strict.post(f"{PLANS}?as_of={as_of()}", plan_body(), content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert not Plan.objects.exists()
    # With the token from the cookie a page hands out, the same request is accepted.
    strict.get("/coaching/")
    csrf = strict.cookies["csrftoken"].value
    response = strict.post(
        f"{PLANS}?as_of={as_of()}",
        plan_body(),
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 201, response.content
    # Reads need no CSRF token.
    assert strict.get(PLANS).status_code == 200


def test_wizard_helper_data(client: Client, token: str, scenario: Scenario) -> None:
    response = client.get(
        "/api/v1/coaching/wizard",
        {
            "model": CHANNEL,
            "inquiry": INQUIRY,
            "metric": "aes_handle_time",
            "improvement": 10,
            "as_of": BEGAN_PARAM,
        },
        headers=headers(token),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["agent_id"] == "alice"
    assert [m["metric"] for m in body["metrics"]] == list(eff.EFFECTIVENESS_METRICS)
    handle = next(m for m in body["metrics"] if m["metric"] == "aes_handle_time")
    assert handle["start"] == {"value": 750.0, "n": 4, "text": "12m"}
    assert handle["direction"] == "lower"
    assert body["target"]["target"] == {"value": 675.0, "text": "11m"}
    # Poor interactions for handle time: the longest first, with a link each.
    poor = body["poor_interactions"]
    assert [p["handle_seconds"] for p in poor] == [900.0, 900.0, 600.0, 600.0]
    assert poor[0]["href"] == f"/analytics/conversations/{poor[0]['conversation_id']}/"
    assert body["target_date"] == {
        "today": "2026-06-01",
        "recommended_from": "2026-06-15",
        "recommended_to": "2026-09-01",
    }
    assert body["assistance_choices"] == list(core.ASSISTANCE_CHOICES)
    assert body["limits"] == {"improvement_min": 5, "improvement_max": 50, "max_items": 3}

    bad = client.get(
        "/api/v1/coaching/wizard/target",
        {
            "model": CHANNEL,
            "inquiry": INQUIRY,
            "metric": "aes_handle_time",
            "improvement": 4,
            "as_of": BEGAN_PARAM,
        },
        headers=headers(token),
    ).json()
    # A live preview says what is wrong rather than failing the request.
    assert bad["target"]["value"] is None
    assert "between 5% and 50%" in bad["error"]


def test_assistance_choices(client: Client, token: str, scenario: Scenario) -> None:
    body = client.get("/api/v1/coaching/assistance-choices", headers=headers(token)).json()
    assert body == {"choices": list(core.ASSISTANCE_CHOICES), "max_items": 3}


def test_coaching_endpoints_are_in_the_openapi_document(client: Client, db: None) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/coaching/plans",
        "/api/v1/coaching/plans/{plan_id}",
        "/api/v1/coaching/plans/{plan_id}/refresh",
        "/api/v1/coaching/plans/{plan_id}/actions/{action_id}",
        "/api/v1/coaching/wizard",
        "/api/v1/coaching/wizard/target",
        "/api/v1/coaching/assistance-choices",
    ):
        assert path in paths, path
