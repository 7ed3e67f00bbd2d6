"""After a retraction through the web app: its conversation's facts, refreshed at once."""

from __future__ import annotations

import logging

from deskpulse.events.store import Store
from deskpulse.facts.build import refresh_facts

logger = logging.getLogger("deskpulse.web.data_health")


def refresh_after_retraction(store: Store) -> None:
    """Recompute the retracted event's conversation now; a failure leaves it dirty for
    the next refresh rather than failing a retraction that is already stored."""
    try:
        refresh_facts(store)
    except Exception:
        logger.exception("facts refresh after a retraction failed; the tombstone is stored")
