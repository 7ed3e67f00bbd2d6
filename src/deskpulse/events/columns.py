"""The stored shape of an event: one wide, typed row per event.

Facts are computed column-wise from this table, so every contract field that a fact
needs gets its own typed column instead of living inside a JSON blob. Both ingest paths
(per-event pydantic and the column-wise bulk validator) produce Arrow tables with
exactly this schema, so storage never sees two shapes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pyarrow as pa

from deskpulse.events import contract as c

AMOUNT_TYPE = pa.decimal128(18, 6)

EVENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        # Naive UTC everywhere: the backends disagree on time-zone-aware arithmetic.
        pa.field("occurred_at", pa.timestamp("us"), nullable=False),
        pa.field("conversation_id", pa.string()),
        pa.field("message_id", pa.string()),
        pa.field("agent_id", pa.string()),
        pa.field("customer_id", pa.string()),
        pa.field("team_id", pa.string()),
        pa.field("channel", pa.string()),
        pa.field("inbox_id", pa.string()),
        pa.field("inquiry", pa.string()),
        pa.field("priority", pa.string()),
        pa.field("customer_tier", pa.string()),
        pa.field("language", pa.string()),
        pa.field("subject", pa.string()),
        pa.field("direction", pa.string()),
        pa.field("author_kind", pa.string()),
        pa.field("ai_assist", pa.string()),
        pa.field("mentions", pa.list_(pa.string())),
        pa.field("status", pa.string()),
        pa.field("from_agent_id", pa.string()),
        pa.field("to_agent_id", pa.string()),
        pa.field("to_team_id", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("seconds", pa.float64()),
        # `kind` of work.logged, cost.recorded and agent.upserted; `type` disambiguates.
        pa.field("kind", pa.string()),
        pa.field("survey", pa.string()),
        pa.field("score", pa.int32()),
        pa.field("comment", pa.string()),
        pa.field("amount", AMOUNT_TYPE),
        pa.field("currency", pa.string()),
        pa.field("tokens", pa.int64()),
        pa.field("experiment", pa.string()),
        pa.field("variant", pa.string()),
        pa.field("name", pa.string()),
        pa.field("email", pa.string()),
        pa.field("team_ids", pa.list_(pa.string())),
        pa.field("active", pa.bool_()),
        pa.field("text", pa.string()),
        # business_hours.set only: {"timezone", "intervals", "holidays"} as JSON text.
        pa.field("schedule", pa.string()),
        # event.retracted only (added in place to older stores, so they come last): the
        # retracted event's id and who retracted it; `reason` says why.
        pa.field("event_id", pa.string()),
        pa.field("retracted_by", pa.string()),
    ]
)

# Columns added after the first release: Store adds them to an events table without them.
ADDED_COLUMNS: tuple[str, ...] = ("event_id", "retracted_by")

COLUMNS: tuple[str, ...] = tuple(EVENT_SCHEMA.names)

RETRACTED = "event.retracted"
# The events every computation reads: the stored events less the retracted ones and the
# tombstones themselves. The one definition of "retracted" (docs/events.md), a view in
# every backend (Store.events()); the events table itself keeps everything.
LIVE_EVENTS = "live_events"
LIVE_EVENTS_SQL = (
    "SELECT * FROM events AS e "
    f"WHERE e.type <> '{RETRACTED}' AND NOT EXISTS ("
    f"SELECT 1 FROM events AS t WHERE t.type = '{RETRACTED}' AND t.event_id = e.id)"
)


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def event_to_row(event: c._Event) -> dict[str, Any]:
    """One validated event as a dict keyed by COLUMNS (missing keys are null)."""
    data = event.model_dump(mode="python", exclude_none=False)
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row["occurred_at"] = _utc_naive(event.occurred_at)
    if isinstance(event, c.BusinessHoursSet):
        row.update(id=event.id, type=event.type, inbox_id=event.inbox_id)
        row["schedule"] = orjson.dumps(
            {
                "timezone": event.timezone,
                "intervals": [i.model_dump() for i in event.intervals],
                "holidays": [d.isoformat() for d in event.holidays],
            }
        ).decode()
        return row
    for key, value in data.items():
        if key == "occurred_at" or key not in row:
            continue
        if isinstance(value, Decimal):
            value = value.quantize(Decimal("0.000001"))
        row[key] = value
    # ai_assist describes a human's public reply; elsewhere it carries no meaning.
    if isinstance(event, c.MessageCreated) and not (
        event.author_kind == "agent" and event.direction == "outbound"
    ):
        row["ai_assist"] = None
    return row


def rows_to_table(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def empty_table() -> pa.Table:
    return EVENT_SCHEMA.empty_table()
