"""/api/v1/experiments: list, result, create and update, with the API's one error shape.

Everyone on the team reads; only owners and admins write (agents: 403 admins_only);
session writes need the CSRF token, token writes a `read` token of an owner or admin.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store
from deskpulse.web.experiments.models import Experiment
from tests.experiments_scenario import KEY, small_experiment
from tests.factories import ingest_and_build
from tests.web.conftest import MakeToken
from tests.web.web_helpers import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/v1/experiments"
AS_OF = {"as_of": "2026-03-20"}


@pytest.fixture
def small(api_store: Store) -> Experiment:
    ingest_and_build(api_store, small_experiment().events)
    return Experiment.objects.create(
        key=KEY,
        name="Shorter AI replies",
        variants=["control", "concise"],
        planned_split=[50.0, 50.0],
        primary_metric="ai_resolved_rate",
        guardrail_metrics=["csat_mean"],
        start_date=date(2026, 3, 2),
        end_date=date(2026, 3, 8),
        mde_percent=50.0,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def body(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "key": "welcome-message",
        "name": "Friendlier welcome",
        "control": "control",
        "treatment": "friendly",
        "primary_metric": "csat_mean",
        "guardrail_metrics": ["escalation_rate"],
        "start_date": "2026-04-01",
    }
    found.update(changes)
    return found


def post(client: Client, data: Any, token: str | None = None, url: str = URL) -> Any:
    return client.post(
        url,
        orjson.dumps(data),
        content_type="application/json",
        headers=bearer(token) if token else {},
    )


def patch(client: Client, data: Any, token: str, key: str = KEY) -> Any:
    return client.patch(
        f"{URL}/{key}", orjson.dumps(data), content_type="application/json", headers=bearer(token)
    )


def test_list(client: Client, agent: User, make_token: MakeToken, small: Experiment) -> None:
    token = make_token(agent, ("read",))
    response = client.get(URL, AS_OF, headers=bearer(token))
    assert response.status_code == 200
    [row] = response.json()["experiments"]
    assert row["key"] == KEY
    assert row["status"] == "ended"
    assert row["exposures"] == {"control": 3, "concise": 4}
    assert row["conversations"] == {"control": 3, "concise": 3}
    assert row["action"] == "keep_running"
    assert row["href"] == f"/experiments/{KEY}/"


def test_result_is_the_verdicts_json(client: Client, owner: User, small: Experiment) -> None:
    client.force_login(owner)
    response = client.get(f"{URL}/{KEY}", AS_OF)
    assert response.status_code == 200
    data = response.json()
    assert data["experiment"]["control"] == "control"
    result = data["result"]
    verdict = result["verdict"]
    assert verdict["action"] == "keep_running"
    assert verdict["primary"]["name"] == "ai_resolved_rate"
    comparison = verdict["primary"]["comparison"]
    assert comparison["control_value"] == pytest.approx(1 / 3)
    assert comparison["treatment_value"] == 1.0
    assert comparison["test"] == "two_proportion_z"
    assert verdict["srm"]["observed"] == [3, 4]
    assert [m["name"] for m in result["metrics"]] == ["ai_resolved_rate", "csat_mean"]
    assert result["double_exposed"] == 1
    assert result["series"][0]["day"] == "2026-03-02"
    assert result["headline"].startswith("Keep running: not enough data")


def test_unknown_key_is_404(client: Client, owner: User, small: Experiment) -> None:
    client.force_login(owner)
    assert_error(client.get(f"{URL}/nope"), 404, "not_found")
    # The test client skips CSRF checks unless asked: this reaches the lookup.
    response = client.patch(f"{URL}/nope", b"{}", content_type="application/json")
    assert_error(response, 404, "not_found")


def test_metrics_list(client: Client, agent: User) -> None:
    client.force_login(agent)
    names = [m["name"] for m in client.get(f"{URL}/metrics").json()["metrics"]]
    assert "ai_resolved_rate" in names
    assert "cost_per_conversation" in names


def test_owner_token_creates(client: Client, owner: User, make_token: MakeToken) -> None:
    response = post(client, body(), make_token(owner, ("read", "write")))
    assert response.status_code == 201, response.content
    created = response.json()["experiment"]
    assert created["variants"] == ["control", "friendly"]
    assert created["alpha"] == 0.05
    assert created["mde_percent"] == 5.0
    assert created["planned_split_percent"] == [50.0, 50.0]
    assert created["end_date"] is None
    assert Experiment.objects.get(key="welcome-message").created_by == owner


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"treatment": "control"}, "treatment", "must differ"),
        ({"primary_metric": "nps"}, "primary_metric", "valid choice"),
        ({"start_date": None}, "start_date", "required"),
        ({"end_date": "2026-03-01"}, "end_date", "before the start"),
        ({"mde_percent": 0}, "mde_percent", "between"),
        ({"key": "metrics"}, "key", "reserved"),
    ],
)
def test_create_errors_name_the_field(
    client: Client,
    admin: User,
    make_token: MakeToken,
    changes: dict[str, Any],
    field: str,
    words: str,
) -> None:
    response = post(client, body(**changes), make_token(admin, ("read", "write")))
    error = assert_error(response, 422, "invalid_request", field)
    assert words in error["message"]
    assert not Experiment.objects.exists()


def test_agents_may_not_write(
    client: Client, agent: User, make_token: MakeToken, small: Experiment
) -> None:
    token = make_token(agent, ("read", "write"))
    assert_error(post(client, body(), token), 403, "admins_only")
    assert_error(patch(client, {"name": "hijacked"}, token), 403, "admins_only")
    small.refresh_from_db()
    assert small.name == "Shorter AI replies"


def test_writes_need_a_role_and_a_write_token(
    client: Client, owner: User, outsider: User, make_token: MakeToken
) -> None:
    assert_error(post(client, body()), 401, "missing_token")
    assert_error(post(client, body(), make_token(owner, ("ingest",))), 403, "insufficient_scope")
    # A read token reads; it never changes anything, whoever owns it.
    assert_error(post(client, body(), make_token(owner, ("read",))), 403, "insufficient_scope")
    assert_error(post(client, body(), make_token(outsider, ("read", "write"))), 403, "no_profile")


def test_session_writes_need_the_csrf_token(owner: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert_error(post(strict, body()), 403, "csrf_failed")
    strict.get("/experiments/")
    csrf = strict.cookies["csrftoken"].value
    response = strict.post(
        URL, orjson.dumps(body()), content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert response.status_code == 201, response.content


def test_patch_changes_only_what_is_sent(
    client: Client, admin: User, make_token: MakeToken, small: Experiment
) -> None:
    token = make_token(admin, ("read", "write"))
    response = patch(client, {"sequential": True, "end_date": None}, token)
    assert response.status_code == 200, response.content
    changed = response.json()["experiment"]
    assert changed["sequential"] is True
    assert changed["end_date"] is None
    assert changed["name"] == "Shorter AI replies"
    assert changed["guardrail_metrics"] == ["csat_mean"]
    assert_error(patch(client, {"key": "other"}, token), 422, "invalid_request", "key")
    assert_error(patch(client, {"control": "concise"}, token), 422, "invalid_request", "treatment")
