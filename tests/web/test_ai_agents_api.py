"""GET /api/v1/ai-agents, /api/v1/ai-agents/{agent_id} and /api/v1/ai-agents/quality
(+ .csv) on the hand-built day of tests/ai_agents_scenario.py: the same numbers as the
pages, the same roles, the one error shape.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store, open_store
from deskpulse.settings import Settings
from deskpulse.web.ai_agents.models import AiTargets
from deskpulse.web.runtime import using_store
from tests.ai_agents_scenario import AS_OF_TEXT, ai_day
from tests.factories import ingest_and_build
from tests.web.conftest import MakeToken
from tests.web.web_helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def ai_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(Settings(data_dir=tmp_path_factory.mktemp("ai-agents-api")))
    ingest_and_build(store, ai_day().events)
    yield store
    store.close()


@pytest.fixture(autouse=True)
def api_store(ai_store: Store) -> Iterator[Store]:
    with using_store(ai_store):
        yield ai_store


def url(path: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}period=7d&as_of={AS_OF_TEXT}"


def get(client: Client, user: User, path: str) -> Any:
    client.force_login(user)
    return client.get(url(path))


def test_all_ai_agents(client: Client, owner: User) -> None:
    response = get(client, owner, "/api/v1/ai-agents")
    assert response.status_code == 200
    body = response.json()
    assert body["period"]["from"].startswith("2026-03-02")
    assert body["half_life_days"] == 7.0
    assert body["agent"] is None
    overall = body["overall"]
    assert overall["conversations"] == {"value": 4, "n": 4}
    assert overall["ai_resolved_rate"] == {"value": 0.5, "n": 4, "pending": 0}
    assert overall["first_resolution_p95"] == {"value": 3330.0, "n": 4}
    assert overall["csat_detractor_rate"] == {"value": 0.5, "n": 4}
    assert overall["cost_per_conversation"] == {"value": 0.275, "n": 4}
    assert body["escalated"] == 2
    assert [r["reason"] for r in body["escalation_reasons"]] == [
        "customer_request",
        "low_confidence",
    ]
    assert [a["agent_id"] for a in body["agents"]] == ["bot", "bot2"]
    assert body["agents"][0]["escalation_reasons"] == [
        {"reason": "low_confidence", "label": "Low confidence", "count": 1, "share": 1.0}
    ]
    assert set(body["breakdowns"]) == {"inquiry", "channel", "language", "customer_tier", "hour"}
    assert [row["key"] for row in body["breakdowns"]["hour"]] == ["09", "10", "11", "12"]
    assert body["humans_only"]["csat_mean"] == {"value": 4.0, "n": 1}
    assert body["all_conversations"]["ai_handled_rate"] == {"value": 0.4, "n": 5}


def test_one_ai_agent(client: Client, agent: User) -> None:
    body = get(client, agent, "/api/v1/ai-agents/bot").json()
    assert body["agent"] == {"agent_id": "bot", "name": "Billing Bot", "active": True}
    assert body["overall"]["conversations"] == {"value": 3, "n": 3}
    assert [a["agent_id"] for a in body["agents"]] == ["bot"]


@pytest.mark.parametrize("who", ["owner", "agent"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/ai-agents/alice",
        "/api/v1/ai-agents/nobody",
        "/api/v1/ai-agents/quality?agent=bob",
        "/api/v1/ai-agents/quality.csv?agent=alice",
    ],
)
def test_a_human_or_unknown_id_is_a_404(
    client: Client, db: None, request: pytest.FixtureRequest, who: str, path: str
) -> None:
    assert_error(get(client, request.getfixturevalue(who), path), 404, "not_found")


def test_quality_report(client: Client, agent: User) -> None:
    body = get(client, agent, "/api/v1/ai-agents/quality").json()
    assert [(i["area"], i["severity"]) for i in body["issues"]] == [
        ("CSAT", "high"),
        ("Escalation", "medium"),
    ]
    assert {c["area"]: c["status"] for c in body["checks"]} == {
        "CSAT": "issue",
        "Escalation": "issue",
        "Cost": "short",
    }
    assert body["targets"]["csat_floor"] == 4.0
    summary = body["summary"]
    assert summary["ai_handled_conversations"] == 2
    # 2 AI-handled x $10.00 - $1.10, what all four AI conversations cost.
    assert summary["cost_saved"] == 18.9
    assert summary["ai_cost_total"] == {"value": 1.1, "n": 4}
    assert summary["csat_difference"] == -0.75
    benchmark = next(b for b in body["benchmarks"] if b["label"] == "Escalation rate")
    assert benchmark["tier1"] == "20\u201325%"
    assert benchmark["ai"] == {"value": 0.5, "n": 4, "pending": 0}
    assert benchmark["human"] == {"value": 0.0, "n": 1, "pending": 0}


def test_quality_uses_the_saved_targets(client: Client, owner: User) -> None:
    AiTargets(escalation_ceiling=60, escalation_target=40, human_cost_per_conversation=5).save()
    body = get(client, owner, "/api/v1/ai-agents/quality?agent=bot2").json()
    assert body["agent"] == "bot2"
    assert body["targets"]["escalation_ceiling"] == 0.6
    assert {c["area"]: c["status"] for c in body["checks"]}["Escalation"] == "issue"  # 100%
    # bot2's 2 AI-handled conversations x 5 - the 0.30 its conversations cost.
    assert body["summary"]["cost_saved"] == pytest.approx(2 * 5 - 0.3)


def test_quality_csv(client: Client, owner: User) -> None:
    response = get(client, owner, "/api/v1/ai-agents/quality.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "Section"
    assert any(row[:2] == ["check", "CSAT"] for row in rows)


def test_roles(
    client: Client, outsider: User, make_token: MakeToken, owner: User, agent: User
) -> None:
    assert_error(client.get(url("/api/v1/ai-agents")), 401, "missing_token")
    ingest = make_token(owner, ("ingest",))
    response = client.get(url("/api/v1/ai-agents"), HTTP_AUTHORIZATION=f"Bearer {ingest}")
    assert_error(response, 403, "insufficient_scope")
    for user in (owner, agent):
        token = make_token(user, ("read",))
        response = client.get(url("/api/v1/ai-agents/bot2"), HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200
    client.force_login(outsider)
    assert_error(client.get(url("/api/v1/ai-agents")), 403, "no_profile")


def test_a_bad_period_is_a_422(client: Client, owner: User) -> None:
    client.force_login(owner)
    response = client.get("/api/v1/ai-agents?period=custom&from=2026-03-05")
    assert_error(response, 422, "invalid_request", "to")
