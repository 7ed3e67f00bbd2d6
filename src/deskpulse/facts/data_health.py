"""Data health as an admin reads it: what was refused, held back or taken back.

One summary, newest first in each list: the rejected events (with the field and the
reason), the quarantined conversations (left out of the facts because their facts cannot
be computed, facts/quarantine.py) and the retracted events (events/retraction.py). The
page at Settings → Data health, GET /api/v1/data-health and `deskpulse rejected` all
show this, so they cannot differ.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from deskpulse.events.rejections import rejected_json
from deskpulse.events.retraction import retraction_count, retractions
from deskpulse.events.store import Store
from deskpulse.facts.quarantine import quarantined, quarantined_count


def health_summary(store: Store, *, limit: int = 50) -> dict[str, Any]:
    """Counts and the latest `limit` rows of each list, as JSON-ready values."""
    rejected = rejected_json(store, limit=limit)
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
            "rejected": rejected["total"],
            "quarantined": quarantined_count(store),
            "retracted": retraction_count(store),
        },
        "rejected": rejected["rejected"],
        "quarantined": held,
        "retracted": [r.as_json() for r in retractions(store, limit=limit)],
    }


def _stamp(value: Any) -> Any:
    # Kept as naive UTC: say so, the way every other timestamp of the API does.
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).isoformat()
    return value
