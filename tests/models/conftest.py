"""Fixtures for the model tests: one generated organisation, trained once per session.

8,000 generated conversations over 120 days (seed 11): large enough for the chat
channel's two models to be measured on a few hundred held-out conversations, small
enough to generate, import and train in well under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from deskpulse.events.store import Store, open_store
from deskpulse.models.training import TrainingReport, train
from deskpulse.settings import Settings
from tests.models.helpers import generated_folder

GENERATED_CONVERSATIONS = 8_000
TRAINED_AT = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A data folder with the generated organisation's events and facts, never trained."""
    return generated_folder(
        tmp_path_factory.mktemp("generated") / "data", conversations=GENERATED_CONVERSATIONS
    )


@pytest.fixture(scope="session")
def trained(generated: Settings) -> Iterator[tuple[Settings, Store, TrainingReport]]:
    """The generated organisation after one `train`: its settings, open store and report."""
    store = open_store(generated)
    report = train(store, generated, now=TRAINED_AT)
    yield generated, store, report
    store.close()
