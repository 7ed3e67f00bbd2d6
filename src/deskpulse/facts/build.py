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
from typing import Any, Literal

import ibis.expr.types as ir

from deskpulse.events.store import Store
from deskpulse.facts import expressions as x
from deskpulse.facts.tables import FACT_TABLES

SCOPE_TABLE = "facts_scope"
INPUT_VIEW = "facts_input"
SCOPED_EVENTS = "facts_scoped_events"
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
    # once built, fact tables are only ever replaced under the store's lock, never left
    # missing.
    if store.facts_ready:
        return True
    existing = set(store.con.list_tables())
    store.facts_ready = all(name in existing for name in FACT_TABLES)
    return store.facts_ready


def refresh_facts(
    store: Store,
    *,
    full: bool = False,
    progress: Callable[[str], None] | None = None,
) -> FactsSummary:
    """Bring every fact table up to date with the stored events."""
    started = time.perf_counter()
    say = progress or (lambda _step: None)
    with store.lock:
        if full or not facts_exist(store):
            count = _rebuild(store, "full", say)
            mode = "full"
        else:
            count = _rebuild(store, "incremental", say)
            mode = "incremental" if count else "up to date"
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
    return store.count("conversation_facts") if mode == "full" else scope_size


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
    conversations = stage("conversations", x.conversation_facts(events, store.settings, stage))
    run("conversation_facts", conversations, final=True)
    run(
        "agent_conversation_facts",
        x.agent_conversation_facts(events, con.table(_STAGE + "messages"), conversations),
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
