"""Building data folders for the model tests: generated organisations and planted themes."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from deskpulse.events.bulk import import_sources
from deskpulse.events.store import Store, open_store
from deskpulse.facts.build import refresh_facts
from deskpulse.generator import generate
from deskpulse.models.outcomes import TrainedOutcome, train_outcome
from deskpulse.settings import Settings
from tests.factories import Events, ingest_and_build

END = datetime(2026, 3, 1, tzinfo=UTC)

# Three themes a customer writes about, each with its own words. Topic discovery should
# find each of them as one topic.
THEMES: dict[str, tuple[str, ...]] = {
    "refund": (
        "I want a refund for my purchase, please return my money",
        "where is my refund? the money has not come back to my card",
        "please refund the charge, I returned the purchase last week",
        "refund request: money for the returned purchase is missing",
    ),
    "password": (
        "I cannot log in, the password reset email never arrives",
        "my password reset link expired, I cannot log in to my account",
        "reset my password please, login keeps failing",
        "forgot password and the reset link does not work for login",
    ),
    "delivery": (
        "my parcel delivery is late, the courier tracking has not moved",
        "the courier lost my parcel, delivery tracking shows nothing",
        "delivery of the parcel was due yesterday, where is the courier",
        "parcel tracking says out for delivery for days, courier never came",
    ),
}
THEME_WORDS: dict[str, set[str]] = {
    "refund": {"refund", "money", "purchase"},
    "password": {"password", "reset", "login", "log"},
    "delivery": {"parcel", "delivery", "courier", "tracking"},
}


def generated_folder(folder: Path, *, conversations: int, seed: int = 11) -> Settings:
    """A data folder holding a generated organisation's events and facts (DuckDB)."""
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    generate(buffer, seed=seed, conversations=conversations, end=END)
    events = folder / "generated.jsonl"
    events.write_bytes(buffer.getvalue())
    settings = Settings(data_dir=folder)
    store = open_store(settings)
    try:
        imported = import_sources(store, [events])
        assert imported.rejected == 0
        refresh_facts(store)
    finally:
        store.close()
    return settings


def themed_events(*, per_theme: int = 40, labelled: bool = False) -> list[dict[str, object]]:
    """Conversations about the planted THEMES (no inquiry unless `labelled`), each answered
    by one of two agents and resolved."""
    f = Events()
    f.agent("alice", name="Alice", teams=["t1"])
    f.agent("bob", name="Bob", teams=["t1"])
    number = 0
    for theme, phrasings in THEMES.items():
        for i in range(per_theme):
            at = number * 30.0
            text = f"{phrasings[i % len(phrasings)]} (case {i})"
            agent = "alice" if number % 2 else "bob"
            c = f.conversation(
                f"{theme}-{i}",
                customer=f"u{number}",
                at=at,
                inquiry=theme if labelled else None,
            )
            c.customer(at=at, text=text).assign(agent, at=at + 1).reply(agent, at=at + 5)
            c.resolve(at=at + 10)
            number += 1
    return f.events


def themed_conversations(store: Store, *, per_theme: int = 40, labelled: bool = False) -> None:
    """themed_events, ingested and built into facts."""
    ingest_and_build(store, themed_events(per_theme=per_theme, labelled=labelled))


def planted_frame(n: int, seed: int, signal: float) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Features of n conversations; the label follows `inquiry` with strength `signal`."""
    rng = np.random.default_rng(seed)
    inquiry = rng.choice(["refund", "password", "delivery", "billing"], size=n)
    chance = np.where(np.isin(inquiry, ["refund", "billing"]), 0.5 + signal, 0.5 - signal)
    labels = pd.Series((rng.random(n) < chance).astype(np.float64))
    start = datetime(2026, 1, 1)
    created = pd.Series([start + timedelta(hours=i) for i in range(n)])
    features = pd.DataFrame(
        {
            "text": [f"message about {i}" for i in inquiry],
            "inquiry": inquiry.astype(object),
            "priority": np.full(n, "normal", dtype=object),
            "customer_tier": rng.choice(["free", "pro"], size=n).astype(object),
            "language": np.full(n, "en", dtype=object),
            "inbox_id": np.full(n, "web", dtype=object),
            "assignee_id": rng.choice(["a1", "a2", "a3"], size=n).astype(object),
            "log_first_response": rng.normal(4, 1, size=n),
            "no_first_response": np.zeros(n),
            "log_handle": rng.normal(6, 1, size=n),
            "turns": rng.integers(1, 4, size=n).astype(np.float64),
            "inbound_messages": rng.integers(1, 4, size=n).astype(np.float64),
            "replies": rng.integers(1, 4, size=n).astype(np.float64),
            "human_replies": rng.integers(0, 4, size=n).astype(np.float64),
            "ai_involved": np.zeros(n),
            "escalated": np.zeros(n),
        }
    )
    return features, labels, created


def trained_on_a_planted_signal() -> TrainedOutcome:
    """A satisfaction model learned from 1,200 conversations whose label follows the
    inquiry (it passes the gate: 240 held-out labels, calibrated within 0.4 points)."""
    features, labels, created = planted_frame(1_200, seed=1, signal=0.35)
    return train_outcome(features, labels, created, "satisfaction")
