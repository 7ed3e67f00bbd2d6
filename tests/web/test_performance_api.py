"""GET /api/v1/performance/…: the pages' numbers as JSON, each with its n, bands as key
and label, sorted and windowed by the same parameters as the pages.

The team and its hand-worked numbers: tests/web/performance_team.py and the docstring of
tests/web/test_performance_pages.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.analysis.effectiveness import (
    BAND_LABELS,
    agent_performance,
    inquiry_detail,
    performance_window,
)
from deskpulse.events.store import Store
from deskpulse.metrics.query import Viewer
from tests.web.conftest import MakeToken
from tests.web.performance_team import (
    AS_OF,
    AS_OF_MOMENT,
    OTHER_AGENTS,
    OTHER_NAMES,
    build_scored_team,
    serving,
)
from tests.web.web_helpers import assert_error

pytestmark = pytest.mark.django_db

ALICE = "/api/v1/performance/agents/alice"


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = build_scored_team(tmp_path_factory.mktemp("performance-api"))
    yield store
    store.close()


@pytest.fixture(autouse=True)
def api_store(scored: Store) -> Iterator[Store]:
    with serving(scored):
        yield scored


def get_json(client: Client, user: User, url: str, **params: str) -> dict[str, Any]:
    client.force_login(user)
    response = client.get(url, {"as_of": AS_OF, **params})
    assert response.status_code == 200, response.content[:800]
    body: dict[str, Any] = orjson.loads(response.content)
    return body


def test_agent_performance_equals_the_core(client: Client, agent: User, api_store: Store) -> None:
    body = get_json(client, agent, ALICE)
    core = agent_performance(
        api_store,
        Viewer("alice"),
        "alice",
        channel=None,
        window=performance_window("3m", as_of=AS_OF_MOMENT),
    )
    assert body["agent_id"] == "alice"
    assert body["channel"] == "chat"
    assert body["channels"] == ["chat", "email"]
    assert body["window"] == {
        "name": "3m",
        "from": "2026-01-01T00:00:00+00:00",
        "to": "2026-04-01T00:00:00+00:00",
    }
    assert [row["inquiry"] for row in body["inquiries"]] == [r.inquiry for r in core.inquiries]
    for shown, row in zip(body["inquiries"], core.inquiries, strict=True):
        assert shown["volume"] == row.volume
        assert shown["impact"] == row.impact
        for metric, found in row.metrics.items():
            assert shown["metrics"][metric]["agent"] == {
                "value": found.agent.value,
                "n": found.agent.n,
            }
            assert shown["metrics"][metric]["band"] == found.band
            assert shown["metrics"][metric]["band_label"] == BAND_LABELS[found.band]
            assert shown["metrics"][metric]["top_performer"] == found.top_performer
            standing = shown["metrics"][metric]["standing"]
            assert standing["shrunk"] == found.standing.shrunk
            assert (standing["low"], standing["high"]) == (found.standing.low, found.standing.high)
            assert standing["probabilities"] == dict(found.standing.probabilities)
    # By hand (see test_performance_pages.py): alice's billing score 300 s, Great; the
    # team t1 pools alice and bob: 450 s / .9 = 500 s on 20 contacts; impact -212.81.
    billing = body["inquiries"][0]
    assert billing["inquiry"] == "billing"
    score = billing["metrics"]["effectiveness_score"]
    assert score["agent"] == {"value": 300.0, "n": 10}
    assert score["band"] == "great"
    assert score["band_label"] == "Great"
    assert score["team"]["n"] == 20
    assert score["team"]["value"] == pytest.approx(500.0)
    assert billing["impact"] == pytest.approx(10 / 23 * (300 - 750 / 0.95))
    assert [row["inquiry"] for row in body["top_performing"]] == ["billing"]
    assert [row["inquiry"] for row in body["to_work_on"]] == ["login"]
    assert body["overall"]["effectiveness_score"]["n"] == 23
    assert {band["key"]: band["label"] for band in body["bands"]} == {
        "great": "Great",
        "good": "Good",
        "needs_work": "Needs work",
        "not_enough_data": "Not enough data",
    }
    assert body["model_status"]["status"] == "none"


@pytest.mark.parametrize(
    ("sort", "direction", "expected"),
    [
        ("effectiveness_score", "desc", ["login", "shipping", "billing"]),
        ("effectiveness_score", "asc", ["billing", "shipping", "login"]),
        ("predicted_satisfaction", "desc", ["billing", "login", "shipping"]),
        ("volume", "asc", ["shipping", "billing", "login"]),
    ],
)
def test_sorting(
    client: Client, agent: User, sort: str, direction: str, expected: list[str]
) -> None:
    body = get_json(client, agent, ALICE, sort=sort, dir=direction)
    assert [row["inquiry"] for row in body["inquiries"]] == expected
    assert body["sort"] == {"key": sort, "dir": direction}


def test_windows_and_models(client: Client, agent: User) -> None:
    week = get_json(client, agent, ALICE, window="1w")
    assert [row["inquiry"] for row in week["inquiries"]] == ["shipping"]
    assert week["window"]["from"] == "2026-03-25T00:00:00+00:00"
    custom = get_json(
        client, agent, ALICE, window="custom", **{"from": "2026-02-01"}, to="2026-02-28"
    )
    assert [row["inquiry"] for row in custom["inquiries"]] == ["billing"]
    email = get_json(client, agent, ALICE, model="email")
    assert email["channel"] == "email"
    assert [(row["inquiry"], row["volume"]) for row in email["inquiries"]] == [("billing", 2)]
    assert email["inquiries"][0]["metrics"]["aes_handle_time"]["agent"] == {
        "value": 500.0,
        "n": 2,
    }


def test_inquiry_detail_equals_the_core(client: Client, agent: User, api_store: Store) -> None:
    body = get_json(client, agent, f"{ALICE}/inquiries/login")
    core = inquiry_detail(
        api_store,
        Viewer("alice"),
        "alice",
        channel="chat",
        inquiry="login",
        window=performance_window("3m", as_of=AS_OF_MOMENT),
    )
    assert body["channel"] == "chat"
    assert body["performance"]["inquiry"] == "login"
    assert body["performance"]["volume"] == 10
    score = body["performance"]["metrics"]["effectiveness_score"]
    assert score["agent"] == {"value": 1500.0, "n": 10}
    assert (score["band"], score["band_label"]) == ("needs_work", "Needs work")
    assert score["top_performer"] == 300.0
    assert body["recommendation"]["metric"] == "aes_handle_time"
    assert body["recommendation"]["label"] == "Average handle time"
    assert body["recommendation"]["gaps"]["aes_handle_time"] == pytest.approx(
        core.recommendation.gaps["aes_handle_time"]
    )
    assert body["recommendation"]["explanation"] == core.recommendation.explanation
    assert [e["conversation_id"] for e in body["examples"]] == [
        e.conversation_id for e in core.examples
    ]
    first = body["examples"][0]
    assert first["handle_seconds"] == 1500.0
    assert first["csat_score"] == 5
    assert first["fcr"] is True
    assert first["href"] == f"/analytics/conversations/{first['conversation_id']}/"


def test_bad_parameters_name_the_field(client: Client, agent: User) -> None:
    client.force_login(agent)
    assert_error(client.get(ALICE, {"window": "2y"}), 422, "invalid_request", "window")
    assert_error(client.get(ALICE, {"sort": "speed"}), 422, "invalid_request", "sort")
    assert_error(client.get(ALICE, {"model": "fax"}), 422, "invalid_request", "model")
    assert_error(client.get(ALICE, {"window": "custom"}), 422, "invalid_request", "from")
    assert_error(
        client.get(ALICE, {"window": "custom", "from": "2026-03-02", "to": "2026-03-01"}),
        422,
        "invalid_request",
        "to",
    )
    assert_error(client.get(ALICE, {"as_of": "yesterday"}), 422, "invalid_request", "as_of")


def test_no_other_agent_in_an_agents_json(client: Client, agent: User) -> None:
    client.force_login(agent)
    for url, params in (
        (ALICE, {}),
        (ALICE, {"model": "email"}),
        (ALICE, {"sort": "effectiveness_score", "dir": "asc"}),
        (f"{ALICE}/inquiries/login", {}),
        (f"{ALICE}/inquiries/billing", {}),
    ):
        response = client.get(url, {"as_of": AS_OF, **params})
        assert response.status_code == 200
        raw = response.content.decode()
        for word in (*OTHER_AGENTS, *OTHER_NAMES, "helperbot", "Helper Bot"):
            assert re.search(rf"\b{re.escape(word)}\b", raw) is None, (url, word)


def test_read_token_sees_what_its_user_sees(
    client: Client, agent: User, owner: User, make_token: MakeToken
) -> None:
    alice_token = make_token(agent, ("read",))
    headers = {"Authorization": f"Bearer {alice_token}"}
    own = client.get(ALICE, {"as_of": AS_OF}, headers=headers)
    assert own.status_code == 200
    assert orjson.loads(own.content)["agent_id"] == "alice"
    other = client.get("/api/v1/performance/agents/bob", {"as_of": AS_OF}, headers=headers)
    assert_error(other, 404, "not_found")
    owner_token = make_token(owner, ("read",))
    bob = client.get(
        "/api/v1/performance/agents/bob",
        {"as_of": AS_OF},
        headers={"Authorization": f"Bearer {owner_token}"},
    )
    assert bob.status_code == 200
    # Bob's billing: 600 s / .8 = 750 s; Good.
    billing = orjson.loads(bob.content)["inquiries"][0]
    assert billing["metrics"]["effectiveness_score"]["agent"]["value"] == pytest.approx(750.0)
    assert billing["metrics"]["effectiveness_score"]["band"] == "good"
