"""The one entry point for numbers: `query(store, Query, viewer)`.

The dashboard, the JSON API and the CLI all call this. It validates the query, applies
the viewer's scope (an agent viewer only ever gets their own agent rows), and runs one
scan per facts table with every requested metric as a filtered aggregate, so a page of
tiles with period-over-period deltas costs a handful of queries, not one per number.
"""

from __future__ import annotations

import math
import threading
import time
import unicodedata
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from deskpulse import clock
from deskpulse.errors import DeskpulseError, NotFoundError
from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist
from deskpulse.metrics.periods import (
    PERIOD_DAYS,
    Period,
    custom_period,
    naive_utc,
    named_period,
    offset_changes,
    to_local,
)
from deskpulse.metrics.registry import (
    AGENT_CONVERSATIONS,
    AGENT_ROW_TABLES,
    CONVERSATIONS,
    EFFECTIVENESS,
    REGISTRY,
    Metric,
    Source,
    UnknownMetricError,
)

PeriodName = Literal["7d", "14d", "30d", "90d", "custom"]
GroupBy = Literal[
    "agent",
    "team",
    "channel",
    "inbox",
    "inquiry",
    "csat_score",
    "nps_score",
    "day",
    "week",
    # AI agent analytics (seed 003): per AI agent, why they escalate, for whom, when.
    "ai_agent",
    "escalation_reason",
    "customer_tier",
    "language",
    "hour",  # hour of day (00-23) of the metric's time column, in the reporting time zone
]
TIME_GROUPS = ("day", "week")
_GROUP_COLUMNS = {
    "agent": "agent_id",
    "team": "team_id",
    "channel": "channel",
    # Every facts table carries inbox_id: the queue is where friction shows first.
    "inbox": "inbox_id",
    "inquiry": "inquiry",
    # The CSAT and NPS cards show how the answers spread, not only their mean.
    "csat_score": "csat_score",
    "nps_score": "nps_score",
    # Columns of conversation_facts only: a metric over another table cannot use them.
    "ai_agent": "ai_agent_id",
    "escalation_reason": "escalation_reason",
    "customer_tier": "customer_tier",
    "language": "language",
}
_FILTER_COLUMNS = {
    "team": "team_id",
    "channel": "channel",
    "inbox": "inbox_id",
    "inquiry": "inquiry",
    "customer_tier": "customer_tier",
    "language": "language",
}
DEFAULT_TIMEOUT_SECONDS = 30.0
# Half-life of recency-weighted metrics (csat_recency_weighted), in days.
DEFAULT_HALF_LIFE_DAYS = 7.0
# Filters that change the shape of a scan's SQL instead of being bound as string values.
_SHAPE_FILTERS = ("agents", "ai_involved")


class QueryError(DeskpulseError, ValueError):
    """A query that cannot be answered as asked; `field` names the culprit."""

    field: str  # always named

    code = "invalid_query"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


class NotVisibleError(NotFoundError):
    """The viewer may not see what was asked for. Views answer 404, not 403, so the
    existence of another agent's data is not revealed."""


