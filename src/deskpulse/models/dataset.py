"""What the models learn from: one row per conversation, read through Ibis.

Every backend (DuckDB, PostgreSQL, Spark) answers the same two expressions: the
conversation facts, and the conversation's messages up to its first resolution. The
rest (joining the customer's messages into one text, turning columns into features)
happens here in Python on what came back, so it cannot differ between backends.

Why "up to the first resolution": first-contact resolution is decided by what happens
after it (a reopen, a repeat contact), and a reopen adds a customer message, replies and
turns. Counting those would let the resolution model read its own answer off the
activity counts (measured on generated data: held-out AUC 0.84 with whole-conversation
counts against 0.61 with counts up to the first resolution). So the customer's text and
the resolution model's activity counts stop at the first resolution; the satisfaction
model, whose label is the customer's rating of the whole conversation, uses the
conversation's totals from the facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from deskpulse.events.store import Store

# Characters of a conversation's customer text kept: the opening messages say what it is
# about; a long thread adds cost, not meaning.
MAX_TEXT_CHARS = 2_000

FACT_COLUMNS: tuple[str, ...] = (
    "conversation_id",
    "created_at",
    "channel",
    "inbox_id",
    "inquiry",
    "priority",
    "customer_tier",
    "language",
    "assignee_id",
    "first_response_seconds",
    "first_resolved_at",
    "turns",
    "inbound_messages",
    "replies",
    "human_replies",
    "ai_replies",
    "handle_seconds",
    "escalated",
    "escalated_at",
    "ai_involved",
    "csat_score",
    "fcr",
    "last_event_at",
)

# Activity up to the first resolution (the whole conversation when never resolved). Also
# `early_assignee_id` and `early_priority`, their values at that moment: a reopen is often
# reassigned (an AI agent's to a person) and raised in priority.
EARLY_COLUMNS: tuple[str, ...] = (
    "early_inbound",
    "early_replies",
    "early_human_replies",
    "early_ai_replies",
)


@dataclass(frozen=True)
class Conversations:
    """Conversations as a frame (one row each: FACT_COLUMNS, EARLY_COLUMNS,
    `early_assignee_id`, `early_priority` and `text`),
    with the latest event time seen, which is when the data ends."""

    frame: pd.DataFrame
    data_end: datetime | None

    def __len__(self) -> int:
        return len(self.frame)


def load_conversations(store: Store) -> Conversations:
    """Every conversation with its facts, early activity and customer text."""
    con = store.con
    facts = con.table("conversation_facts").select(*FACT_COLUMNS)
    messages = store.events()
    messages = messages.filter(messages.type == "message.created").select(
        "conversation_id", "occurred_at", "direction", "author_kind", "text"
    )
    resolved = facts.select("conversation_id", "first_resolved_at")
    early = messages.join(resolved, "conversation_id")
    early = early.filter(
        early.first_resolved_at.isnull() | (early.occurred_at <= early.first_resolved_at)
    )
    customer = (early.direction == "inbound") & (early.author_kind == "customer")
    public = early.direction == "outbound"
    # ifelse, not a cast: PostgreSQL cannot cast a boolean to BIGINT.
    counts = early.group_by("conversation_id").aggregate(
        early_inbound=customer.ifelse(1, 0).sum(),
        early_replies=public.ifelse(1, 0).sum(),
        early_human_replies=(public & (early.author_kind == "agent")).ifelse(1, 0).sum(),
        early_ai_replies=(public & (early.author_kind == "ai")).ifelse(1, 0).sum(),
    )
    said = early.filter(customer & early.text.notnull()).select(
        "conversation_id", "occurred_at", "text"
    )
    events = store.events()
    changes = events.filter(
        events.type.isin(["conversation.assigned", "conversation.created", "conversation.updated"])
    ).select("conversation_id", "occurred_at", "id", "type", "agent_id", "priority")
    changes = changes.join(resolved, "conversation_id")
    changes = changes.filter(
        changes.first_resolved_at.isnull() | (changes.occurred_at <= changes.first_resolved_at)
    )
    fact_rows = facts.to_pyarrow()
    count_rows = counts.to_pyarrow()
    text_rows = said.to_pyarrow()
    change_rows = changes.select(
        "conversation_id", "occurred_at", "id", "type", "agent_id", "priority"
    ).to_pyarrow()
    frame = fact_rows.to_pandas()
    early_frame = count_rows.to_pandas()
    frame = frame.merge(early_frame, on="conversation_id", how="left")
    for column in EARLY_COLUMNS:
        frame[column] = frame[column].fillna(0).astype("int64")
    order = frame["conversation_id"].tolist()
    changed = change_rows.to_pylist()
    frame["early_assignee_id"] = _latest(
        order, [r for r in changed if r["type"] == "conversation.assigned"], "agent_id"
    )
    frame["early_priority"] = _latest(
        order, [r for r in changed if r["priority"] is not None], "priority"
    )
    frame["text"] = _joined_texts(
        frame["conversation_id"].tolist(),
        text_rows.column("conversation_id").to_pylist(),
        text_rows.column("occurred_at").to_pylist(),
        text_rows.column("text").to_pylist(),
    )
    frame = frame.sort_values(["created_at", "conversation_id"], kind="stable").reset_index(
        drop=True
    )
    last = frame["last_event_at"].max() if len(frame) else None
    data_end = None if last is None or pd.isna(last) else pd.Timestamp(last).to_pydatetime()
    return Conversations(frame=frame, data_end=data_end)


def _latest(order: list[str], rows: list[dict[str, Any]], column: str) -> np.ndarray:
    """Each conversation's latest `column` among `rows` (ties broken by event id), in
    `order`; None for a conversation without such a row."""
    rows.sort(key=lambda row: (str(row["conversation_id"]), row["occurred_at"], str(row["id"])))
    latest = {str(row["conversation_id"]): row[column] for row in rows}
    return np.array([latest.get(conversation_id) for conversation_id in order], dtype=object)


def _joined_texts(
    order: list[str], ids: list[str], moments: list[datetime], texts: list[str]
) -> np.ndarray:
    """Each conversation's customer messages, oldest first, as one text ("" for none)."""
    by_conversation: dict[str, list[tuple[datetime, str]]] = {}
    for conversation_id, moment, text in zip(ids, moments, texts, strict=True):
        by_conversation.setdefault(conversation_id, []).append((moment, text))
    joined = np.empty(len(order), dtype=object)
    for index, conversation_id in enumerate(order):
        said = by_conversation.get(conversation_id)
        if not said:
            joined[index] = ""
            continue
        said.sort(key=lambda pair: pair[0])
        joined[index] = "\n".join(text for _moment, text in said)[:MAX_TEXT_CHARS]
    return joined


def objects(values: pd.Series) -> np.ndarray:
    """A column as a NumPy object array with None for missing values (pandas' Arrow-backed
    strings and nullable columns spell missing as NaN, NA or NaT)."""
    out = np.asarray(values.to_numpy(dtype=object), dtype=object).copy()
    out[pd.isna(out)] = None
    return out


def categories(values: pd.Series, missing: str = "(none)") -> np.ndarray:
    """A string column as plain objects with missing values spelt `missing`: scikit-learn's
    encoders want one type per column."""
    return np.array([missing if v is None else v for v in objects(values)], dtype=object)
