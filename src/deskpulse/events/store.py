"""Where events live: DuckDB (default), PostgreSQL or Spark, through Ibis.

Reads (facts, metrics) go through Ibis expressions so they run unchanged on every
backend. The write path is backend-specific SQL because it needs what Ibis does not
express: an atomic "insert the ids we have not seen, and mark their conversations
dirty" in one transaction. Raw events are append-only: nothing here updates or
deletes an event. Spark has no transactions: its write path (events/spark.py) orders
its writes instead, so a crash can only leave conversations marked dirty.

Concurrency is designed here, once, so that any number of threads (the server's
request threads, the scheduler, a CLI's progress thread) get exactly the answers they
would get one at a time:

- every thread has its own connection to the one database: a DuckDB cursor of the
  one database file, a PostgreSQL connection of its own (one per thread: a pool sized
  by the server's threads), a Spark session of its own on the one SparkContext. A
  result being read on one thread can never be consumed or closed by another;
- writers (ingest, rejections, the facts refresh, scoring) go through `writing()`:
  one at a time per process (and, on PostgreSQL, per database, with an advisory lock),
  inside one transaction, so a reader sees the facts as they were before a refresh or
  after it, never half-way;
- readers take no lock at all: DuckDB and PostgreSQL give each statement a consistent
  snapshot.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import numpy as np
import pyarrow as pa
from ibis.backends import BaseBackend

from deskpulse import clock
from deskpulse.events.columns import (
    ADDED_COLUMNS,
    COLUMNS,
    EVENT_SCHEMA,
    LIVE_EVENTS,
    LIVE_EVENTS_SQL,
)
from deskpulse.settings import Settings

BackendName = Literal["duckdb", "postgres", "spark"]

# One DDL text for both backends: DuckDB accepts the PostgreSQL spellings used here.
_SQL_TYPES = {
    pa.string(): "TEXT",
    pa.timestamp("us"): "TIMESTAMP",
    pa.list_(pa.string()): "TEXT[]",
    pa.float64(): "DOUBLE PRECISION",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.decimal128(18, 6): "NUMERIC(18, 6)",
    pa.bool_(): "BOOLEAN",
}

MAX_RAW_KEPT = 65_536  # characters of a rejected event's text kept for the admin to read
_REJECTED_SCHEMA = pa.schema(
    [
        ("received_at", pa.timestamp("us")),
        ("source", pa.string()),
        ("position", pa.int64()),
        ("event_id", pa.string()),
        ("type", pa.string()),
        ("field", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)


def _events_ddl(primary_key: bool) -> str:
    columns = []
    for column in EVENT_SCHEMA:
        sql = f"{column.name} {_SQL_TYPES[column.type]}"
        if not column.nullable:
            sql += " NOT NULL"
        if primary_key and column.name == "id":
            sql += " PRIMARY KEY"
        columns.append(sql)
    return f"CREATE TABLE IF NOT EXISTS events ({', '.join(columns)})"


_SUPPORT_DDL = (
    """CREATE TABLE IF NOT EXISTS rejected_events (
        received_at TIMESTAMP NOT NULL,
        source TEXT NOT NULL,
        position BIGINT,
        event_id TEXT,
        type TEXT,
        field TEXT,
        reason TEXT NOT NULL,
        raw TEXT
    )""",
    # Conversations whose facts are stale: filled in the same transaction as the
    # events that touch them, emptied by the facts builder once it has caught up.
    "CREATE TABLE IF NOT EXISTS dirty_conversations (conversation_id TEXT NOT NULL)",
    # Conversations whose facts failed to compute, left out of the facts until an event
    # to them computes (facts/quarantine.py).
    """CREATE TABLE IF NOT EXISTS quarantined_conversations (
        conversation_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        error TEXT,
        first_seen_at TIMESTAMP NOT NULL,
        last_seen_at TIMESTAMP NOT NULL
    )""",
)


@dataclass(frozen=True)
class AppendResult:
    accepted: int
    duplicates: int
    # Positions (0-based, in the table given to append) of rows already stored or
    # repeated earlier in the same table.
    duplicate_positions: tuple[int, ...] = ()


@dataclass(frozen=True)
class RejectedRecord:
    source: str
    position: int | None
    event_id: str | None
    type: str | None
    field: str | None
    reason: str
    raw: str | None


# Any 64-bit number, the same in every deskpulse process: PostgreSQL's advisory lock
# that makes writers of several servers and CLIs on one database take turns.
_POSTGRES_WRITE_LOCK = 0x6465736B70756C73  # "deskpuls"


class _ThreadConnection:
    """One thread's connection: the Ibis backend and the driver object under it."""

    def __init__(self, con: BaseBackend, backend: BackendName) -> None:
        self.con = con
        self.backend: BackendName = backend
        self.closed = False
        self.writing_depth = 0

    @property
    def raw(self) -> Any:
        if self.backend == "spark":
            return _spark().session_of(self.con)
        return self.con.con

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.backend == "spark":
            return  # sessions share the one SparkContext: nothing to release per thread
        # Already gone with its database: nothing left to free.
        with contextlib.suppress(Exception):
            self.raw.close()


