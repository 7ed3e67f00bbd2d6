"""Retracting an accepted event: a tombstone, never a deletion.

An owner who finds an event that should not count (a test survey, a cost booked twice,
an event from the wrong account) retracts it by id. The retraction is itself an event,
`event.retracted`, stored in the events table like any other, so it is audited and
survives a restore; the retracted event stays stored too. Every computation reads the
`live_events` view (Store.events()), which leaves out retracted events and tombstones:
that view is the one place "retracted" is defined, on DuckDB, PostgreSQL and Spark.

The tombstone carries the retracted event's conversation_id, so appending it marks that
conversation dirty in the same transaction and the next facts refresh recomputes it.
Its id is derived from the retracted event's id: a second retraction of the same event,
even one racing the first, is a duplicate and is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from deskpulse import clock
from deskpulse.errors import ConflictError, DeskpulseError, NotFoundError
from deskpulse.events.columns import RETRACTED, event_to_row, rows_to_table
from deskpulse.events.contract import EventRetracted, describe_error
from deskpulse.events.store import Store

MAX_REASON = 1000


class RetractionError(DeskpulseError, ValueError):
    """Why a retraction was refused; `code` says which way (invalid_request, not_found,
    already_retracted, not_retractable)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message, field, code=code)


class RetractionTargetMissingError(RetractionError, NotFoundError):
    """No stored event has the id asked for."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__("not_found", message, field)


class RetractionConflictError(RetractionError, ConflictError):
    """The event is already retracted, or is itself a retraction."""


@dataclass(frozen=True)
class Retraction:
    id: str  # the tombstone's own event id
    event_id: str
    event_type: str | None
    conversation_id: str | None
    reason: str
    retracted_by: str
    retracted_at: datetime  # naive UTC, as the store keeps instants

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "conversation_id": self.conversation_id,
            "reason": self.reason,
            "retracted_by": self.retracted_by,
            "retracted_at": self.retracted_at.isoformat() + "Z",
        }


def tombstone_id(event_id: str) -> str:
    """The retraction's event id: one per retracted event, whatever its length."""
    return "retraction-" + hashlib.sha256(event_id.encode()).hexdigest()[:40]


def _mark(store: Store) -> str:
    return "%s" if store.backend == "postgres" else "?"


def retract_event(store: Store, event_id: str, *, reason: str, retracted_by: str) -> Retraction:
    """Store a tombstone for `event_id`; raises RetractionError (nothing stored) when the
    event is unknown, is a retraction, or was already retracted, or the reason is empty."""
    reason = reason.strip()
    if not reason:
        raise RetractionError("invalid_request", "reason: say why the event is retracted", "reason")
    if len(reason) > MAX_REASON:
        raise RetractionError(
            "invalid_request", f"reason: at most {MAX_REASON:,} characters", "reason"
        )
    mark = _mark(store)
    found = store.execute(f"SELECT type, conversation_id FROM events WHERE id = {mark}", [event_id])
    if not found:
        raise RetractionTargetMissingError(f"no stored event has the id {event_id!r}", "event_id")
    event_type, conversation_id = found[0]
    if event_type == RETRACTED:
        raise RetractionConflictError(
            "not_retractable",
            f"{event_id!r} is itself a retraction; a retraction cannot be retracted",
            "event_id",
        )
    earlier = _retraction_of(store, event_id)
    if earlier is not None:
        raise _already(earlier)
    now = clock.now()
    try:
        tombstone = EventRetracted.model_validate(
            {
                "id": tombstone_id(event_id),
                "type": RETRACTED,
                "occurred_at": now.isoformat(),
                "event_id": event_id,
                "reason": reason,
                "retracted_by": retracted_by,
                "conversation_id": conversation_id,
            }
        )
    except ValidationError as error:
        field, message = describe_error(error)
        raise RetractionError("invalid_request", f"{field}: {message}", field) from None
    appended = store.append(rows_to_table([event_to_row(tombstone)]))
    if appended.accepted == 0:  # another retraction of the same event got there first
        raced = _retraction_of(store, event_id)
        raise (
            _already(raced)
            if raced
            else RetractionConflictError(
                "already_retracted", f"{event_id!r} is already retracted", "event_id"
            )
        )
    return Retraction(
        id=tombstone.id,
        event_id=event_id,
        event_type=str(event_type),
        conversation_id=conversation_id,
        reason=reason,
        retracted_by=retracted_by,
        retracted_at=now.replace(tzinfo=None),
    )


def _already(earlier: Retraction) -> RetractionError:
    return RetractionConflictError(
        "already_retracted",
        f"{earlier.event_id!r} was already retracted by {earlier.retracted_by} on "
        f"{earlier.retracted_at:%Y-%m-%d %H:%M} UTC: {earlier.reason}",
        "event_id",
    )


_SELECT = (
    "SELECT t.id, t.event_id, e.type, t.conversation_id, t.reason, t.retracted_by, "
    "t.occurred_at FROM events AS t LEFT JOIN events AS e ON e.id = t.event_id "
    f"WHERE t.type = '{RETRACTED}'"
)


def _retraction_of(store: Store, event_id: str) -> Retraction | None:
    rows = store.execute(f"{_SELECT} AND t.event_id = {_mark(store)}", [event_id])
    return _retraction(rows[0]) if rows else None


def _retraction(row: tuple[Any, ...]) -> Retraction:
    return Retraction(
        id=str(row[0]),
        event_id=str(row[1]),
        event_type=None if row[2] is None else str(row[2]),
        conversation_id=row[3],
        reason=str(row[4]),
        retracted_by=str(row[5]),
        retracted_at=row[6],
    )


def retractions(store: Store, limit: int = 100) -> list[Retraction]:
    """Retractions, newest first: what was retracted, by whom, when and why."""
    rows = store.execute(f"{_SELECT} ORDER BY t.occurred_at DESC, t.id LIMIT {int(limit)}")
    return [_retraction(row) for row in rows]


def retraction_count(store: Store) -> int:
    rows = store.execute(f"SELECT count(*) FROM events WHERE type = '{RETRACTED}'")
    return int(rows[0][0])
