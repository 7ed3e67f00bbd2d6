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

Every step reads the live events (`live_events`: retracted events and their tombstones
left out, events/retraction.py). A conversation whose facts fail to compute for a
reason tied to its data is quarantined (facts/quarantine.py): events dated before the
install's earliest time are caught up front from the input's time span, any other
failure by bisecting the conversations of the refresh, each half tried on its own into
scratch tables. The refresh then finishes without them; the happy path runs exactly the
statements it ran before.

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
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import ibis.expr.types as ir

from deskpulse.events.columns import LIVE_EVENTS
from deskpulse.events.store import Store
from deskpulse.facts import expressions as x
from deskpulse.facts import quarantine
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
EXCLUDED_TABLE = "facts_excluded"  # conversations quarantined by this refresh
SUSPECTS_TABLE = "facts_suspects"  # the conversations being bisected, numbered
_STAGE = "facts_stage_"
_TRIAL = "facts_trial_"

Mode = Literal["full", "incremental"]


@dataclass(frozen=True)
class FactsSummary:
    mode: str  # "full", "incremental" or "up to date"
    conversations: int  # conversations recomputed
    seconds: float
    quarantined: int = 0  # conversations this refresh put (or kept) in quarantine


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
    """Bring every fact table up to date with the stored events.

    One transaction: a reader sees the facts as they were before it or after it, never
    half-way. When the data of some conversations makes it fail, the transaction rolls
    back, those conversations are found (outside any transaction, since a failed
    statement ends one) and the refresh runs again without them, quarantined.
    """
    started = time.perf_counter()
    say = progress or (lambda _step: None)
    with store.write_turn():
        try:
            with store.writing():
                mode, count, held = _refresh(store, full, say, {})
        except Exception as error:
            if not quarantine.is_data_error(error):
                raise
            say("finding the conversations whose facts fail")
            failing = _failing_conversations(store, full)
            if not failing:  # not tied to any one conversation: nothing to quarantine
                raise
            with store.writing():
                mode, count, held = _refresh(store, full, say, failing)
    return FactsSummary(
        mode=mode,
        conversations=count,
        seconds=time.perf_counter() - started,
        quarantined=held,
    )


def _refresh(
    store: Store, full: bool, say: Callable[[str], None], failing: dict[str, quarantine.Problem]
) -> tuple[str, int, int]:
    """(mode, conversations recomputed, quarantined) of one attempt."""
    schedules = _schedules_signature(store)
    mode = _mode(store, full, schedules)
    count, held = _rebuild(store, mode, say, failing)
    if schedules != _built_signature(store):
        _record_signature(store, schedules)
    return (mode if mode == "full" or count else "up to date"), count, held


def _mode(store: Store, full: bool, schedules: str) -> Mode:
    if full or not facts_exist(store) or schedules != _built_signature(store):
        return "full"
    return "incremental"


def _rebuild(
    store: Store, mode: Mode, say: Callable[[str], None], failing: dict[str, quarantine.Problem]
) -> tuple[int, int]:
    """Recompute the facts of the scope, leaving out `failing` (found by an earlier
    attempt) and events dated before the earliest time; (recomputed, quarantined)."""
    if store.backend == "spark":
        _spark_backend().recover(store.raw)  # what an interrupted refresh left behind
    scope_size = _prepare(store, mode, say)
    if mode == "incremental":
        # Agents can change without touching a conversation; keep them current.
        _replace_agents(store)
        if scope_size == 0:
            _drop_inputs(store)
            return 0, 0
    problems = {**_too_early(store), **failing}
    if problems:
        _exclude(store, mode, problems)
    plan = _compute(store, mode, say)
    for step in plan:
        if not step.final:
            store.execute(f"DROP TABLE IF EXISTS {step.target}")
    if mode == "full":
        _replace_agents(store)
    if problems or quarantine.quarantined_count(store):
        _settle_quarantine(store, mode, problems)
    if store.backend == "spark":
        _spark_backend().rewrite_without(store.raw, "dirty_conversations", SCOPE_TABLE)
    else:
        store.execute(
            "DELETE FROM dirty_conversations WHERE conversation_id IN "
            f"(SELECT conversation_id FROM {SCOPE_TABLE})"
        )
    _drop_inputs(store)
    count = store.count("conversation_facts") if mode == "full" else scope_size - len(problems)
    return count, len(problems)