class Store:
    """The event store of one install. Safe for any number of threads of one process:
    each thread reads through its own connection, writers take turns (module docstring)."""

    def __init__(
        self,
        backend: BackendName,
        settings: Settings,
        primary: BaseBackend,
        connect: Callable[[], BaseBackend],
        close_primary: Callable[[], None],
    ) -> None:
        self.backend: BackendName = backend
        self.settings = settings
        self._connect = connect
        self._close_primary = close_primary
        self._local = threading.local()
        self._connections: set[_ThreadConnection] = set()
        self._connections_lock = threading.Lock()  # guards the set above, nothing else
        # One writer at a time in this process (re-entrant: a refresh writes agents too).
        self._write_lock = threading.RLock()
        self._closed = False
        self._adopt(primary)
        # Set by facts.build.facts_exist once the fact tables are there.
        self.facts_ready = False
        self._create_tables()

    # -- connections --------------------------------------------------------------------

    def _adopt(self, con: BaseBackend) -> _ThreadConnection:
        connection = _ThreadConnection(con, self.backend)
        if self.backend == "duckdb":
            # Our commands draw their own progress bars; DuckDB's would garble them.
            connection.raw.execute("SET enable_progress_bar = false")
        with self._connections_lock:
            self._connections.add(connection)
        self._local.connection = connection
        # Closed with its thread (or with the store, whichever comes first), so threads
        # that come and go do not leave connections behind.
        weakref.finalize(threading.current_thread(), self._release, connection)
        return connection

    def _release(self, connection: _ThreadConnection) -> None:
        with self._connections_lock:
            self._connections.discard(connection)
        connection.close()

    def _thread_connection(self) -> _ThreadConnection:
        connection: _ThreadConnection | None = getattr(self._local, "connection", None)
        if connection is not None and not connection.closed:
            return connection
        if self._closed:
            raise RuntimeError("the event store is closed")
        return self._adopt(self._connect())

    @property
    def con(self) -> BaseBackend:
        """This thread's Ibis connection."""
        return self._thread_connection().con

    @property
    def raw(self) -> Any:
        """This thread's driver connection under Ibis (a duckdb cursor or a psycopg
        connection), or its SparkSession."""
        return self._thread_connection().raw

    # -- schema -------------------------------------------------------------------------

    def _create_tables(self) -> None:
        with self.writing():
            if self.backend == "spark":
                _spark().create_tables(self.raw)
                return
            if self.backend == "duckdb":
                # Row order of a table never matters here (every read sorts or
                # aggregates); not keeping it lets big fact builds stream and spill.
                self.execute("SET preserve_insertion_order = false")
                if self.settings.duckdb_memory_limit:
                    # Caps the buffer pool (what a long-running server keeps resident);
                    # big queries spill to the data folder instead.
                    self.execute(f"SET memory_limit = '{self.settings.duckdb_memory_limit}'")
                    self.execute(f"SET temp_directory = '{self.settings.data_dir / 'tmp'}'")
            self.execute(_events_ddl(primary_key=self.backend == "postgres"))
            self._add_columns()
            for ddl in _SUPPORT_DDL:
                self.execute(ddl)
            if self.backend == "postgres":
                self.execute(
                    "CREATE INDEX IF NOT EXISTS events_conversation ON events (conversation_id)"
                )
                # Tiny (tombstones only): what the live_events anti-join probes.
                self.execute(
                    "CREATE INDEX IF NOT EXISTS events_retracted ON events (event_id) "
                    "WHERE event_id IS NOT NULL"
                )
            self._create_live_view()

    def _add_columns(self) -> None:
        """Give an events table made by an older version the columns added since."""
        found = {
            str(row[0])
            for row in self.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'events' AND table_schema = current_schema()"
            )
        }
        types = {f.name: _SQL_TYPES[f.type] for f in EVENT_SCHEMA}
        for name in ADDED_COLUMNS:
            if name not in found:
                self.execute(f"ALTER TABLE events ADD COLUMN {name} {types[name]}")

    def _create_live_view(self) -> None:
        if self.backend == "duckdb":
            self.execute(f"CREATE VIEW IF NOT EXISTS {LIVE_EVENTS} AS {LIVE_EVENTS_SQL}")
            return
        # PostgreSQL has no CREATE VIEW IF NOT EXISTS; replacing on every open would
        # take a lock each time another process opens the store.
        exists = self.execute("SELECT 1 FROM pg_views WHERE viewname = %s", [LIVE_EVENTS])
        if not exists:
            self.execute(f"CREATE OR REPLACE VIEW {LIVE_EVENTS} AS {LIVE_EVENTS_SQL}")

    # -- raw access ---------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement on this thread's connection (inside the current `writing()`
        transaction, if any). A write must be inside `writing()`."""
        raw = self.raw
        if self.backend == "duckdb":
            return list(raw.execute(sql, params or []).fetchall())
        if self.backend == "spark":
            rows: list[tuple[Any, ...]] = _spark().execute(raw, sql, params)
            return rows
        with raw.cursor() as cursor:
            cursor.execute(sql, params or None)
            return list(cursor.fetchall()) if cursor.description else []

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Write as the one writer, in one transaction on this thread's connection:
        committed when the block ends, rolled back if it raises. Nested blocks join the
        outer transaction. Spark has no transactions: there it only takes turns."""
        connection = self._thread_connection()
        with self._write_lock:
            if connection.writing_depth:
                connection.writing_depth += 1
                try:
                    yield
                finally:
                    connection.writing_depth -= 1
                return
            connection.writing_depth = 1
            try:
                if self.backend == "duckdb":
                    with _duckdb_transaction(connection.raw):
                        yield
                elif self.backend == "postgres":
                    with connection.raw.transaction(), connection.raw.cursor() as cursor:
                        # Servers and CLIs of other processes on this database wait here.
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_POSTGRES_WRITE_LOCK])
                        yield
                else:
                    yield
            finally:
                connection.writing_depth = 0

    @contextmanager
    def write_turn(self) -> Iterator[None]:
        """Be the one writer across several transactions (each a `writing()` block), with
        work outside any transaction between them, e.g. the facts refresh's search for
        the conversations that make it fail: a failed statement ends a transaction, so
        that search runs in autocommit on temp tables while other writers still wait."""
        with self._write_lock:
            if self.backend != "postgres" or self.writing_here():
                yield
                return
            # A session lock, held across this connection's transactions (the xact lock
            # that `writing()` takes on the same key is then granted at once).
            self.execute("SELECT pg_advisory_lock(%s)", [_POSTGRES_WRITE_LOCK])
            try:
                yield
            finally:
                self.execute("SELECT pg_advisory_unlock(%s)", [_POSTGRES_WRITE_LOCK])

    def writing_here(self) -> bool:
        """Whether this thread is inside `writing()` (what it sees is not committed yet)."""
        connection: _ThreadConnection | None = getattr(self._local, "connection", None)
        return connection is not None and connection.writing_depth > 0

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside `writing()`'s transaction."""
        with self.writing():
            if self.backend == "postgres":
                with self.raw.cursor() as cursor:
                    yield cursor
            else:
                yield self.raw

    # -- writes -------------------------------------------------------------------------

    def append(self, table: pa.Table) -> AppendResult:
        """Store the rows whose id is new; durable when this returns.

        Within `table` the first row with an id wins; a row whose id is already stored
        is a duplicate. Only the stored rows mark their conversations dirty.
        """
        if table.num_rows == 0:
            return AppendResult(accepted=0, duplicates=0)
        table = table.select(list(COLUMNS)).cast(EVENT_SCHEMA)
        table = table.append_column("_position", pa.array(range(table.num_rows), pa.int64()))
        if self.backend == "duckdb":
            stored_positions = self._append_duckdb(table)
        elif self.backend == "spark":
            with self.writing():
                stored_positions = _spark().append(self.raw, table)
        else:
            stored_positions = self._append_postgres(table)
        stored = set(stored_positions)
        duplicates = tuple(p for p in range(table.num_rows) if p not in stored)
        return AppendResult(
            accepted=len(stored), duplicates=len(duplicates), duplicate_positions=duplicates
        )

    def _append_duckdb(self, table: pa.Table) -> list[int]:
        columns = ", ".join(COLUMNS)
        with self.transaction() as cursor:
            # Deduplicate on the narrow (id, _position) pair, then insert the wide rows
            # once: a window and a temp copy over all 41 columns cost more than the insert.
            cursor.register("incoming_ids", table.select(["id", "_position"]))
            try:
                found = cursor.execute(
                    """SELECT min(_position) AS _position FROM incoming_ids AS candidate
                       WHERE NOT EXISTS (
                           SELECT 1 FROM events AS stored WHERE stored.id = candidate.id
                       )
                       GROUP BY id"""
                ).fetchnumpy()["_position"]
            finally:
                cursor.unregister("incoming_ids")
            positions = np.sort(np.asarray(found, dtype=np.int64))
            fresh = table if len(positions) == table.num_rows else table.take(positions)
            cursor.register("fresh", fresh)
            try:
                cursor.execute(
                    f"INSERT INTO events ({columns}) SELECT {columns} FROM fresh"
                ).fetchall()
                cursor.execute(
                    "INSERT INTO dirty_conversations SELECT DISTINCT conversation_id "
                    "FROM fresh WHERE conversation_id IS NOT NULL"
                ).fetchall()
            finally:
                cursor.unregister("fresh")
        return [int(p) for p in positions]

    def _append_postgres(self, table: pa.Table) -> list[int]:
        columns = ", ".join(COLUMNS)
        names = [*COLUMNS, "_position"]
        with self.transaction() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE incoming (LIKE events INCLUDING DEFAULTS, _position BIGINT)"
                " ON COMMIT DROP"
            )
            # The primary key of events is not copied by LIKE, so repeats inside one
            # batch land in the staging table and are sorted out below.
            with cursor.copy(f"COPY incoming ({', '.join(names)}) FROM STDIN") as copy:
                for row in table.to_pylist():
                    copy.write_row([row[name] for name in names])
            cursor.execute(
                f"""WITH first_of_id AS (
                        SELECT DISTINCT ON (id) * FROM incoming ORDER BY id, _position
                    ), stored AS (
                        INSERT INTO events ({columns})
                        SELECT {columns} FROM first_of_id
                        ON CONFLICT (id) DO NOTHING
                        RETURNING id, conversation_id
                    ), dirty AS (
                        INSERT INTO dirty_conversations
                        SELECT DISTINCT conversation_id FROM stored
                        WHERE conversation_id IS NOT NULL
                    )
                    SELECT f._position FROM first_of_id AS f JOIN stored USING (id)"""
            )
            return [row[0] for row in cursor.fetchall()]

    def reject(self, records: Sequence[RejectedRecord]) -> None:
        """Keep refused events, with their reason, where an admin can list them."""
        if not records:
            return
        now = clock.now_naive_utc()
        rows = [
            (
                now,
                r.source,
                r.position,
                r.event_id,
                r.type,
                r.field,
                r.reason,
                None if r.raw is None else r.raw[:MAX_RAW_KEPT],
            )
            for r in records
        ]
        if self.backend == "spark":
            with self.writing():
                _spark().insert_rows(self.raw, rows)
            return
        # Set-based inserts: executemany goes row by row (about 1 ms a row on DuckDB).
        names = ", ".join(_REJECTED_SCHEMA.names)
        with self.transaction() as cursor:
            if self.backend == "postgres":
                with cursor.copy(f"COPY rejected_events ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            refused = pa.Table.from_pylist(
                [dict(zip(_REJECTED_SCHEMA.names, row, strict=True)) for row in rows],
                schema=_REJECTED_SCHEMA,
            )
            cursor.register("refused", refused)
            try:
                cursor.execute(
                    f"INSERT INTO rejected_events ({names}) SELECT * FROM refused"
                ).fetchall()
            finally:
                cursor.unregister("refused")

    # -- reads --------------------------------------------------------------------------

    def rejected(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        mark = "?" if self.backend == "duckdb" else "%s"
        select = (
            "SELECT received_at, source, position, event_id, type, field, reason, raw "
            "FROM rejected_events ORDER BY received_at DESC, source, position "
        )
        if self.backend == "spark":  # Spark takes no parameter markers in LIMIT
            rows = self.execute(f"{select}LIMIT {int(limit)} OFFSET {int(offset)}")
        else:
            rows = self.execute(f"{select}LIMIT {mark} OFFSET {mark}", [limit, offset])
        keys = ("received_at", "source", "position", "event_id", "type", "field", "reason", "raw")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def count(self, table: str) -> int:
        return int(self.execute(f"SELECT count(*) FROM {table}")[0][0])

    def events(self) -> ibis.Table:
        """The live events: what facts, models and analyses read (retracted ones left out)."""
        return self.con.table(LIVE_EVENTS)

    def all_events(self) -> ibis.Table:
        """Every stored event, retracted ones and tombstones included (the audit trail)."""
        return self.con.table("events")

    def close(self) -> None:
        """Close every thread's connection and the database; the store is done after."""
        with self._write_lock:
            self._closed = True
            with self._connections_lock:
                connections, self._connections = list(self._connections), set()
            for connection in connections:
                connection.close()
            self._close_primary()


@contextmanager
def _duckdb_transaction(cursor: Any) -> Iterator[None]:
    cursor.execute("BEGIN TRANSACTION").fetchall()
    try:
        yield
    except BaseException:
        cursor.execute("ROLLBACK").fetchall()
        raise
    cursor.execute("COMMIT").fetchall()


def _spark() -> Any:
    """The Spark write path, imported only when used: pyspark is an optional extra."""
    from deskpulse.events import spark

    return spark


def open_store(settings: Settings) -> Store:
    """Connect to the install's backend, creating its tables on first use."""
    url = settings.backend_url
    if url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return _open_duckdb(settings)
    if url.startswith(("postgresql://", "postgres://")):
        return _open_postgres(settings, url)
    if url.startswith("spark://"):
        spark_con = _spark().connect(settings, url)
        try:
            return Store(
                "spark",
                settings,
                spark_con,
                lambda: _spark().thread_connection(spark_con, settings),
                # Other stores of this process share the JVM: stop it only with the last.
                _spark().release,
            )
        except BaseException:
            _spark().release()
            raise
    raise ValueError(
        f"DESKPULSE_BACKEND={url!r} is not supported: use postgresql://…, spark://local[N] "
        "or leave it unset for the embedded DuckDB file"
    )


def _open_duckdb(settings: Settings) -> Store:
    import duckdb

    database = duckdb.connect(str(settings.duckdb_path))
    # Creating a cursor is not documented as thread-safe: only this takes turns.
    opening = threading.Lock()

    def connect() -> BaseBackend:
        with opening:
            cursor = database.cursor()
        return ibis.duckdb.from_connection(cursor)

    try:
        return Store("duckdb", settings, connect(), connect, database.close)
    except BaseException:
        database.close()
        raise


def _open_postgres(settings: Settings, url: str) -> Store:
    import psycopg

    conninfo = url.replace("postgres://", "postgresql://", 1)

    def connect() -> BaseBackend:
        # Autocommit: a statement outside `writing()` commits on its own; writing()
        # opens a transaction explicitly.
        return ibis.postgres.from_connection(psycopg.connect(conninfo, autocommit=True))

    return Store("postgres", settings, connect(), connect, lambda: None)
