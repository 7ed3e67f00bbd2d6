"""The monitoring scenario's store and rules for the web tests (the events themselves are
in tests/alerts_month.py, which needs no Django)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deskpulse.events.store import Store, open_store
from deskpulse.settings import Settings
from deskpulse.web.alerts.models import AlertRule
from tests.alerts_month import day, month_events
from tests.factories import ingest_and_build

__all__ = ["csat_rule", "day", "month_store"]


@pytest.fixture(scope="module")
def month_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(Settings(data_dir=tmp_path_factory.mktemp("monitoring")))
    ingest_and_build(store, month_events())
    yield store
    store.close()


def csat_rule(inbox: str = "inbox-q", **changes: Any) -> AlertRule:
    """CSAT in one inbox against a fixed 4.5, over the last 2 days, 4 answers needed."""
    fields: dict[str, Any] = {
        "name": f"CSAT in {inbox}",
        "metric": "csat_mean",
        "segment_dimension": "inbox",
        "segment_value": inbox,
        "baseline_kind": "fixed",
        "baseline_value": 4.5,
        "current_days": 2,
        "min_sample": 4,
        "pending_for": 1,
    }
    fields.update(changes)
    return AlertRule.objects.create(**fields)