def _prepare(store: Store, mode: Mode, say: Callable[[str], None]) -> int:
    """The scope (SCOPE_TABLE) and its input (INPUT_VIEW); the scope's size."""
    # Snapshot the dirty set first: events stored while we build stay dirty.
    _drop_inputs(store)
    if mode == "full":
        # A full build retries every quarantined conversation.
        _temp_table(store, SCOPE_TABLE, "SELECT DISTINCT conversation_id FROM dirty_conversations")
    else:
        say("finding touched conversations")
        # A quarantined conversation stays out until an event to it arrives (it is then
        # dirty), even when a sibling of the same customer is recomputed. The widening
        # reads the events table itself: a retracted creation only widens the scope.
        _temp_table(
            store,
            SCOPE_TABLE,
            f"""WITH touched AS (SELECT DISTINCT conversation_id FROM dirty_conversations),
            customers AS (
                SELECT DISTINCT customer_id FROM events
                WHERE type = 'conversation.created'
                  AND conversation_id IN (SELECT conversation_id FROM touched)
            ),
            widened AS (
                SELECT conversation_id FROM touched
                UNION
                SELECT conversation_id FROM events
                WHERE type = 'conversation.created'
                  AND customer_id IN (SELECT customer_id FROM customers)
            )
            SELECT conversation_id FROM widened
            WHERE conversation_id IN (SELECT conversation_id FROM touched)
               OR conversation_id NOT IN (SELECT conversation_id FROM {quarantine.TABLE})""",
        )
    _define_input(store, mode, excluding=False)
    return store.count(SCOPE_TABLE)


def _drop_inputs(store: Store) -> None:
    """Every temp table and view a refresh makes (none is left between refreshes)."""
    store.execute(f"DROP VIEW IF EXISTS {INPUT_VIEW}")
    for name in (SCOPED_EVENTS, SCOPE_TABLE, EXCLUDED_TABLE, SUSPECTS_TABLE):
        _drop_temp(store, name)
    _drop_intervals(store)


def _failing_conversations(store: Store, full: bool) -> dict[str, quarantine.Problem]:
    """The conversations of the refresh whose facts fail, each with why (module
    docstring); run outside any transaction, writing temp tables only."""
    mode = _mode(store, full, _schedules_signature(store))
    try:
        _prepare(store, mode, lambda _step: None)
        early = _too_early(store)
        if early:
            _exclude(store, mode, early)
        return _bisect(store, mode, excluding=bool(early))
    finally:
        _drop_inputs(store)


def _define_input(store: Store, mode: Mode, *, excluding: bool) -> None:
    """INPUT_VIEW: the live events of the scope, less the conversations quarantined by
    this refresh when `excluding`."""
    store.execute(f"DROP VIEW IF EXISTS {INPUT_VIEW}")
    if mode == "full":
        sql = _input_sql(mode, excluding=excluding)
        store.execute(f"CREATE OR REPLACE TEMP VIEW {INPUT_VIEW} AS {sql}")
        return
    left_out = (
        f" AND conversation_id NOT IN (SELECT conversation_id FROM {EXCLUDED_TABLE})"
        if excluding
        else ""
    )
    # Copy the touched conversations' events once: every step reads the input
    # several times, and filtering all stored events each time cost seconds.
    _drop_temp(store, SCOPED_EVENTS)
    _temp_table(
        store,
        SCOPED_EVENTS,
        f"SELECT * FROM {LIVE_EVENTS} "
        f"WHERE conversation_id IN (SELECT conversation_id FROM {SCOPE_TABLE}){left_out}",
    )
    store.execute(f"CREATE OR REPLACE TEMP VIEW {INPUT_VIEW} AS SELECT * FROM {SCOPED_EVENTS}")


def _compute(store: Store, mode: Mode, say: Callable[[str], None]) -> list[_Step]:
    """Write the facts of the input: its business intervals, then every step."""
    if mode == "incremental":
        # Again on a retry: the failed attempt may have inserted some of the scope's rows.
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
        return _compile_and_run(store, mode, say)
    for step in plan:
        say(step.target.removeprefix(_STAGE).replace("_", " "))
        _execute_step(store, step, mode)
    return plan


# -- quarantine ----------------------------------------------------------------------------


