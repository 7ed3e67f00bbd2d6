"""Rejected events as an admin reads them, newest first: `deskpulse rejected` prints this
and GET /api/v1/rejected answers it, so the two cannot differ."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from deskpulse.events.store import Store


def rejected_json(store: Store, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """{"total": every rejected event kept, "rejected": the newest `limit` after `offset`}."""
    rows = store.rejected(limit=limit, offset=offset)
    return {
        "total": store.count("rejected_events"),
        "rejected": [_row(row) for row in rows],
    }


def _row(row: dict[str, Any]) -> dict[str, Any]:
    received = row["received_at"]
    if isinstance(received, datetime):
        # Stored as naive UTC: say so, the way every other timestamp of the API does.
        stamp = received if received.tzinfo is not None else received.replace(tzinfo=UTC)
        received = stamp.isoformat()
    return {
        "received_at": received,
        "source": row["source"],
        "position": None if row["position"] is None else int(row["position"]),
        "event_id": row["event_id"],
        "type": row["type"],
        "field": row["field"],
        "reason": row["reason"],
        "raw": row["raw"],
    }
