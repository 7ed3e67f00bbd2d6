"""Accepting events one batch at a time (the HTTP path and small imports).

Each event is validated on its own with the pydantic contract, so one bad event never
sinks the good ones beside it; refused events are stored with their reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from deskpulse.events.columns import event_to_row, rows_to_table
from deskpulse.events.contract import Rejection, _Event, parse_event
from deskpulse.events.store import RejectedRecord, Store


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    rejected: list[Rejection] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [r.model_dump() for r in self.rejected],
        }


def currency_rejection(event: _Event, index: int, currency: str) -> Rejection | None:
    """One currency per install: sums across currencies would be meaningless."""
    found = getattr(event, "currency", None)
    if event.type == "cost.recorded" and found != currency:
        return Rejection(
            index=index,
            id=event.id,
            field="currency",
            reason=f"{found} is not this install's currency ({currency})",
        )
    return None


def ingest_objects(
    store: Store,
    objects: Sequence[Any],
    source: str,
    *,
    refused: Mapping[int, str] | None = None,
) -> IngestResult:
    """Validate and store decoded JSON values; returns what happened to each.

    `refused` maps positions the caller already knows are bad (a JSON Lines line that
    does not parse, say; its entry in `objects` is the raw text) to the reason, so they
    are rejected and kept like any other bad event.
    """
    rows: list[dict[str, Any]] = []
    row_index: list[int] = []
    rejected: list[Rejection] = []
    for index, raw in enumerate(objects):
        if refused and index in refused:
            rejected.append(Rejection(index=index, id=None, field=None, reason=refused[index]))
            continue
        parsed = parse_event(raw, index, earliest=store.settings.earliest_event)
        if isinstance(parsed, _Event):
            wrong_currency = currency_rejection(parsed, index, store.settings.currency)
            if wrong_currency is None:
                rows.append(event_to_row(parsed))
                row_index.append(index)
                continue
            parsed = wrong_currency
        rejected.append(parsed)
    result = store.append(rows_to_table(rows))
    if rejected:
        store.reject(
            [
                RejectedRecord(
                    source=source,
                    position=r.index,
                    event_id=r.id,
                    type=_type_of(objects[r.index]),
                    field=r.field,
                    reason=r.reason,
                    raw=_text_of(objects[r.index]),
                )
                for r in rejected
            ]
        )
    return IngestResult(accepted=result.accepted, duplicates=result.duplicates, rejected=rejected)


def _type_of(raw: Any) -> str | None:
    kind = raw.get("type") if isinstance(raw, dict) else None
    return kind if isinstance(kind, str) else None


def _text_of(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return orjson.dumps(raw).decode()
    except TypeError:
        return repr(raw)