def _too_early(store: Store) -> dict[str, quarantine.Problem]:
    """Conversations with an event dated before the install's earliest time.

    Stored before the bound existed (or under a looser one): a year-0001 event made the
    business-hours intervals overflow, a year-0002 one made them take gigabytes. The
    input's span, which the intervals need anyway, tells when to look.
    """
    earliest = store.settings.earliest_event.astimezone(UTC).replace(tzinfo=None)
    first, _last = _span(store)
    if not isinstance(first, datetime) or first >= earliest:
        return {}
    rows = store.execute(
        f"SELECT conversation_id, MIN(occurred_at), MIN(id) FROM {INPUT_VIEW} "
        "WHERE conversation_id IS NOT NULL "
        f"AND occurred_at < TIMESTAMP '{earliest:%Y-%m-%d %H:%M:%S.%f}' "
        "GROUP BY conversation_id"
    )
    bound = store.settings.earliest_event.isoformat().replace("+00:00", "Z")
    return {
        str(conversation): quarantine.Problem(
            reason=f"an event (e.g. {event_id}) is dated {_stamp(stamp)}, before "
            f"{bound}, the earliest time this install accepts (DESKPULSE_EARLIEST_EVENT); "
            "retract it with deskpulse retract",
        )
        for conversation, stamp, event_id in rows
    }


def _stamp(moment: Any) -> str:
    # isoformat, not strftime: %Y writes year 1 as "1".
    return moment.isoformat(sep=" ") if isinstance(moment, datetime) else str(moment)


def _exclude(store: Store, mode: Mode, problems: dict[str, quarantine.Problem]) -> None:
    """Leave these conversations out of this refresh's input."""
    store.execute(f"DROP VIEW IF EXISTS {INPUT_VIEW}")  # it may read the old list
    _drop_temp(store, EXCLUDED_TABLE)
    _id_table(store, EXCLUDED_TABLE, sorted(problems))
    _define_input(store, mode, excluding=True)


def _settle_quarantine(store: Store, mode: Mode, problems: dict[str, quarantine.Problem]) -> None:
    """Record this refresh's problems; release every other conversation it computed
    (all of them in a full build, the scope's in an incremental one)."""
    quarantine.record(store, problems)
    quarantine.release_computed(
        store,
        scope=None if mode == "full" else SCOPE_TABLE,
        kept=EXCLUDED_TABLE if problems else None,
    )


def _bisect(store: Store, mode: Mode, *, excluding: bool) -> dict[str, quarantine.Problem]:
    """The conversations of the input whose facts fail, found by halving.

    Each trial runs every step on a slice of the conversations into scratch tables, so
    the fact tables are untouched until the culprits are known. One culprit among n
    costs about 2·log2(n) trials, most of them small. A failure that needs no
    conversation at all (a schedule that cannot be expanded, say) finds none.
    """
    plan = _plan_for(store) or _compile_plan(store, mode, excluding=excluding)
    base = _input_sql(mode, excluding=excluding)
    _drop_temp(store, SUSPECTS_TABLE)
    _temp_table(
        store,
        SUSPECTS_TABLE,
        "SELECT conversation_id, ROW_NUMBER() OVER (ORDER BY conversation_id) AS n FROM "
        f"(SELECT DISTINCT conversation_id FROM ({base}) AS i "
        "WHERE conversation_id IS NOT NULL) AS c",
    )
    total = store.count(SUSPECTS_TABLE)
    found: dict[str, quarantine.Problem] = {}
    try:
        if total == 0 or _trial(store, plan, base, 1, 1) is not None:
            return found
        failing = _trial(store, plan, base, 1, total + 1)
        pending = [] if failing is None else [(1, total + 1, failing)]
        while pending:
            low, high, error = pending.pop()
            if high - low == 1:
                found.update(_named(store, low, high, error))
                continue
            middle = (low + high) // 2
            halves = [(low, middle), (middle, high)]
            errors = [_trial(store, plan, base, a, b) for a, b in halves]
            if all(e is None for e in errors):
                # Fails only together (through a shared customer, say): keep them all.
                found.update(_named(store, low, high, error))
            pending.extend((a, b, e) for (a, b), e in zip(halves, errors, strict=True) if e)
    finally:
        _define_input(store, mode, excluding=excluding)  # first: the trial view reads...
        _drop_temp(store, SUSPECTS_TABLE)  # ...this table
    return found


def _named(
    store: Store, low: int, high: int, error: BaseException
) -> dict[str, quarantine.Problem]:
    rows = store.execute(
        f"SELECT conversation_id FROM {SUSPECTS_TABLE} WHERE n >= {low} AND n < {high}"
    )
    problem = quarantine.describe(error)
    return {str(row[0]): problem for row in rows}


