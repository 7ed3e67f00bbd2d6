"""/api/v1/alerts: rules, their state, history and checks, for owners and admins only,
with errors in the one shape that name the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store
from deskpulse.web.alerts.models import AlertEvent, AlertRule, NotificationSettings
from deskpulse.web.alerts.service import check_rules
from deskpulse.web.runtime import using_store
from tests.web.alerts_scenario import csat_rule, day
from tests.web.alerts_scenario import month_store as month_store
from tests.web.conftest import MakeToken
from tests.web.web_helpers import assert_error

pytestmark = pytest.mark.django_db

RULES = "/api/v1/alerts/rules"


@pytest.fixture(autouse=True)
def api_store(month_store: Store) -> Iterator[Store]:
    with using_store(month_store):
        yield month_store


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def send(client: Client, method: str, url: str, data: Any, token: str) -> Any:
    return getattr(client, method)(
        url, orjson.dumps(data), content_type="application/json", headers=bearer(token)
    )


def body(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": "Escalations, chat",
        "metric": "escalation_rate",
        "segment_dimension": "channel",
        "segment_value": "chat",
    }
    found.update(changes)
    return found


def test_create_list_get_update_delete(client: Client, owner: User, make_token: MakeToken) -> None:
    token = make_token(owner, ("read", "write"))
    created = send(client, "post", RULES, body(), token)
    assert created.status_code == 201, created.content
    rule = created.json()["rule"]
    assert rule["direction"] == "lower_is_better"
    assert rule["baseline"] == {"kind": "trailing", "days": 28}
    assert rule["warning_percent"] == 10
    assert rule["critical_percent"] == 25
    assert rule["min_sample"] == 30
    assert rule["segment"] == {"channel": "chat"}
    assert rule["enabled"]
    assert rule["notify_webhook"]
    assert rule["notify_email"]
    assert rule["state"] is None

    listed = client.get(RULES, headers=bearer(token)).json()["rules"]
    assert [r["id"] for r in listed] == [rule["id"]]

    changed = send(
        client, "patch", f"{RULES}/{rule['id']}", {"warning_percent": 15, "enabled": False}, token
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["rule"]["warning_percent"] == 15
    assert changed.json()["rule"]["enabled"] is False
    assert changed.json()["rule"]["name"] == "Escalations, chat"  # unchanged

    deleted = client.delete(f"{RULES}/{rule['id']}", headers=bearer(token))
    assert deleted.status_code == 204
    assert not AlertRule.objects.exists()
    assert_error(client.get(f"{RULES}/{rule['id']}", headers=bearer(token)), 404, "not_found")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"metric": "conversations"}, "metric", "conversations"),
        ({"warning_percent": 40, "critical_percent": 20}, "critical_percent", "20 is below"),
        ({"segment_value": ""}, "segment_value", "empty"),
        ({"baseline_kind": "fixed"}, "baseline_value", "fixed baseline needs a value"),
        ({"current_days": 500}, "current_days", "500 is not between 1 and 90"),
    ],
)
def test_errors_name_the_field(
    client: Client,
    admin: User,
    make_token: MakeToken,
    changes: dict[str, Any],
    field: str,
    words: str,
) -> None:
    response = send(client, "post", RULES, body(**changes), make_token(admin, ("read", "write")))
    error = assert_error(response, 422, "invalid_request", field)
    assert error["message"].startswith(f"{field}: ")
    assert words in error["message"]


def test_rule_with_state_and_history(client: Client, owner: User, month_store: Store) -> None:
    rule = csat_rule()
    check_rules(month_store, day(12))
    check_rules(month_store, day(13))
    client.force_login(owner)
    found = client.get(f"{RULES}/{rule.pk}").json()
    state = found["rule"]["state"]
    assert state["state"] == "firing"
    assert state["severity"] == "critical"
    assert state["current"] == {"value": pytest.approx(2.0), "n": 8}
    assert state["baseline"]["value"] == pytest.approx(4.5)
    assert [e["kind"] for e in found["history"]] == ["firing", "pending"]
    history = client.get("/api/v1/alerts/history").json()
    assert history["total"] == 2
    firing = history["events"][0]
    assert firing["delivery"]["webhook"]["status"] == "not_configured"
    assert firing["dedup_key"].endswith("/firing")
    only = client.get(f"/api/v1/alerts/history?rule={rule.pk}&limit=1").json()
    assert len(only["events"]) == 1


def test_run_checks(client: Client, owner: User, make_token: MakeToken) -> None:
    rule = csat_rule()
    token = make_token(owner, ("read", "write"))
    url = "/api/v1/alerts/check?as_of=2026-03-14T09:00:00%2B00:00"
    first = client.post(url, headers=bearer(token))
    assert first.status_code == 200, first.content
    assert first.json()["checked"] == 1
    assert first.json()["changes"][0]["state"] == "pending"
    again = client.post(url, headers=bearer(token)).json()
    assert again["skipped"] == 1
    assert AlertEvent.objects.filter(rule=rule).count() == 1
    # Dated in the future, a check would silence every rule until then.
    future = client.post("/api/v1/alerts/check?as_of=2099-01-01", headers=bearer(token))
    assert_error(future, 422, "invalid_request", "as_of")
    assert AlertEvent.objects.filter(rule=rule).count() == 1


def test_agents_outsiders_and_read_tokens_are_refused(
    client: Client, owner: User, agent: User, outsider: User, make_token: MakeToken
) -> None:
    rule = csat_rule()
    token = make_token(agent, ("read", "write"))
    for method, url in (
        ("get", RULES),
        ("get", f"{RULES}/{rule.pk}"),
        ("get", "/api/v1/alerts/history"),
        ("post", "/api/v1/alerts/check"),
        ("delete", f"{RULES}/{rule.pk}"),
    ):
        assert_error(getattr(client, method)(url, headers=bearer(token)), 403, "admins_only")
    assert_error(send(client, "post", RULES, body(), token), 403, "admins_only")
    # An owner's read token reads the rules but cannot change them.
    owners_read = make_token(owner, ("read",))
    assert client.get(RULES, headers=bearer(owners_read)).status_code == 200
    assert_error(send(client, "post", RULES, body(), owners_read), 403, "insufficient_scope")
    outsiders = make_token(outsider, ("read", "write"))
    assert_error(client.get(RULES, headers=bearer(outsiders)), 403, "no_profile")
    assert_error(Client().get(RULES), 401, "missing_token")
    assert AlertRule.objects.count() == 1


def test_session_writes_need_the_csrf_token(owner: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    response = strict.post(RULES, orjson.dumps(body()), content_type="application/json")
    assert_error(response, 403, "csrf_failed")


def test_no_secret_in_any_answer(client: Client, owner: User, month_store: Store) -> None:
    NotificationSettings(
        webhook_url="https://hooks.example.com/x", webhook_secret="s3cret-value"
    ).save()
    # No delivery is attempted (the URL is not a real receiver): the rule notifies nobody.
    rule = csat_rule(notify_webhook=False, notify_email=False)
    check_rules(month_store, day(12))
    check_rules(month_store, day(13))
    client.force_login(owner)
    for url in (RULES, f"{RULES}/{rule.pk}", "/api/v1/alerts/history"):
        assert b"s3cret-value" not in client.get(url).content