class QueryTimeoutError(DeskpulseError, TimeoutError):
    """The query ran past its time limit."""

    code = "query_timeout"


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    team: str | None = None
    agent: str | None = None
    channel: str | None = None
    inbox: str | None = None
    inquiry: str | None = None
    customer_tier: str | None = None
    language: str | None = None
    # "human" or "ai": agent rows of agents of that kind (agents never announced by
    # agent.upserted count as human); conversation rows with a public reply by one.
    # Lets a person be compared with the people on the team, not with the bots too.
    agent_kind: Literal["human", "ai"] | None = None
    # Rows of any of these agents (a team's members, as the agent directory lists them):
    # the agents' pooled reading, not one per agent. An empty list matches nothing.
    agents: tuple[str, ...] | None = None
    # The conversations of one AI agent (the first AI agent that replied publicly), and
    # conversations an AI agent did (True) or did not (False) reply to publicly.
    ai_agent: str | None = None
    ai_involved: bool | None = None

    @field_validator(
        "team", "agent", "channel", "inbox", "inquiry", "customer_tier", "language", "ai_agent"
    )
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        # A NUL would cut the SQL text the value is bound into; no id holds a control
        # character, so refusing them all loses nothing.
        if value is not None and any(unicodedata.category(c) == "Cc" for c in value):
            raise ValueError("control characters (such as NUL) are not allowed")
        return value

    @field_validator("agents")
    @classmethod
    def _printable_agents(cls, values: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for value in values or ():
            cls._printable(value)
        return values


class Query(BaseModel):
    """What to compute, over which period, for whom, split how."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    metrics: list[str] = Field(min_length=1)
    period: PeriodName = "30d"
    start: AwareDatetime | None = Field(default=None, alias="from")
    end: AwareDatetime | None = Field(default=None, alias="to")
    as_of: AwareDatetime | None = None
    filters: Filters = Field(default_factory=Filters)
    group_by: list[GroupBy] = Field(default_factory=list)
    compare: bool = False
    # Recency-weighted metrics weigh a row 0.5 ** (its age at the period end / this).
    half_life_days: float = Field(default=DEFAULT_HALF_LIFE_DAYS, gt=0, le=3650)

    @field_validator("metrics")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        for name in names:
            if name not in REGISTRY:
                raise ValueError(str(UnknownMetricError(name)))
        return list(dict.fromkeys(names))

    @model_validator(mode="after")
    def _coherent(self) -> Query:
        if self.period == "custom":
            if self.start is None or self.end is None:
                raise ValueError("a custom period needs both from and to")
            if self.start >= self.end:
                raise ValueError("from must be before to")
        elif self.start is not None or self.end is not None:
            raise ValueError("from/to are only for period 'custom'")
        if sum(g in TIME_GROUPS for g in self.group_by) > 1:
            raise ValueError("group by day or by week, not both")
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("group_by lists a dimension twice")
        return self


@dataclass(frozen=True)
class Viewer:
    """Who is asking. An agent viewer is confined to their own agent id."""

    agent_id: str | None = None

    @property
    def is_agent(self) -> bool:
        return self.agent_id is not None


TEAM_VIEWER = Viewer()


@dataclass(frozen=True)
class MetricValue:
    value: float | int | None
    n: int
    # For outcomes that mature (registry Source.settles): rows of the period whose
    # outcome is not final yet, left out of value and n. None for metrics that do not
    # mature.
    pending: int | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "n": self.n}
        if self.pending is not None:
            out["pending"] = self.pending
        return out


@dataclass
class ResultRow:
    group: dict[str, str | None]
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    previous: dict[str, MetricValue] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "group": self.group,
            "metrics": {k: v.as_json() for k, v in self.metrics.items()},
        }
        if self.previous is not None:
            out["previous"] = {k: v.as_json() for k, v in self.previous.items()}
        return out


@dataclass
class QueryResult:
    query: Query
    period: Period
    previous_period: Period | None
    rows: list[ResultRow]

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.as_json(),
            "previous_period": None
            if self.previous_period is None
            else self.previous_period.as_json(),
            "group_by": list(self.query.group_by),
            "rows": [row.as_json() for row in self.rows],
        }

    def single(self) -> ResultRow:
        """The only row of an ungrouped query."""
        return self.rows[0]


def resolve_period(q: Query, store: Store) -> Period:
    tz = store.settings.tz
    if q.period == "custom":
        # The model already refused a custom period without both ends.
        assert q.start is not None
        assert q.end is not None
        return custom_period(q.start, q.end, tz)
    as_of = q.as_of or clock.now()
    return named_period(q.period, as_of, tz)


def _scope(q: Query, viewer: Viewer, store: Store) -> Query:
    """Confine an agent viewer to their own rows; refuse anyone else's."""
    if not viewer.is_agent:
        return q
    # Team-level numbers name nobody, but an agent sees their own team's only: another
    # team answers as if it did not exist.
    if q.filters.team is not None and q.filters.team not in _teams_of(store, viewer):
        raise NotVisibleError("no such team")
    wanted = q.filters.agent
    if wanted is not None and wanted != viewer.agent_id:
        raise NotVisibleError("no such agent")
    # A list naming anyone else would read another agent's rows (a "team" of one).
    listed = q.filters.agents
    if listed is not None and any(agent != viewer.agent_id for agent in listed):
        raise NotVisibleError("no such agent")
    if "agent" in q.group_by and wanted is None:
        filters = q.filters.model_copy(update={"agent": viewer.agent_id})
        return q.model_copy(update={"filters": filters})
    return q


# A dashboard asks query() a dozen times; an agent's teams are read once for them all.
_TEAMS_FOR_SECONDS = 10.0
_TEAMS: weakref.WeakKeyDictionary[Store, dict[str, tuple[float, frozenset[str]]]] = (
    weakref.WeakKeyDictionary()
)


def _teams_of(store: Store, viewer: Viewer) -> frozenset[str]:
    """The teams the viewer's agent belongs to, from their latest agent.upserted."""
    agent_id = viewer.agent_id
    assert agent_id is not None
    known = _TEAMS.setdefault(store, {})
    found = known.get(agent_id)
    if found is not None and time.monotonic() - found[0] < _TEAMS_FOR_SECONDS:
        return found[1]
    teams: frozenset[str] = frozenset()
    if facts_exist(store):
        agents = store.con.table("agents")
        mine = agents.filter(agents.agent_id == ibis.literal(agent_id, type="string"))
        expression = mine.select(team=mine.team_ids.unnest())
        rows = execute_sql(store, str(store.con.compile(expression)), DEFAULT_TIMEOUT_SECONDS)
        teams = frozenset(str(row["team"]) for row in rows if row["team"] is not None)
    known[agent_id] = (time.monotonic(), teams)
    return teams


def _source_of(metric: Metric, by_agent: bool) -> Source:
    if not by_agent:
        return metric.source
    if metric.agent_source is None:
        raise QueryError("group_by", f"{metric.name} has no per-agent reading")
    return metric.agent_source


# Compiling a scan costs more than running it, so its SQL is compiled once per shape
# with sentinel literals in place of the period bounds and filter values, and each run
# substitutes the real values' literals (rendered by the same compiler). Literals, not
# a joined parameters table: DuckDB prunes row groups on literal bounds.
_SENTINEL_TIMES = {
    "period_start": datetime(1901, 2, 3, 4, 5, 6, 111),
    "period_end": datetime(1901, 2, 3, 4, 5, 6, 222),
    "previous_start": datetime(1901, 2, 3, 4, 5, 6, 333),
    "previous_end": datetime(1901, 2, 3, 4, 5, 6, 444),
    # The moment of reading: outcomes not final by then are pending.
    "settled_by": datetime(1901, 2, 3, 4, 5, 6, 555),
}


def _sentinel_text(name: str) -> str:
    return f"deskpulse-sentinel-filter-{name}"


@dataclass
class _Bounds:
    """The sentinel literals a scan compares with; replaced before it runs."""

    period_start: ir.TimestampScalar
    period_end: ir.TimestampScalar
    previous_start: ir.TimestampScalar
    previous_end: ir.TimestampScalar
    settled_by: ir.TimestampScalar

    @classmethod
    def sentinels(cls) -> _Bounds:
        return cls(**{k: ibis.literal(v, type="timestamp") for k, v in _SENTINEL_TIMES.items()})


_LITERALS: dict[tuple[str, Any], str] = {}


def _literal_sql(store: Store, value: Any) -> str:
    """How the backend's compiler writes `value` as a literal."""
    key = (store.backend, value)
    found = _LITERALS.get(key)
    if found is None:
        kind = "timestamp" if isinstance(value, datetime) else "string"
        compiled = str(store.con.compile(ibis.literal(value, type=kind).name("v")))
        found = compiled.strip().removeprefix("SELECT").strip()
        found = found.removesuffix('AS "v"').removesuffix("AS `v`").strip()  # `v`: Spark
        if len(_LITERALS) > 4096:
            _LITERALS.clear()
        _LITERALS[key] = found
    return found


def _bind(store: Store, sql: str, period: Period, previous: Period | None, filters: Filters) -> str:
    values: dict[str, Any] = {
        "period_start": period.start_utc,
        "period_end": period.end_utc,
        "previous_start": None if previous is None else previous.start_utc,
        "previous_end": None if previous is None else previous.end_utc,
        # Now, not the period's end: an outcome that has had its time by now is known,
        # whichever period it belongs to (facts hold every event received).
        "settled_by": naive_utc(clock.now()),
    }
    for name, sentinel in _SENTINEL_TIMES.items():
        if values[name] is not None:
            sql = sql.replace(_literal_sql(store, sentinel), _literal_sql(store, values[name]))
    for name in Filters.model_fields:
        value = getattr(filters, name)
        if value is not None and name not in _SHAPE_FILTERS:
            sql = sql.replace(_literal_sql(store, _sentinel_text(name)), _literal_sql(store, value))
    for index, agent in enumerate(filters.agents or ()):
        placeholder = _literal_sql(store, _sentinel_text(f"agents-{index}"))
        sql = sql.replace(placeholder, _literal_sql(store, agent))
    return sql


def _filtered(store: Store, table: str, filters: Filters) -> ir.Table:
    """`table` filtered by the (sentinel) filter values of the query's shape."""
    con = store.con
    t = con.table(table)
    for name, column in _FILTER_COLUMNS.items():
        if getattr(filters, name) is not None:
            t = t.filter(t[column] == _sentinel_text(name))
    if filters.agent_kind is not None:
        kind = ibis.literal(_sentinel_text("agent_kind"))
        if table in AGENT_ROW_TABLES:
            agents = con.table("agents")
            ai_ids = agents.filter(agents.kind == "ai").agent_id
            is_ai = t.agent_id.isin(ai_ids)
            t = t.filter(((kind == "ai") & is_ai) | ((kind == "human") & ~is_ai))
        elif table == CONVERSATIONS:
            t = t.filter(
                ((kind == "ai") & (t.ai_replies > 0)) | ((kind == "human") & (t.human_replies > 0))
            )
        else:
            raise QueryError("filters.agent_kind", f"{table} cannot be split by agent kind")
    if filters.agent is not None:
        if table in AGENT_ROW_TABLES:
            t = t.filter(t.agent_id == _sentinel_text("agent"))
        else:
            # An agent's slice of conversation-level metrics: the conversations they handled.
            handled = con.table(AGENT_CONVERSATIONS)
            mine = handled.filter((handled.agent_id == _sentinel_text("agent")) & handled.handled)
            t = t.filter(t.conversation_id.isin(mine.conversation_id))
    if filters.ai_agent is not None:
        if table == CONVERSATIONS:
            t = t.filter(t.ai_agent_id == _sentinel_text("ai_agent"))
        else:
            conversations = con.table(CONVERSATIONS)
            theirs = conversations.filter(conversations.ai_agent_id == _sentinel_text("ai_agent"))
            t = t.filter(t.conversation_id.isin(theirs.conversation_id))
    if filters.ai_involved is not None:
        if table == CONVERSATIONS:
            involved = t.ai_involved
        else:
            conversations = con.table(CONVERSATIONS)
            with_ai = conversations.filter(conversations.ai_involved).conversation_id
            involved = t.conversation_id.isin(with_ai)
        t = t.filter(involved if filters.ai_involved else ~involved)
    if filters.agents is not None:
        listed = [_sentinel_text(f"agents-{index}") for index in range(len(filters.agents))]
        if not listed:
            t = t.filter(ibis.literal(False))
        elif table in AGENT_ROW_TABLES:
            t = t.filter(t.agent_id.isin(listed))
        else:
            handled = con.table(AGENT_CONVERSATIONS)
            theirs = handled.filter(handled.agent_id.isin(listed) & handled.handled)
            t = t.filter(t.conversation_id.isin(theirs.conversation_id))
    return t


# A page asks a dozen queries of effectiveness_facts and listing tables costs up to a
# tenth of a second on Spark, so a yes is remembered for a few seconds (scoring replaces
# the table in one swap; it is never dropped for good once written).
_SCORED_FOR_SECONDS = 10.0
_SCORED: weakref.WeakKeyDictionary[Store, float] = weakref.WeakKeyDictionary()


def effectiveness_scored(store: Store) -> bool:
    """Whether deskpulse.models.scoring has written effectiveness_facts yet."""
    seen = _SCORED.get(store)
    if seen is not None and time.monotonic() - seen < _SCORED_FOR_SECONDS:
        return True
    found = EFFECTIVENESS in set(store.con.list_tables())
    if found:
        _SCORED[store] = time.monotonic()
    else:
        _SCORED.pop(store, None)
    return found


def query(
    store: Store,
    q: Query,
    viewer: Viewer = TEAM_VIEWER,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> QueryResult:
    """Compute the metrics of `q` as `viewer` may see them; every value carries its n."""
    q = _scope(q, viewer, store)
    period = resolve_period(q, store)
    time_group = next((g for g in q.group_by if g in TIME_GROUPS), None)
    previous = period.previous() if q.compare and time_group is None else None
    by_agent = "agent" in q.group_by
    metrics = [REGISTRY[name] for name in q.metrics]

    # One scan per (table, time column): the period becomes a range on that column,
    # which DuckDB prunes by row group, and current vs previous period a GROUP BY key,
    # so most aggregates need no FILTER clause of their own.
    scans: dict[tuple[str, str], list[Metric]] = {}
    for metric in metrics:
        source = _source_of(metric, by_agent)
        if "agent" in q.group_by and source.table not in AGENT_ROW_TABLES:
            raise QueryError("group_by", f"{metric.name} has no per-agent reading")
        scans.setdefault((source.table, source.time_column), []).append(metric)
    if any(table == EFFECTIVENESS for table, _ in scans) and not effectiveness_scored(store):
        # Predictions not written yet (no scoring run): empty samples, like a fresh install.
        scans = {key: found for key, found in scans.items() if key[0] != EFFECTIVENESS}

    changes = offset_changes(store.settings.tz, period.start, period.end)
    rows: dict[tuple[Any, ...], ResultRow] = {}
    if not facts_exist(store):
        # A fresh install with no events yet: every sample is empty, not an error.
        scans = {}
    scanned = [
        (
            scan_metrics,
            _run_scan(
                store,
                _ScanShape(
                    table=table,
                    time_column=time_column,
                    metrics=tuple(m.name for m in scan_metrics),
                    by_agent=by_agent,
                    group_by=tuple(q.group_by),
                    filters=tuple(
                        name
                        for name in Filters.model_fields
                        if name not in _SHAPE_FILTERS and getattr(q.filters, name)
                    ),
                    listed_agents=None if q.filters.agents is None else len(q.filters.agents),
                    compare=previous is not None,
                    offsets=changes if time_group or "hour" in q.group_by else (),
                    ai_involved=q.filters.ai_involved,
                    half_life_days=q.half_life_days
                    if any(m.recency_weighted for m in scan_metrics)
                    else DEFAULT_HALF_LIFE_DAYS,
                ),
                timeout,
                lambda sql: _bind(store, sql, period, previous, q.filters),
            ),
        )
        for (table, time_column), scan_metrics in scans.items()
    ]
    for scan_metrics, (group_names, frame) in scanned:
        for record in frame:
            group = {name: _group_value(record[name], name) for name in group_names}
            row = rows.setdefault(
                tuple(group[name] for name in group_names), ResultRow(group=group)
            )
            target = row.metrics
            if record.get(_SPAN) == "previous":
                row.previous = row.previous if row.previous is not None else {}
                target = row.previous
            for metric in scan_metrics:
                target[metric.name] = _metric_value(metric, record)

    if not q.group_by and not rows:
        rows[()] = ResultRow(group={})
    result_rows = list(rows.values())
    for row in result_rows:
        # A group can be missing from one scan (no rows there): report an empty sample.
        for metric in metrics:
            row.metrics.setdefault(metric.name, MetricValue(None, 0))
            if previous is not None:
                row.previous = row.previous or {}
                row.previous.setdefault(metric.name, MetricValue(None, 0))
    result_rows.sort(key=lambda r: tuple("" if v is None else v for v in r.group.values()))
    return QueryResult(query=q, period=period, previous_period=previous, rows=result_rows)


def measure_rows(
    store: Store,
    table: str,
    narrow: Callable[[ir.Table], ir.Table],
    metrics: list[str],
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> dict[str, MetricValue]:
    """Registry metrics over a selection of rows that no period describes.

    `narrow` picks rows of facts table `table` (a coaching plan's 20 most recent
    interactions, say); each metric's own aggregates (its per-agent reading on a table of
    agent rows) then run over exactly those rows, so the number is the same definition
    query() uses, only over another set of rows. The caller decides who may see them.
    """
    found: list[Metric] = []
    for name in metrics:
        metric = REGISTRY.get(name)
        if metric is None:
            raise QueryError("metrics", str(UnknownMetricError(name)))
        source = metric.agent_source if table in AGENT_ROW_TABLES else metric.source
        weighted = metric.recency_weighted is not None  # needs a period end
        if source is None or source.table != table or metric.needs_bucket_end or weighted:
            raise QueryError("metrics", f"{name} cannot be measured over rows of {table}")
        found.append(metric)
    sources = [
        (metric, metric.agent_source if table in AGENT_ROW_TABLES else metric.source)
        for metric in found
    ]
    everything = ibis.literal(True)
    rows = narrow(store.con.table(table))
    aggregates: dict[str, ir.Scalar] = {}
    now = ibis.literal(naive_utc(clock.now()), type="timestamp")
    for metric, source in sources:
        assert source is not None  # checked above
        inside = everything
        if source.settles is not None:
            settled = source.settled(rows, now)
            aggregates[f"{metric.name}__pending"] = source.sample(rows, ~settled)
            inside = settled
        aggregates[f"{metric.name}__value"] = source.value(rows, inside)
        aggregates[f"{metric.name}__n"] = source.sample(rows, inside)
    sql = str(store.con.compile(rows.aggregate(**aggregates)))
    records = execute_sql(store, sql, timeout)
    record = records[0] if records else {}
    return {metric.name: _metric_value(metric, record) for metric in found}


@dataclass(frozen=True)
class _ScanShape:
    """Everything that decides a scan's SQL text; values live in the parameters table."""

    table: str
    time_column: str
    metrics: tuple[str, ...]
    by_agent: bool
    group_by: tuple[str, ...]
    filters: tuple[str, ...]
    compare: bool
    offsets: tuple[tuple[datetime, int], ...]
    listed_agents: int | None = None  # how many agents the `agents` filter lists
    ai_involved: bool | None = None  # the ai_involved filter, compiled into the SQL
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS  # of recency-weighted metrics


_COMPILED: dict[tuple[str, _ScanShape], tuple[str, list[str]]] = {}
_COMPILED_LOCK = threading.Lock()
_COMPILED_MAX = 512


def _compiled(store: Store, shape: _ScanShape) -> tuple[str, list[str]]:
    key = (store.backend, shape)
    with _COMPILED_LOCK:
        found = _COMPILED.get(key)
    if found is not None:
        return found
    expression, group_names = _scan(store, shape)
    compiled = (str(store.con.compile(expression)), group_names)
    with _COMPILED_LOCK:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        _COMPILED[key] = compiled
    return compiled


_SPAN = "_span"


def _scan(store: Store, shape: _ScanShape) -> tuple[ir.Table, list[str]]:
    """One aggregate over one facts table, for the metrics bucketed by one time column."""
    # Placeholders only: the real values are bound into the compiled SQL by _bind.
    placeholders: dict[str, Any] = dict.fromkeys(shape.filters, "?")
    if shape.listed_agents is not None:
        placeholders["agents"] = ("?",) * shape.listed_agents
    if shape.ai_involved is not None:
        placeholders["ai_involved"] = shape.ai_involved
    filters = Filters.model_construct(**placeholders)
    t = _filtered(store, shape.table, filters)
    bounds = _Bounds.sentinels()
    metrics = [REGISTRY[name] for name in shape.metrics]
    sources = [_source_of(m, shape.by_agent) for m in metrics]
    when = t[shape.time_column]
    first = bounds.previous_start if shape.compare else bounds.period_start
    t = t.filter((when >= first) & (when < bounds.period_end))
    when = t[shape.time_column]

    time_group = next((g for g in shape.group_by if g in TIME_GROUPS), None)
    keys: dict[str, ir.Value] = {}
    for group in shape.group_by:
        if group in _GROUP_COLUMNS:
            if _GROUP_COLUMNS[group] not in t.columns:
                raise QueryError(
                    "group_by", f"{', '.join(shape.metrics)} cannot be grouped by {group}"
                )
            keys[group] = t[_GROUP_COLUMNS[group]]
        elif group == "hour":
            keys[group] = to_local(when, shape.offsets).hour()
    bucket_start: ir.TimestampValue | None = None
    if time_group is not None:
        bucket_start = to_local(when, shape.offsets).truncate("D" if time_group == "day" else "W")
        keys[time_group] = bucket_start
    span_end: ir.Value = bounds.period_end
    if shape.compare:
        current = when >= bounds.period_start
        keys[_SPAN] = current.ifelse("current", "previous")
        span_end = current.ifelse(bounds.period_end, bounds.previous_end)

    everything = ibis.literal(True)
    aggregates: dict[str, ir.Scalar] = {}
    for metric, source in zip(metrics, sources, strict=True):
        inside = everything
        if metric.needs_bucket_end:
            inside = _still_resolved(t, span_end, time_group, bucket_start, shape)
        if source.settles is not None:
            settled = source.settled(t, bounds.settled_by)
            aggregates[f"{metric.name}__pending"] = source.sample(t, inside & ~settled)
            inside = inside & settled
        if metric.recency_weighted is not None:
            value = metric.recency_weighted(t, inside, span_end, shape.half_life_days)
        else:
            value = source.value(t, inside)
        aggregates[f"{metric.name}__value"] = value
        aggregates[f"{metric.name}__n"] = source.sample(t, inside)
    group_names = [name for name in keys if name != _SPAN]
    if keys:
        return t.group_by(**keys).aggregate(**aggregates), group_names
    return t.aggregate(**aggregates), group_names


def _still_resolved(
    t: ir.Table,
    span_end: ir.Value,
    time_group: str | None,
    bucket_start: ir.TimestampValue | None,
    shape: _ScanShape,
) -> ir.BooleanValue:
    """`resolved` counts a resolution only if nothing undid it before the bucket ended."""
    if time_group is None or bucket_start is None:
        return t.next_change_at.isnull() | (t.next_change_at >= span_end)
    step = ibis.interval(days=1 if time_group == "day" else 7)
    local_next = to_local(t.next_change_at, shape.offsets)
    return t.next_change_at.isnull() | (local_next >= bucket_start + step)


def _run_scan(
    store: Store, shape: _ScanShape, timeout: float, bind: Callable[[str], str]
) -> tuple[list[str], list[dict[str, Any]]]:
    sql, group_names = _compiled(store, shape)
    return group_names, execute_sql(store, bind(sql), timeout)


@contextmanager
def _time_limit(store: Store, seconds: float) -> Iterator[None]:
    if store.backend == "spark":
        with _spark_time_limit(store, seconds):
            yield
        return
    if store.backend == "postgres":
        store.execute(f"SET statement_timeout = {int(seconds * 1000)}")
        try:
            yield
        finally:
            store.execute("SET statement_timeout = 0")
        return
    timer = threading.Timer(seconds, store.raw.interrupt)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@contextmanager
def _spark_time_limit(store: Store, seconds: float) -> Iterator[None]:
    """Spark jobs started by this thread carry a tag; past the limit, a watcher cancels
    every job with that tag until the query gives up (Spark can only cancel running
    jobs, and a query may start several)."""
    context = store.raw.sparkContext
    tag = f"deskpulse-query-{uuid.uuid4().hex}"
    done = threading.Event()

    def watch() -> None:
        if done.wait(seconds):
            return
        while not done.is_set():
            context.cancelJobsWithTag(tag)
            done.wait(0.05)

    context.addJobTag(tag)
    watcher = threading.Thread(target=watch, name="deskpulse-spark-time-limit", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        context.removeJobTag(tag)


def execute_sql(store: Store, sql: str, timeout: float) -> list[dict[str, Any]]:
    """Rows of `sql` as dicts, or QueryTimeoutError once it runs past `timeout` s."""
    # The driver's rows, not Ibis' Arrow conversion: PostgreSQL returns NUMERIC for
    # averages of integers, which Ibis cannot convert to the float it expects.
    # _number() makes both backends' values the same Python floats.
    try:
        with _time_limit(store, timeout):
            if store.backend == "duckdb":
                cursor = store.raw.execute(sql)
                names = [column[0] for column in cursor.description]
                records = cursor.fetchall()
            elif store.backend == "spark":
                frame = store.raw.sql(sql)
                names = list(frame.columns)
                records = [tuple(row) for row in frame.collect()]
            else:
                with store.raw.cursor() as cursor:
                    cursor.execute(sql)
                    names = [column.name for column in cursor.description]
                    records = cursor.fetchall()
    except Exception as error:
        text = str(error).lower()
        timed_out = "interrupt" in text or "statement timeout" in text or "canceling" in text
        if timed_out or (store.backend == "spark" and "cancelled" in text):
            raise QueryTimeoutError(
                f"the query took longer than {timeout:g} s; narrow the period or filters"
            ) from error
        raise
    return [dict(zip(names, record, strict=True)) for record in records]


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool):
        return int(value)
    return value  # type: ignore[no-any-return]


def _metric_value(metric: Metric, record: dict[str, Any]) -> MetricValue:
    n = int(record.get(f"{metric.name}__n") or 0)
    value = _number(record.get(f"{metric.name}__value"))
    if n == 0:
        value = None  # an empty sample has no value: never 0, never an error
    elif metric.format == "count" and value is not None:
        value = int(value)
    elif value is not None:
        # Float sums depend on the order rows are added in (threads, backends); nine
        # decimals is far below any difference a person sees, and makes the same events
        # give the same number every time.
        value = round(float(value), 9)
    pending = record.get(f"{metric.name}__pending")
    return MetricValue(value=value, n=n, pending=None if pending is None else int(pending))


def _group_value(value: Any, name: str = "") -> str | None:
    if value is None:
        return None
    if name == "hour":
        return f"{int(value):02d}"  # "09" sorts before "10"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


__all__ = [
    "PERIOD_DAYS",
    "Filters",
    "GroupBy",
    "MetricValue",
    "NotVisibleError",
    "Query",
    "QueryError",
    "QueryResult",
    "QueryTimeoutError",
    "ResultRow",
    "Viewer",
    "effectiveness_scored",
    "execute_sql",
    "measure_rows",
    "query",
]
