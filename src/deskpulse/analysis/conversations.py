"""The conversations behind a number.

A tile says "first response median 6 min, n = 212"; a support lead clicks it and
expects to see those 212 conversations, no more and no fewer. So the listing takes
the metric's own source from the registry (its facts table, its time column and its
sample aggregate) and keeps exactly the rows whose sample the metric counted, with the
same filters `query()` applies. Nothing here redefines a metric.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import ValidationError

from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist
from deskpulse.metrics.periods import Period
from deskpulse.metrics.query import (
    NotVisibleError,
    Query,
    QueryError,
    Viewer,
    effectiveness_scored,
    resolve_period,
)
from deskpulse.metrics.registry import (
    AGENT_CONVERSATIONS,
    AGENT_ROW_TABLES,
    CONVERSATIONS,
    EFFECTIVENESS,
    REGISTRY,
    RESOLUTIONS,
    Metric,
    Source,
    UnknownMetricError,
)
from deskpulse.metrics.window import Window

STATUSES = ("open", "pending", "snoozed", "resolved")
MAX_LIMIT = 500

# The filters `query()` also applies, on whichever facts table the metric reads; they
# must be applied the same way or the list would not add up to the tile's n.
_SOURCE_FILTER_COLUMNS = {
    "team": "team_id",
    "channel": "channel",
    "inbox": "inbox_id",
    "inquiry": "inquiry",
    "customer_tier": "customer_tier",
    "language": "language",
}

# What makes one row of each facts table: the metric's sample is taken per row, so a
# conversation with several rows (agents, resolutions) is listed if any row counted.
_ROW_KEYS: dict[str, tuple[str, ...]] = {
    CONVERSATIONS: ("conversation_id",),
    AGENT_CONVERSATIONS: ("conversation_id", "agent_id"),
    EFFECTIVENESS: ("conversation_id", "agent_id"),
    RESOLUTIONS: ("conversation_id", "resolved_at"),
}

# No metric: the conversations a "Conversations" count is made of.
_DEFAULT_METRIC = "conversations"


@dataclass(frozen=True)
class ConversationFilters:
    channel: str | None = None
    inbox: str | None = None
    inquiry: str | None = None
    team: str | None = None  # conversation_facts.team_id
    customer_tier: str | None = None
    language: str | None = None
    status: str | None = None  # open | pending | snoozed | resolved
    agent: str | None = None  # conversations this agent handled
    metric: str | None = None  # a registry metric name
    max_csat: int | None = None  # e.g. 2: CSAT <= 2 (low-score conversations)
    escalated: bool | None = None
    ai_handled: bool | None = None
    search: str | None = None  # exact conversation_id or customer_id


@dataclass(frozen=True)
class ConversationRow:
    conversation_id: str
    created_at: datetime  # aware, UTC
    at: datetime | None  # aware UTC: the time the row is listed by
    channel: str | None
    inbox_id: str | None
    inquiry: str | None
    status: str | None
    customer_id: str | None
    assignee_id: str | None
    team_id: str | None
    first_response_seconds: float | None
    full_resolution_seconds: float | None
    handle_seconds: float | None
    handle_time_estimated: bool | None
    csat_score: int | None
    escalated: bool
    ai_handled: bool
    reopens: int
    replies: int
    # When filters.agent is set: that agent's own reading, else None.
    agent_first_response_seconds: float | None = None


@dataclass(frozen=True)
class ConversationPage:
    rows: list[ConversationRow]
    total: int
    limit: int
    offset: int
    period: Period
    metric: str | None
    time_column: str  # which column "in the period" refers to


def list_conversations(
    store: Store,
    window: Window,
    viewer: Viewer,
    filters: ConversationFilters = ConversationFilters(),
    *,
    limit: int = 50,
    offset: int = 0,
) -> ConversationPage:
    """The conversations behind `filters.metric` (or the conversation count) in `window`,
    newest first by the time the metric buckets them."""
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise QueryError("offset", "must not be negative")
    filters = _scope(filters, viewer)
    if filters.status is not None and filters.status not in STATUSES:
        raise QueryError("status", f"must be one of {', '.join(STATUSES)}")
    if filters.max_csat is not None and not 1 <= filters.max_csat <= 5:
        raise QueryError("max_csat", "CSAT scores run from 1 to 5")
    metric = _metric(filters.metric)
    source = _listing_source(metric, filters.agent)
    period = _period(store, window)

    page = ConversationPage(
        rows=[],
        total=0,
        limit=limit,
        offset=offset,
        period=period,
        metric=filters.metric,
        time_column=source.time_column,
    )
    if not facts_exist(store):
        # A fresh install: nothing behind any number yet.
        return page
    if source.table == EFFECTIVENESS and not effectiveness_scored(store):
        # No scoring run yet: the effectiveness metrics read n = 0, so list nothing.
        return page
    listed = _listing(store, metric, source, period, filters)
    total = int(listed.count().to_pyarrow().as_py())
    ordered = listed.order_by([ibis.desc("listed_at"), ibis.asc("conversation_id")])
    records = ordered.limit(limit, offset=offset).to_pyarrow().to_pylist()
    return replace(page, rows=[_row(record) for record in records], total=total)


def conversations_csv(rows: Sequence[ConversationRow]) -> str:
    """The rows as CSV for a spreadsheet: one header line, one line per conversation."""
    names = [f.name for f in fields(ConversationRow)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(names)
    for row in rows:
        writer.writerow([_csv_cell(getattr(row, name)) for name in names])
    return out.getvalue()


# -- building the listing ------------------------------------------------------------------


def _scope(filters: ConversationFilters, viewer: Viewer) -> ConversationFilters:
    """An agent lists only conversations they handled; asking for anyone else's is
    answered as if that agent did not exist."""
    if not viewer.is_agent:
        return filters
    if filters.agent is None:
        return replace(filters, agent=viewer.agent_id)
    if filters.agent != viewer.agent_id:
        raise NotVisibleError("no such agent")
    return filters


def _metric(name: str | None) -> Metric:
    if name is None:
        return REGISTRY[_DEFAULT_METRIC]
    found = REGISTRY.get(name)
    if found is None:
        raise QueryError("metric", str(UnknownMetricError(name)))
    return found


def _listing_source(metric: Metric, agent: str | None) -> Source:
    # With an agent picked, the agent's own reading is the one the agent drill-down
    # shows (their first response, not the conversation's).
    if agent is not None and metric.agent_source is not None:
        return metric.agent_source
    return metric.source


def _period(store: Store, window: Window) -> Period:
    try:
        q = Query(metrics=[_DEFAULT_METRIC], **window.query_fields())
    except ValidationError as error:
        message = "; ".join(str(e["msg"]) for e in error.errors()) or str(error)
        raise QueryError("period", message) from None
    return resolve_period(q, store)


def _listing(
    store: Store,
    metric: Metric,
    source: Source,
    period: Period,
    filters: ConversationFilters,
) -> ir.Table:
    """One row per listed conversation: its conversation facts plus `listed_at`."""
    con = store.con
    start = ibis.literal(period.start_utc, type="timestamp")
    end = ibis.literal(period.end_utc, type="timestamp")

    t = con.table(source.table)
    for name, column in _SOURCE_FILTER_COLUMNS.items():
        value = getattr(filters, name)
        if value is not None:
            t = t.filter(t[column] == value)
    if filters.agent is not None:
        if source.table in AGENT_ROW_TABLES:
            t = t.filter(t.agent_id == filters.agent)
        else:
            # Same rule as query(): an agent's slice is the conversations they handled.
            agent_rows = con.table(AGENT_CONVERSATIONS)
            mine = agent_rows.filter(
                (agent_rows.agent_id == filters.agent) & agent_rows.handled
            ).conversation_id
            t = t.filter(t.conversation_id.isin(mine))
    when = t[source.time_column]
    t = t.filter((when >= start) & (when < end))

    counted: ir.BooleanValue = ibis.literal(True)
    if metric.needs_bucket_end:
        # `resolved`: only a resolution nothing undid before the period ended.
        counted = t.next_change_at.isnull() | (t.next_change_at >= end)
    # The metric's own sample aggregate, per facts row: a row is listed exactly when
    # the metric counted it, whatever condition (handled, score present, ...) it uses.
    per_row = t.group_by(list(_ROW_KEYS[source.table])).aggregate(
        sample_n=source.sample(t, counted),
        row_at=t[source.time_column].max(),
    )
    per_row = per_row.filter(per_row.sample_n > 0)
    listed = per_row.group_by("conversation_id").aggregate(listed_at=per_row.row_at.max())

    c = con.table(CONVERSATIONS)
    rows = c.join(listed, "conversation_id")
    if filters.status is not None:
        rows = rows.filter(rows.status == filters.status)
    if filters.max_csat is not None:
        rows = rows.filter(rows.csat_score <= filters.max_csat)
    if filters.escalated is not None:
        rows = rows.filter(rows.escalated.fill_null(False) == filters.escalated)
    if filters.ai_handled is not None:
        rows = rows.filter(rows.ai_handled.fill_null(False) == filters.ai_handled)
    if filters.search is not None:
        needle = filters.search.strip()
        rows = rows.filter((rows.conversation_id == needle) | (rows.customer_id == needle))

    agent_reading: ir.Value = ibis.null("float64")
    if filters.agent is not None:
        agent_rows = con.table(AGENT_CONVERSATIONS)
        own = agent_rows.filter(agent_rows.agent_id == filters.agent).select(
            own_conversation_id=agent_rows.conversation_id,
            own_first_response_seconds=agent_rows.agent_first_response_seconds,
        )
        rows = rows.left_join(own, rows.conversation_id == own.own_conversation_id)
        agent_reading = rows.own_first_response_seconds
    return rows.select(
        "conversation_id",
        "created_at",
        "listed_at",
        "channel",
        "inbox_id",
        "inquiry",
        "status",
        "customer_id",
        "assignee_id",
        "team_id",
        "first_response_seconds",
        "full_resolution_seconds",
        "handle_seconds",
        "handle_time_estimated",
        "csat_score",
        "escalated",
        "ai_handled",
        "reopens",
        "replies",
        agent_first_response_seconds=agent_reading.cast("float64"),
    )


# -- turning rows into values ------------------------------------------------------------


def aware_utc(moment: datetime | None) -> datetime | None:
    """Facts store naive UTC; pages and the API get aware UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if number != number else number  # NaN means no sample, never a number


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _row(record: dict[str, Any]) -> ConversationRow:
    created_at = aware_utc(record["created_at"])
    assert created_at is not None  # every conversation_facts row has a creation time
    return ConversationRow(
        conversation_id=str(record["conversation_id"]),
        created_at=created_at,
        at=aware_utc(record["listed_at"]),
        channel=record["channel"],
        inbox_id=record["inbox_id"],
        inquiry=record["inquiry"],
        status=record["status"],
        customer_id=record["customer_id"],
        assignee_id=record["assignee_id"],
        team_id=record["team_id"],
        first_response_seconds=_float(record["first_response_seconds"]),
        full_resolution_seconds=_float(record["full_resolution_seconds"]),
        handle_seconds=_float(record["handle_seconds"]),
        handle_time_estimated=record["handle_time_estimated"],
        csat_score=_int(record["csat_score"]),
        escalated=bool(record["escalated"]),
        ai_handled=bool(record["ai_handled"]),
        reopens=_int(record["reopens"]) or 0,
        replies=_int(record["replies"]) or 0,
        agent_first_response_seconds=_float(record["agent_first_response_seconds"]),
    )


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    text = str(value)
    # Ids come from the helpdesk: a leading "=" would run as a spreadsheet formula.
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


__all__ = [
    "MAX_LIMIT",
    "STATUSES",
    "ConversationFilters",
    "ConversationPage",
    "ConversationRow",
    "conversations_csv",
    "list_conversations",
]
