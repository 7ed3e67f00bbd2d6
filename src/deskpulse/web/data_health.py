"""What the data health page and API show: one summary, read from the store."""

from __future__ import annotations

import logging
from typing import Any

from deskpulse.events.retraction import retraction_count, retractions
from deskpulse.events.store import Store
from deskpulse.facts.build import refresh_facts
from deskpulse.facts.quarantine import quarantined, quarantined_count

logger = logging.getLogger("deskpulse.web.data_health")


def health_summary(store: Store, *, limit: int = 50) -> dict[str, Any]:
    """Counts and the latest rows of each list, newest first, as JSON-ready values."""
    rejected = [
        {**row, "received_at": _stamp(row["received_at"])} for row in store.rejected(limit=limit)
    ]
    held = [
        {
            **row,
            "first_seen_at": _stamp(row["first_seen_at"]),
            "last_seen_at": _stamp(row["last_seen_at"]),
        }
        for row in quarantined(store, limit=limit)
    ]
    return {
        "counts": {
            "rejected": store.count("rejected_events"),
            "quarantined": quarantined_count(store),
            "retracted": retraction_count(store),
        },
        "rejected": rejected,
        "quarantined": held,
        "retracted": [r.as_json() for r in retractions(store, limit=limit)],
    }


def refresh_after_retraction(store: Store) -> None:
    """Recompute the retracted event's conversation now; a failure leaves it dirty for
    the next refresh rather than failing a retraction that is already stored."""
    try:
        refresh_facts(store)
    except Exception:
        logger.exception("facts refresh after a retraction failed; the tombstone is stored")


def _stamp(value: Any) -> Any:
    return value.isoformat() + "Z" if hasattr(value, "isoformat") else value
