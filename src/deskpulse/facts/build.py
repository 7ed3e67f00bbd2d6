"""Keeping the fact tables in step with the events.

Incremental by default: only conversations touched by new events (the dirty set the
store fills in the same transaction as the events) are recomputed, widened to every
conversation of the same customers, because first-contact resolution of one
conversation depends on the customer's later ones. A full rebuild recomputes all.
Both give the same rows, which the property tests check.

Compiling the Ibis expressions costs about a second, far more than running them on a
10k-event batch, and their shape never changes. So every step reads the temp view
`facts_input` (all events, or only the touched conversations' events), the SQL is
compiled once per backend and settings, and later refreshes replay it.

On Spark, temp tables are checkpointed temp views, and since Parquet tables cannot DELETE,
an incremental refresh writes each fact table anew as its rows outside the scope plus
the scope's new rows, then swaps names (`_spark_backend().rewrite_without`). The rows
are the same as DuckDB's DELETE + INSERT; a crash mid-swap leaves a fact table
missing, so the next refresh is a full one, and the dirty marks are cleared last.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import ibis.expr.types as ir

from deskpulse.events.store import Store
from deskpulse.facts import expressions as x
from deskpulse.facts.business_hours import (
    INTERVALS_SCHEMA,
    business_intervals,
    schedules_from_events,
)
from deskpulse.facts.tables import FACT_TABLES

SCOPE_TABLE = "facts_scope"
INPUT_VIEW = "facts_input"
SCOPED_EVENTS = "facts_scoped_events"
INTERVALS_TABLE = "facts_business_intervals"
META_TABLE = "facts_meta"
_STAGE = "facts_stage_"

Mode = Literal["full", "incremental"]


@dataclass(frozen=True)
class FactsSummary:
    mode: str  # "full", "incremental" or "up to date"
    conversations: int  # conversations recomputed
    seconds: float


@dataclass(frozen=True)
class _Step:
    target: str
    sql: str
    final: bool  # a fact table (kept) rather than a temp stage


_PLANS: dict[tuple[str, int, int, int], list[_Step]] = {}
_PLANS_LOCK = threading.Lock()


def facts_exist(store: Store) -> bool:
    # Listing tables costs milliseconds and every query asks, so a yes is remembered:
    # once built, fact tables are only ever replaced inside one write transaction, never
    # left missing. A yes seen inside that transaction is not committed yet, so other
    # threads must not rely on it.
    if store.facts_ready:
        return True
    existing = set(store.con.list_tables())
    if not all(name in existing for name in FACT_TABLES):
        return False
    # Facts built by an older version lack the columns added since (the business-time
    # twins, say): they count as missing, so the next refresh rebuilds them in full.
    for name, columns in FACT_TABLES.items():
        if not set(columns) <= set(store.con.table(name).columns):
            return False
    if not store.writing_here():
        store.facts_ready = True
    return True


def refresh_facts(
    store: Store,
    *,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
) -> FactsSummary:
    """Bring every fact table up to date with the stored events."""
    started = time.perf_counter()
    say = progress or (lambda _step: None)
    with store.writing():
        schedules = _schedules_signature(store)
        if full or not facts_exist(store) or schedules != _built_signature(store):
            count = _rebuild(store, "full", say)
            mode = "full"
        else:
            count = _rebuild(store, "incremental", say)
            mode = "incremental" if count else "up to date"
        if schedules != _built_signature(store):
            _record_signature(store, schedules)
    return FactsSummary(mode=mode, conversations=count, seconds=time.perf_counter() - started)


def _rebuild(store: Store, mode: Mode, say: Callable[[str], None]) -> int:
    if store.backend == "spark":
        _spark_backend().recover(store.raw)  # what an interrupted refresh left behind
    # Snapshot the dirty set first: events stored while we build stay dirty.
    store.execute(f"DROP VIEW IF EXISTS {INPUT_VIEW}")
    store.execute(f"DROP TABLE IF EXISTS {SCOPED_EVENTS}")
    store.execute(f"DROP TABLE IF EXISTS {SCOPE_TABLE}")
    if mode == "full":
        _temp_table(store, SCOPE_TABLE, "SELECT DISTINCT conversation_id FROM dirty_conversations")
        store.execute(f"CREATE OR REPLACE TEMP VIEW {INPUT_VIEW} AS SELECT * FROM events")
    else:
        say("finding touched conversations")
        _temp_table(
            store,
            SCOPE_TABLE,
            """WITH touched AS (SELECT DISTINCT conversation_id FROM dirty_conversations),
            customers AS (
                SELECT DISTINCT customer_id FROM events
                WHERE type = 'conversation.created'
                  AND conversation_id IN (SELECT conversation_id FROM touched)
            )
            SELECT conversation_id FROM touched
            UNION
            SELECT conversation_id FROM events
            WHERE type = 'conversation.created'
              AND customer_id IN (SELECT customer_id FROM customers)""",
        )
        # Copy the touched conversations' events once: every step reads the input
        # several times, and filtering all stored events each time cost seconds.
        _temp_table(
            store,
            SCOPED_EVENTS,
            "SELECT * FROM events "
            f"WHERE conversation_id IN (SELECT conversation_id FROM {SCOPE_TABLE})",
        )
        store.execute(f"CREATE OR REPLACE TEMP VIEW {INPUT_VIEW} AS SELECT * FROM {SCOPED_EVENTS}")
    scope_size = store.count(SCOPE_TABLE)
    if mode == "incremental":
        # Agents can change without touching a conversation; keep them current.
        _replace_agents(store)
        if scope_size == 0:
            store.execute(f"DROP VIEW {INPUT_VIEW}")
            store.execute(f"DROP TABLE IF EXISTS {SCOPED_EVENTS}")
            store.execute(f"DROP TABLE {SCOPE_TABLE}")
            return 0
        # Spark cannot DELETE: there _execute_step rewrites each fact table instead.
        tables = ("conversation_facts", "agent_conversation_facts", "resolution_facts")
        for table in () if store.backend == "spark" else tables:
            store.execute(
                f"DELETE FROM {table} WHERE conversation_id IN "
                f"(SELECT conversation_id FROM {SCOPE_TABLE})"
            )

    say("business hours")
    _write_intervals(store)
    plan = _plan_for(store)
    if plan is None:
        plan = _compile_and_run(store, mode, say)
    else:
        for step in plan:
            say(step.target.removeprefix(_STAGE).replace("_", " "))
            _execute_step(store, step, mode)
    for step in plan:
        if not step.final:
            store.execute(f"DROP TABLE IF EXISTS {step.target}")
    if mode == "full":
        _replace_agents(store)
    if store.backend == "spark":
        _spark_backend().rewrite_without(store.raw, "dirty_conversations", SCOPE_TABLE)
    else:
        store.execute(
            "DELETE FROM dirty_conversations WHERE conversation_id IN "
            f"(SELECT conversation_id FROM {SCOPE_TABLE})"
        )
    store.execute(f"DROP VIEW {INPUT_VIEW}")
    store.execute(f"DROP TABLE IF EXISTS {SCOPED_EVENTS}")
    store.execute(f"DROP TABLE {SCOPE_TABLE}")
    _drop_intervals(store)
    return store.count("conversation_facts") if mode == "full" else scope_size


# -- business hours ----------------------------------------------------------------------


def _schedules_signature(store: Store) -> str:
    """Changes whenever a `business_hours.set` event is stored (events are never
    deleted, and their ids are unique)."""
    rows = store.execute("SELECT COUNT(*), MAX(id) FROM events WHERE type = 'business_hours.set'")
    count, latest = rows[0] if rows else (0, None)
    return f"{int(count or 0)}:{latest or ''}"


def _built_signature(store: Store) -> str | None:
    if META_TABLE not in set(store.con.list_tables()):
        return None
    rows = store.execute(f"SELECT schedules FROM {META_TABLE}")
    return str(rows[0][0]) if rows else None


def _record_signature(store: Store, signature: str) -> None:
    # Dropped and recreated rather than updated: Spark's Parquet tables cannot UPDATE.
    store.execute(f"DROP TABLE IF EXISTS {META_TABLE}")
    quoted = signature.replace("'", "''")
    store.execute(f"CREATE TABLE {META_TABLE} AS SELECT '{quoted}' AS schedules")


def _write_intervals(store: Store) -> None:
    """The schedules' open intervals over the input's UTC dates, as INTERVALS_TABLE."""
    rows = store.execute(
        "SELECT id, type, inbox_id, occurred_at, schedule FROM events "
        "WHERE type = 'business_hours.set'"
    )
    columns = ("id", "type", "inbox_id", "occurred_at", "schedule")
    schedules = schedules_from_events(dict(zip(columns, row, strict=True)) for row in rows)
    first, last = store.execute(f"SELECT MIN(occurred_at), MAX(occurred_at) FROM {INPUT_VIEW}")[0]
    first_day, last_day = _day(first), _day(last)
    table = business_intervals(
        schedules.values(), first_day - timedelta(days=1), last_day + timedelta(days=1)
    )
    _drop_intervals(store)
    if store.backend == "spark":
        from pyspark.sql import types as st

        struct = st.StructType(
            [
                st.StructField("inbox_id", st.StringType()),
                st.StructField("start_utc", st.TimestampNTZType()),
                st.StructField("end_utc", st.TimestampNTZType()),
                st.StructField("utc_day", st.DateType()),
                st.StructField("open_before_us", st.LongType()),
            ]
        )
        frame = store.raw.createDataFrame(table.to_pylist(), schema=struct)
        frame.localCheckpoint(eager=True).createOrReplaceTempView(INTERVALS_TABLE)
    elif store.backend == "duckdb":
        store.raw.register("facts_business_intervals_arrow", table)
        try:
            store.execute(
                f"CREATE TEMP TABLE {INTERVALS_TABLE} AS "
                "SELECT * FROM facts_business_intervals_arrow"
            )
        finally:
            store.raw.unregister("facts_business_intervals_arrow")
    else:
        store.execute(
            f"CREATE TEMP TABLE {INTERVALS_TABLE} (inbox_id TEXT, start_utc TIMESTAMP, "
            "end_utc TIMESTAMP, utc_day DATE, open_before_us BIGINT)"
        )
        values = [table[name].to_pylist() for name in INTERVALS_SCHEMA.names]
        with (
            store.raw.cursor() as cursor,
            cursor.copy(f"COPY {INTERVALS_TABLE} FROM STDIN") as copy,
        ):
            for row in zip(*values, strict=True):
                copy.write_row(row)


def _drop_intervals(store: Store) -> None:
    if store.backend == "spark":
        store.raw.catalog.dropTempView(INTERVALS_TABLE)
    else:
        store.execute(f"DROP TABLE IF EXISTS {INTERVALS_TABLE}")


def _day(moment: Any) -> date:
    if isinstance(moment, datetime):
        return moment.date()
    if isinstance(moment, date):
        return moment
    return date(2000, 1, 1)  # no events: any day will do


def _plan_key(store: Store) -> tuple[str, int, int, int]:
    s = store.settings
    return (
        store.backend,
        s.fcr_window_days,
        s.survey_window_days,
        s.handle_time_estimate_cap_seconds,
    )


def _plan_for(store: Store) -> list[_Step] | None:
    with _PLANS_LOCK:
        return _PLANS.get(_plan_key(store))


def _execute_step(store: Store, step: _Step, mode: Mode) -> None:
    if not step.final:
        store.execute(f"DROP TABLE IF EXISTS {step.target}")
        _temp_table(store, step.target, step.sql)
    elif mode == "full":
        store.execute(f"DROP TABLE IF EXISTS {step.target}")
        store.execute(f"CREATE TABLE {step.target} AS {step.sql}")
    elif store.backend == "spark":
        _spark_backend().rewrite_without(store.raw, step.target, SCOPE_TABLE, extra=step.sql)
    else:
        store.execute(f"INSERT INTO {step.target} {step.sql}")


def _temp_table(store: Store, name: str, select: str) -> None:
    if store.backend == "spark":
        _spark_backend().temp_table(store.raw, name, select)  # a checkpointed temp view
    else:
        store.execute(f"CREATE TEMP TABLE {name} AS {select}")


def _spark_backend() -> Any:
    from deskpulse.events import spark  # needs the optional pyspark

    return spark


def _compile_and_run(store: Store, mode: Mode, say: Callable[[str], None]) -> list[_Step]:
    """Run the Ibis expressions once, recording each step's SQL for later refreshes."""
    con = store.con
    steps: list[_Step] = []

    def run(target: str, expression: ir.Table, *, final: bool) -> ir.Table:
        say(target.removeprefix(_STAGE).replace("_", " "))
        step = _Step(target=target, sql=str(con.compile(expression)), final=final)
        _execute_step(store, step, mode)
        steps.append(step)
        return con.table(target)

    def stage(name: str, expression: ir.Table) -> ir.Table:
        return run(_STAGE + name, expression, final=False)

    events = con.table(INPUT_VIEW)
    intervals = con.table(INTERVALS_TABLE)
    conversations = stage(
        "conversations", x.conversation_facts(events, store.settings, stage, intervals)
    )
    run("conversation_facts", conversations, final=True)
    run(
        "agent_conversation_facts",
        x.agent_conversation_facts(
            events, con.table(_STAGE + "messages"), conversations, intervals
        ),
        final=True,
    )
    run(
        "resolution_facts",
        x.resolution_facts(con.table(_STAGE + "status"), conversations),
        final=True,
    )
    with _PLANS_LOCK:
        _PLANS[_plan_key(store)] = steps
    return steps


def _replace_agents(store: Store) -> None:
    compiled = str(store.con.compile(x.agents(store.events())))
    store.execute("DROP TABLE IF EXISTS agents")
    store.execute(f"CREATE TABLE agents AS {compiled}")
