"""The /ai-agents pages on the bundled generator's organisation (what `deskpulse demo`
loads), at a small scale: every page shows real numbers, not dashes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.bulk import import_sources
from deskpulse.events.store import Store, open_store
from deskpulse.facts.build import refresh_facts
from deskpulse.generator import generate
from deskpulse.settings import Settings
from deskpulse.web.runtime import using_store

pytestmark = pytest.mark.django_db

END = datetime(2026, 3, 1, tzinfo=UTC)
QUERY = "?period=30d&as_of=2026-02-28"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("ai-agents-demo")
    buffer = io.BytesIO()
    generate(buffer, seed=7, conversations=1500, end=END)
    events = folder / "events.jsonl"
    events.write_bytes(buffer.getvalue())
    store = open_store(Settings(data_dir=folder / "data"))
    assert import_sources(store, [events]).rejected == 0
    refresh_facts(store)
    yield store
    store.close()


@pytest.fixture(autouse=True)
def api_store(demo_store: Store) -> Iterator[Store]:
    with using_store(demo_store):
        yield demo_store


def test_demo_pages_show_real_numbers(client: Client, agent: User) -> None:
    client.force_login(agent)
    html = BeautifulSoup(client.get(f"/ai-agents/{QUERY}").content, "html.parser")
    for metric in (
        "conversations",
        "ai_handled_rate",
        "ai_resolved_rate",
        "escalation_rate",
        "first_resolution_mean",
        "csat_mean",
        "csat_recency_weighted",
        "cost_per_conversation",
        "turns_mean",
    ):
        value = html.select_one(f'.tile[data-metric="{metric}"] .value')
        assert value is not None, metric
        assert value.get_text(strip=True)[:1] not in ("\u2013", ""), metric
    agents = html.select("table.ai-agents tr[data-agent]")
    assert len(agents) >= 2
    assert html.select("table.ai-reasons tr[data-reason]")
    first = agents[0]["data-agent"]
    one = client.get(f"/ai-agents/{first}/{QUERY}")
    assert one.status_code == 200
    quality = client.get(f"/ai-agents/quality/{QUERY}")
    assert quality.status_code == 200
    text = BeautifulSoup(quality.content, "html.parser").get_text()
    assert "Executive summary" in text
    assert "AI-handled conversations" in text


def test_demo_api(client: Client, owner: User) -> None:
    client.force_login(owner)
    body = client.get(f"/api/v1/ai-agents{QUERY}").json()
    assert body["overall"]["conversations"]["value"] > 50
    assert body["overall"]["cost_total"]["n"] > 0
    assert body["escalation_reasons"]
    quality = client.get(f"/api/v1/ai-agents/quality{QUERY}").json()
    assert quality["summary"]["ai_handled_conversations"] > 0
    assert quality["summary"]["cost_saved"] > 0
