"""Conversations whose facts fail to compute: kept out of the facts, with the reason.

One bad conversation must never stop the facts of all the others (DESIGN.md, principle
4). When a refresh fails for a reason tied to the data (a value out of range, a sum
that overflows its column, a date that cannot be represented) rather than to the
database itself (a lost connection, a full disk), the builder finds the conversations
responsible (facts/build.py), records them here and finishes the refresh without them.

A quarantined conversation stays out until an event to it arrives (a correcting event
or a retraction): the next refresh retries it, and it leaves quarantine when its facts
compute. `deskpulse rebuild` retries every one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from deskpulse import clock
from deskpulse.events.store import Store

TABLE = "quarantined_conversations"
MAX_ERROR = 4_000  # characters of the database's message kept for the admin


@dataclass(frozen=True)
class Problem:
    """Why one conversation's facts cannot be computed."""

    reason: str  # one line a support lead can act on
    error: str | None = None  # the error as raised, for whoever debugs it


def is_data_error(error: BaseException) -> bool:
    """Whether `error` comes from the data (quarantine) rather than from the database
    or the machine (fail the refresh: the dirty marks stay for the next one)."""
    if isinstance(error, ArithmeticError | ValueError):
        # OverflowError from date arithmetic, our own checks' ValueError.
        return True
    names = {cls.__name__ for cls in type(error).__mro__}
    module = type(error).__module__
    if module.startswith(("duckdb", "_duckdb", "psycopg")):
        # DuckDB: ConversionException, OutOfRangeException, ... PostgreSQL: SQLSTATE
        # class 22 (numeric_value_out_of_range, datetime_field_overflow, ...).
        return "DataError" in names
    if module.startswith("pyspark"):
        return bool(names & {"ArithmeticException", "DateTimeException", "NumberFormatException"})
    return False


def describe(error: BaseException) -> Problem:
    """The error as a Problem: its first line as the reason, the whole as the error."""
    text = str(error).strip() or type(error).__name__
    first = text.splitlines()[0].strip()
    return Problem(
        reason=f"its facts cannot be computed: {first}"[:500],
        error=f"{type(error).__name__}: {text}"[:MAX_ERROR],
    )


def quarantined(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    """The quarantined conversations, the most recently failed first."""
    rows = store.execute(
        "SELECT conversation_id, reason, error, first_seen_at, last_seen_at "
        f"FROM {TABLE} ORDER BY last_seen_at DESC, conversation_id LIMIT {int(limit)}"
    )
    keys = ("conversation_id", "reason", "error", "first_seen_at", "last_seen_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def quarantined_count(store: Store) -> int:
    return store.count(TABLE)


def record(store: Store, problems: Mapping[str, Problem]) -> None:
    """Put these conversations in quarantine (again), keeping when each was first seen."""
    if not problems:
        return
    mark = "%s" if store.backend == "postgres" else "?"
    ids = sorted(problems)
    first_seen: dict[str, datetime] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join([mark] * len(chunk))
        for conversation_id, seen in store.execute(
            f"SELECT conversation_id, first_seen_at FROM {TABLE} "
            f"WHERE conversation_id IN ({marks})",
            chunk,
        ):
            first_seen[str(conversation_id)] = seen
    now = clock.now_naive_utc()
    rows = [(i, problems[i].reason, problems[i].error, first_seen.get(i, now), now) for i in ids]
    release(store, ids)
    values = ", ".join([f"({', '.join([mark] * 5)})"] * len(rows))
    flat = [value for row in rows for value in row]
    store.execute(
        f"INSERT INTO {TABLE} (conversation_id, reason, error, first_seen_at, last_seen_at) "
        f"VALUES {values}",
        flat,
    )


def release(store: Store, conversation_ids: list[str]) -> None:
    """Take these conversations out of quarantine (their facts computed)."""
    if not conversation_ids:
        return
    mark = "%s" if store.backend == "postgres" else "?"
    if store.backend == "spark":
        keep = ", ".join([mark] * len(conversation_ids))
        _spark_rewrite(store, f"conversation_id NOT IN ({keep})", conversation_ids)
        return
    for start in range(0, len(conversation_ids), 500):
        chunk = conversation_ids[start : start + 500]
        marks = ", ".join([mark] * len(chunk))
        store.execute(f"DELETE FROM {TABLE} WHERE conversation_id IN ({marks})", chunk)


def release_computed(store: Store, *, scope: str | None, kept: str | None) -> None:
    """Release the conversations a refresh computed: those in the table `scope` (every
    one when None) except those in the table `kept` (this refresh's culprits)."""
    conditions = []
    if scope is not None:
        conditions.append(f"conversation_id IN (SELECT conversation_id FROM {scope})")
    if kept is not None:
        conditions.append(f"conversation_id NOT IN (SELECT conversation_id FROM {kept})")
    condition = " AND ".join(conditions) or "1 = 1"
    if store.backend == "spark":
        _spark_rewrite(store, f"NOT ({condition})", [])
        return
    store.execute(f"DELETE FROM {TABLE} WHERE {condition}")


def _spark_rewrite(store: Store, keep_where: str, params: list[Any]) -> None:
    """Spark's Parquet tables cannot DELETE: write the rows kept, then swap names."""
    spark = store.raw
    spark.sql(f"DROP TABLE IF EXISTS {TABLE}__next")
    spark.sql(f"CREATE TABLE {TABLE}__next LIKE {TABLE}")
    select = f"INSERT INTO {TABLE}__next SELECT * FROM {TABLE} WHERE {keep_where}"
    spark.sql(select, args=params) if params else spark.sql(select)
    spark.sql(f"ALTER TABLE {TABLE} RENAME TO {TABLE}__old")
    spark.sql(f"ALTER TABLE {TABLE}__next RENAME TO {TABLE}")
    spark.sql(f"DROP TABLE {TABLE}__old")