def _trial(store: Store, plan: list[_Step], base: str, low: int, high: int) -> BaseException | None:
    """Run every step on the conversations numbered [low, high) into scratch tables;
    the data error raised, or None. Any other error propagates."""
    store.execute(f"DROP VIEW IF EXISTS {INPUT_VIEW}")
    store.execute(
        f"CREATE OR REPLACE TEMP VIEW {INPUT_VIEW} AS SELECT * FROM ({base}) AS i "
        f"WHERE conversation_id IN (SELECT conversation_id FROM {SUSPECTS_TABLE} "
        f"WHERE n >= {low} AND n < {high})"
    )
    try:
        _write_intervals(store)
        for step in plan:
            target = step.target if not step.final else _TRIAL + step.target
            _drop_temp(store, target)
            _temp_table(store, target, step.sql)
    except Exception as error:
        if not quarantine.is_data_error(error):
            raise
        return error
    finally:
        for step in plan:
            _drop_temp(store, step.target if not step.final else _TRIAL + step.target)
        _drop_intervals(store)
    return None


def _compile_plan(store: Store, mode: Mode, *, excluding: bool) -> list[_Step]:
    """The plan, compiled on an empty input (which cannot fail on data)."""
    store.execute(f"DROP VIEW IF EXISTS {INPUT_VIEW}")
    store.execute(
        f"CREATE OR REPLACE TEMP VIEW {INPUT_VIEW} AS SELECT * FROM {LIVE_EVENTS} WHERE 1 = 0"
    )
    try:
        _write_intervals(store)
        steps = _compile_and_run(store, mode, lambda _step: None, run_finals=False)
        for step in steps:
            if not step.final:
                _drop_temp(store, step.target)
        return steps
    finally:
        _drop_intervals(store)
        _define_input(store, mode, excluding=excluding)


def _input_sql(mode: Mode, *, excluding: bool) -> str:
    """What INPUT_VIEW holds, as a query (SCOPED_EVENTS is already less the excluded)."""
    if mode == "incremental":
        return f"SELECT * FROM {SCOPED_EVENTS}"
    if not excluding:
        return f"SELECT * FROM {LIVE_EVENTS}"
    return (
        f"SELECT * FROM {LIVE_EVENTS} WHERE conversation_id IS NULL OR conversation_id "
        f"NOT IN (SELECT conversation_id FROM {EXCLUDED_TABLE})"
    )


def _id_table(store: Store, name: str, ids: list[str]) -> None:
    """A temp table (Spark: temp view) of conversation ids."""
    if store.backend == "spark":
        from pyspark.sql import types as st

        schema = st.StructType([st.StructField("conversation_id", st.StringType())])
        frame = store.raw.createDataFrame([(i,) for i in ids], schema=schema)
        frame.localCheckpoint(eager=True).createOrReplaceTempView(name)
        return
    store.execute(f"CREATE TEMP TABLE {name} (conversation_id TEXT NOT NULL)")
    mark = "%s" if store.backend == "postgres" else "?"
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        values = ", ".join(f"({mark})" for _ in chunk)
        store.execute(f"INSERT INTO {name} (conversation_id) VALUES {values}", chunk)


def _drop_temp(store: Store, name: str) -> None:
    store.execute(f"DROP TABLE IF EXISTS {name}")


# -- business hours ----------------------------------------------------------------------


def _schedules_signature(store: Store) -> str:
    """Changes whenever a `business_hours.set` event is stored or retracted (events are
    never deleted, and their ids are unique)."""
    rows = store.execute(
        f"SELECT COUNT(*), MAX(id) FROM {LIVE_EVENTS} WHERE type = 'business_hours.set'"
    )
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
        f"SELECT id, type, inbox_id, occurred_at, schedule FROM {LIVE_EVENTS} "
        "WHERE type = 'business_hours.set'"
    )
    columns = ("id", "type", "inbox_id", "occurred_at", "schedule")
    schedules = schedules_from_events(dict(zip(columns, row, strict=True)) for row in rows)
    first, last = _span(store)
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


def _span(store: Store) -> tuple[Any, Any]:
    """The first and last moment of the input's conversation events: the days the
    intervals must cover (an agent or schedule event needs none)."""
    first, last = store.execute(
        f"SELECT MIN(occurred_at), MAX(occurred_at) FROM {INPUT_VIEW} "
        "WHERE conversation_id IS NOT NULL"
    )[0]
    return first, last


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


def _compile_and_run(
    store: Store, mode: Mode, say: Callable[[str], None], *, run_finals: bool = True
) -> list[_Step]:
    """Run the Ibis expressions once, recording each step's SQL for later refreshes.

    Without `run_finals` the fact tables are only compiled (nothing reads them back).
    """
    con = store.con
    steps: list[_Step] = []

    def run(target: str, expression: ir.Table, *, final: bool) -> ir.Table:
        say(target.removeprefix(_STAGE).replace("_", " "))
        step = _Step(target=target, sql=str(con.compile(expression)), final=final)
        steps.append(step)
        if final and not run_finals:
            return expression
        _execute_step(store, step, mode)
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
