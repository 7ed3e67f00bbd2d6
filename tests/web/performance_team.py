"""The small scored team behind the /performance page, API and access tests.

Built from events (tests/factories.py), facts refreshed, then scored by
deskpulse.models.scoring with no trained model, so satisfaction and resolution are the
measured outcomes (1.0 or 0.0 per contact). The numbers it gives are worked out by hand
in tests/web/test_performance_pages.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.test import override_settings

from deskpulse.events.store import Store, open_store
from deskpulse.models.scoring import score
from deskpulse.settings import Settings
from deskpulse.web.runtime import using_store
from tests.factories import Events, ingest_and_build

START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
DAY = 24 * 60
AS_OF = "2026-03-31"
AS_OF_MOMENT = datetime(2026, 4, 1, tzinfo=UTC)
OTHER_AGENTS = ("bob", "carol", "dave", "frank")
OTHER_NAMES = ("Bob Baker", "Carol Chen", "Dave Diaz", "Frank Fox", "Bob", "Carol", "Dave")


def contact(
    f: Events,
    agent: str,
    day: float,
    *,
    inquiry: str,
    seconds: float,
    csat: int = 5,
    channel: str = "chat",
) -> None:
    """One contact handled by `agent`, resolved first time, with work logged and CSAT."""
    at = day * DAY + len(f.events) / 100  # distinct minutes, in creation order
    cid = f"{agent}-{inquiry}-{channel}-{len(f.events)}"
    c = f.conversation(cid, customer=f"u-{cid}", channel=channel, inquiry=inquiry, at=at)
    c.customer(at=at).assign(agent, at=at + 0.5).reply(agent, at=at + 1)
    c.work(agent, seconds=seconds, at=at + 2).resolve(at=at + 3, by=agent)
    c.survey("csat", csat, at=at + 4)


def team_events() -> list[dict[str, Any]]:
    f = Events(start=START)
    f.agent("alice", name="Alice Archer", teams=["t1"], at=-DAY)
    f.agent("bob", name="Bob Baker", teams=["t1"], at=-DAY)
    f.agent("carol", name="Carol Chen", teams=["t2"], at=-DAY)
    f.agent("dave", name="Dave Diaz", teams=["t2"], at=-DAY)
    f.agent("frank", name="Frank Fox", teams=["t2"], at=-DAY)
    f.agent("helperbot", name="Helper Bot", kind="ai", at=-DAY)
    for i in range(10):
        contact(f, "alice", i, inquiry="billing", seconds=300)
        contact(f, "bob", i, inquiry="billing", seconds=600, csat=3 if i < 2 else 5)
        contact(f, "carol", i, inquiry="billing", seconds=900)
        contact(f, "dave", i, inquiry="billing", seconds=1200)
        contact(f, "alice", 28 + i, inquiry="login", seconds=1500)
        contact(f, "bob", 28 + i, inquiry="login", seconds=600)
        contact(f, "carol", 28 + i, inquiry="login", seconds=300)
        contact(f, "dave", 28 + i, inquiry="login", seconds=900)
    for day in (52, 53, 54):  # Mar 26, 27, 28
        contact(f, "alice", day, inquiry="shipping", seconds=400)
    for day in (10, 11):
        contact(f, "alice", day, inquiry="billing", seconds=500, channel="email")
    return f.events


def build_scored_team(data_dir: Path) -> Store:
    """The team ingested, its facts built and scored, in a store of its own."""
    settings = Settings(data_dir=data_dir)
    store = open_store(settings)
    ingest_and_build(store, team_events())
    score(store, settings)
    return store


@contextmanager
def serving(store: Store) -> Iterator[Store]:
    """Requests read `store`, and the store's own (model-less) data folder is the
    install's: models trained by other tests elsewhere cannot change these numbers."""
    with override_settings(DESKPULSE_SETTINGS=store.settings), using_store(store):
        yield store
