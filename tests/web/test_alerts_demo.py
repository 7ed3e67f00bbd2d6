"""The demo's alert rules on the bundled generator's data, at a small scale: `deskpulse
demo` defines them and replays a month of daily checks, and the history points at what
the generator plants (deskpulse/generator/conversations.py): `inbox-app-chat`, whose
human replies slow down over the whole window, and the second AI agent, which escalates
more in the last two weeks."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.bulk import import_sources
from deskpulse.events.store import Store, open_store
from deskpulse.facts.build import refresh_facts
from deskpulse.generator import generate
from deskpulse.settings import Settings
from deskpulse.web.alerts.demo import PLANTED_INBOX, define_demo_alerts
from deskpulse.web.alerts.models import AlertEvent, AlertRule, Delivery
from deskpulse.web.runtime import using_store

pytestmark = pytest.mark.django_db

END = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder: Path = tmp_path_factory.mktemp("alerts-demo")
    buffer = io.BytesIO()
    generate(buffer, seed=7, conversations=8000, days=120, end=END)
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


def test_demo_rules_fire_on_the_planted_inbox(demo_store: Store) -> None:
    found = define_demo_alerts(demo_store)
    assert found.checks == 31
    names = {rule.name for rule in found.created}
    assert {"CSAT, all conversations", "Cost per conversation"} <= names
    queue = AlertRule.objects.get(segment_dimension="inbox")
    assert queue.segment_value == PLANTED_INBOX
    assert queue.metric == "first_response_median"
    assert queue.baseline_kind == "fixed"
    assert queue.name in found.firing
    kinds = [e.kind for e in AlertEvent.objects.filter(rule=queue).order_by("at", "pk")]
    assert kinds[:2] == ["pending", "firing"]
    firing = AlertEvent.objects.filter(rule=queue, kind="firing").first()
    assert firing is not None
    assert firing.current is not None
    assert firing.baseline is not None
    assert firing.current > firing.baseline  # slower replies: the bad way
    assert firing.n >= 30
    # Nothing is configured in a demo: the history says so, nothing was sent.
    assert firing.webhook == Delivery.NOT_CONFIGURED
    assert firing.email == Delivery.NOT_CONFIGURED
    ai = AlertRule.objects.get(segment_dimension="ai_agent")
    assert ai.metric == "escalation_rate"
    assert AlertEvent.objects.filter(rule=ai, kind="firing").exists()
    # The history is spread over the replayed month, one check a day.
    times = sorted(AlertEvent.objects.values_list("at", flat=True))
    assert times[-1] <= END
    assert (times[-1] - times[0]).days >= 7


def test_demo_is_idempotent(demo_store: Store) -> None:
    first = define_demo_alerts(demo_store)
    rules, events = AlertRule.objects.count(), AlertEvent.objects.count()
    assert first.created
    again = define_demo_alerts(demo_store)
    assert again.created == []
    assert again.checks == 0
    assert AlertRule.objects.count() == rules
    assert AlertEvent.objects.count() == events


def test_demo_alerts_page_shows_the_firing_queue(
    client: Client, owner: User, demo_store: Store
) -> None:
    define_demo_alerts(demo_store)
    client.force_login(owner)
    html = client.get("/alerts/").content.decode()
    assert "First response, app chat" in html
    assert f"inbox = {PLANTED_INBOX}" in html
    history = client.get("/alerts/history/").content.decode()
    assert 'data-kind="firing"' in history
