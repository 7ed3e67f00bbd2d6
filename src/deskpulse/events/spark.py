"""Apache Spark as the store's backend: `DESKPULSE_BACKEND=spark://local[2]`.

What differs from DuckDB and PostgreSQL, and why:

- Tables are Parquet tables in a Hive-style catalog (an embedded Derby metastore in
  `<data dir>/spark-metastore`), so they outlive the process; their files live under
  `<data dir>/spark-warehouse`. One JVM per process: every store opened in a process
  shares one SparkContext and catalog, each through its own SparkSession
  (`newSession()`), so temp views and the current database are per store.
- Times are `TIMESTAMP_NTZ` (`spark.sql.timestampType`), session time zone UTC: the
  naive-UTC convention of the other backends, and the driver hands back the same naive
  datetimes whatever the Python process' local zone is.
- ANSI mode with double-quoted identifiers, so the hand-written SQL shared with the
  other backends (`"column"`, `'text'`) means the same thing here.
- Spark has no transactions. Every write sequence is ordered so that a crash at any
  point leaves at worst conversations marked dirty with nothing new to recompute: the
  dirty mark is written before the events, facts are swapped in before the marks are
  cleared, and a half-done swap is repaired when the store is opened again.
- Plain Parquet tables cannot DELETE: rows are removed by writing the kept rows to a
  new table and swapping names (`rewrite_without`).
- Spark reads `1.0` as DECIMAL(2,1), so `AVG(IF(c, 1.0, 0.0))` would round rates to
  five decimals; the Ibis compiler of our connections writes float literals as DOUBLE
  (`_Compiler`), which keeps the metric expressions the same on every backend.

Tested in local mode only (`spark://local`, `spark://local[N]`); another master URL
(`spark://host:7077`) is passed to Spark as is.
"""

from __future__ import annotations

import math
import os
import shutil
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
from ibis.backends import BaseBackend
from ibis.backends.sql.compilers.pyspark import PySparkCompiler
from pyspark import SparkContext
from pyspark.sql import SparkSession
from pyspark.sql import types as st

from deskpulse.events.columns import ADDED_COLUMNS, EVENT_SCHEMA, LIVE_EVENTS, LIVE_EVENTS_SQL
from deskpulse.settings import Settings

URL_PREFIX = "spark://"
DEFAULT_DATABASE = "deskpulse"

# Table names a store writes besides its own tables, swapped in and out (see above).
NEXT_SUFFIX = "__next"
OLD_SUFFIX = "__old"
DIRTY = "dirty_conversations"

_SPARK_TYPES: dict[pa.DataType, tuple[str, st.DataType]] = {
    pa.string(): ("STRING", st.StringType()),
    pa.timestamp("us"): ("TIMESTAMP_NTZ", st.TimestampNTZType()),
    pa.list_(pa.string()): ("ARRAY<STRING>", st.ArrayType(st.StringType())),
    pa.float64(): ("DOUBLE", st.DoubleType()),
    pa.int32(): ("INT", st.IntegerType()),
    pa.int64(): ("BIGINT", st.LongType()),
    pa.decimal128(18, 6): ("DECIMAL(18, 6)", st.DecimalType(18, 6)),
    pa.bool_(): ("BOOLEAN", st.BooleanType()),
}

EVENT_STRUCT = st.StructType(
    [st.StructField(f.name, _SPARK_TYPES[f.type][1], nullable=True) for f in EVENT_SCHEMA]
)

_REJECTED_STRUCT = st.StructType(
    [
        st.StructField("received_at", st.TimestampNTZType()),
        st.StructField("source", st.StringType()),
        st.StructField("position", st.LongType()),
        st.StructField("event_id", st.StringType()),
        st.StructField("type", st.StringType()),
        st.StructField("field", st.StringType()),
        st.StructField("reason", st.StringType()),
        st.StructField("raw", st.StringType()),
    ]
)

# Set on every store's session: what the shared SQL and the facts rely on.
_SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",
    "spark.sql.shuffle.partitions": "4",
    # CREATE TABLE without USING makes a Parquet table, not a Hive text table.
    "spark.sql.legacy.createHiveTableByDefault": "false",
    "spark.sql.sources.default": "parquet",
}

_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""

_LOCK = threading.Lock()
_users = 0  # open stores (and holds) on the context this module started
_started_here = False


def parse_url(url: str) -> tuple[str, str]:
    """(Spark master, database) of `spark://local[2]` or `spark://local[2]/database`."""
    rest = url.removeprefix(URL_PREFIX)
    master, _, database = rest.partition("/")
    database = unquote(database.strip("/")) or DEFAULT_DATABASE
    if not master:
        raise ValueError(f"DESKPULSE_BACKEND={url!r} names no Spark master (spark://local[2])")
    if not database.replace("_", "").isalnum():
        raise ValueError(f"DESKPULSE_BACKEND={url!r}: database names are letters, digits and _")
    if not master.startswith("local"):
        master = URL_PREFIX + master
    return master, database.lower()


def session(settings: Settings, master: str) -> SparkSession:
    """The process' Spark session, started on first use; call `release()` once per call."""
    global _users, _started_here
    with _LOCK:
        if SparkContext._active_spark_context is None:
            _start(settings, master)
            _started_here = True
        _users += 1
        found = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
        return found


def release() -> None:
    """Forget one `session()` call; stops Spark once none is left, if it started it."""
    global _users, _started_here
    with _LOCK:
        _users = max(0, _users - 1)
        context = SparkContext._active_spark_context
        if _users == 0 and _started_here and context is not None:
            SparkSession.builder.getOrCreate().stop()
            _started_here = False


def _start(settings: Settings, master: str) -> None:
    data = settings.data_dir.resolve()
    data.mkdir(parents=True, exist_ok=True)
    log4j = data / "spark-log4j2.properties"
    log4j.write_text(_LOG4J)
    if master.startswith("local"):
        # Local mode needs no network address; this also silences a start-up warning.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    metastore = data / "spark-metastore"
    builder = (
        SparkSession.builder.master(master)
        .appName("deskpulse")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", str(data / "spark-warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={metastore};create=true",
        )
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dderby.system.home={data} -Dlog4j2.configurationFile=file:{log4j}",
        )
    )
    for key, value in _SESSION_CONF.items():
        builder = builder.config(key, value)
    for key, value in _extra_conf(settings):
        builder = builder.config(key, value)
    started = builder.enableHiveSupport().getOrCreate()
    started.sparkContext.setLogLevel("ERROR")


class _Compiler(PySparkCompiler):  # type: ignore[misc]
    """Ibis' Spark SQL, with float literals typed DOUBLE (Spark reads 1.0 as a decimal)."""

    def visit_NonNullLiteral(self, op: Any, *, value: Any, dtype: dt.DataType) -> Any:  # noqa: N802
        if dtype.is_floating() and math.isfinite(value):
            return self.cast(float(value), dt.float64)
        return super().visit_NonNullLiteral(op, value=value, dtype=dtype)


def _extra_conf(settings: Settings) -> list[tuple[str, str]]:
    """Spark settings of the install (`spark.driver.memory`, …), over the defaults."""
    return [(key, value) for key, value in settings.extra.items() if key.startswith("spark.")]


def connect(settings: Settings, url: str) -> BaseBackend:
    """An Ibis connection on a new session of the process' Spark, in the URL's database."""
    master, database = parse_url(url)
    shared = session(settings, master)
    try:
        own = _configured_session(shared, settings)
        location = settings.data_dir.resolve() / "spark-warehouse" / f"{database}.db"
        own.sql(f"CREATE DATABASE IF NOT EXISTS {database} LOCATION '{location.as_uri()}'")
        own.catalog.setCurrentDatabase(database)
        return _ibis(own)
    except BaseException:
        release()
        raise


def thread_connection(primary: BaseBackend, settings: Settings) -> BaseBackend:
    """Another session of the same Spark and database, for one more thread of this
    process: jobs from several threads run side by side on the one SparkContext, and
    each thread's temp views and settings stay its own."""
    first = session_of(primary)
    own = _configured_session(first, settings)
    own.catalog.setCurrentDatabase(first.catalog.currentDatabase())
    return _ibis(own)


def _configured_session(shared: SparkSession, settings: Settings) -> SparkSession:
    own = shared.newSession()
    for key, value in [*_SESSION_CONF.items(), *_extra_conf(settings)]:
        if own.conf.isModifiable(key):
            own.conf.set(key, value)
    return own


def _ibis(own: SparkSession) -> BaseBackend:
    con = ibis.pyspark.connect(own)
    con.compiler = _Compiler()
    return con


def session_of(con: BaseBackend) -> SparkSession:
    found: SparkSession = con._session
    return found


def execute(
    spark: SparkSession, sql: str, params: Sequence[Any] | None = None
) -> list[tuple[Any, ...]]:
    frame = spark.sql(sql, args=list(params)) if params else spark.sql(sql)
    if not frame.columns:  # DDL and INSERT run eagerly and have nothing to collect
        return []
    return [tuple(row) for row in frame.collect()]


def temp_table(spark: SparkSession, name: str, select: str) -> None:
    """What `CREATE TEMP TABLE name AS select` does elsewhere: a session-local snapshot.

    A checkpointed temp view, not a cached one: a view keeps its whole query plan, so
    each stage built on earlier stages would carry (and re-analyse) all of theirs, and
    a cache may be recomputed from that plan after the tables under it changed.
    """
    spark.sql(select).localCheckpoint(eager=True).createOrReplaceTempView(name)


# -- writes ----------------------------------------------------------------------------


def append(spark: SparkSession, table: pa.Table) -> list[int]:
    """Store the rows of `table` (event columns plus `_position`) whose id is new.

    Dedupe happens before anything is written: the first row of each id in the batch
    (in Arrow), anti-joined in Spark against the stored ids. Then the dirty marks are
    written, then the events: a crash between the two leaves conversations dirty with
    no new event, which a refresh recomputes to the same facts.
    """
    ids = table.select(["id", "_position"])
    first = ids.group_by("id", use_threads=False).aggregate([("_position", "min")])
    first = first.select(["id", "_position_min"]).rename_columns(["id", "_position"])
    view = f"deskpulse_incoming_{uuid.uuid4().hex[:8]}"
    spark.createDataFrame(
        first,
        schema=st.StructType(
            [st.StructField("id", st.StringType()), st.StructField("_position", st.LongType())]
        ),
    ).createOrReplaceTempView(view)
    try:
        found = spark.sql(
            f"SELECT c._position FROM {view} AS c LEFT ANTI JOIN events AS e ON c.id = e.id"
        ).collect()
        positions = sorted(int(row[0]) for row in found)
        if not positions:
            return []
        fresh = table.take(pa.array(positions, pa.int64())).drop_columns(["_position"])
        spark.createDataFrame(fresh, schema=EVENT_STRUCT).createOrReplaceTempView(view)
        spark.sql(
            f"INSERT INTO {DIRTY} SELECT DISTINCT conversation_id FROM {view} "
            "WHERE conversation_id IS NOT NULL"
        )
        columns = ", ".join(EVENT_SCHEMA.names)
        spark.sql(f"INSERT INTO events ({columns}) SELECT {columns} FROM {view}")
        return positions
    finally:
        spark.catalog.dropTempView(view)


def insert_rows(spark: SparkSession, rows: list[tuple[Any, ...]]) -> None:
    """Append rejected events (rows in `rejected_events` column order)."""
    view = f"deskpulse_rejected_{uuid.uuid4().hex[:8]}"
    spark.createDataFrame(rows, schema=_REJECTED_STRUCT).createOrReplaceTempView(view)
    try:
        spark.sql(f"INSERT INTO rejected_events SELECT * FROM {view}")
    finally:
        spark.catalog.dropTempView(view)


def rewrite_without(
    spark: SparkSession, table: str, scope: str, *, extra: str | None = None
) -> None:
    """Remove from `table` the rows whose conversation_id is in `scope` (then append the
    rows of the query `extra`), by writing a new table and swapping names.

    A crash before the swap leaves the old table; a crash inside it leaves `table`
    missing, which `recover()` repairs for the dirty marks and which makes the next
    facts refresh a full rebuild for the fact tables.
    """
    spark.sql(f"DROP TABLE IF EXISTS {table}{NEXT_SUFFIX}")
    spark.sql(f"CREATE TABLE {table}{NEXT_SUFFIX} LIKE {table}")
    spark.sql(
        f"INSERT INTO {table}{NEXT_SUFFIX} SELECT t.* FROM {table} AS t "
        f"LEFT ANTI JOIN {scope} AS s ON t.conversation_id = s.conversation_id"
    )
    if extra is not None:
        spark.sql(f"INSERT INTO {table}{NEXT_SUFFIX} {extra}")
    spark.sql(f"ALTER TABLE {table} RENAME TO {table}{OLD_SUFFIX}")
    spark.sql(f"ALTER TABLE {table}{NEXT_SUFFIX} RENAME TO {table}")
    spark.sql(f"DROP TABLE {table}{OLD_SUFFIX}")


def recover(spark: SparkSession) -> None:
    """Undo what a crash in the middle of `rewrite_without` left behind.

    Dirty marks err on the safe side: an interrupted swap puts the old marks back (a
    superset of the new ones). A fact table caught mid-swap is simply dropped, and
    the next refresh rebuilds all facts because one is missing.
    """
    tables = _tables(spark)
    if DIRTY + OLD_SUFFIX in tables:
        if DIRTY in tables:
            spark.sql(f"INSERT INTO {DIRTY} SELECT * FROM {DIRTY}{OLD_SUFFIX}")
            spark.sql(f"DROP TABLE {DIRTY}{OLD_SUFFIX}")
        else:
            spark.sql(f"ALTER TABLE {DIRTY}{OLD_SUFFIX} RENAME TO {DIRTY}")
    for name in tables:
        if name.endswith((NEXT_SUFFIX, OLD_SUFFIX)) and name != DIRTY + OLD_SUFFIX:
            spark.sql(f"DROP TABLE IF EXISTS {name}")
    _remove_orphan_directories(spark, _tables(spark))


def _tables(spark: SparkSession) -> set[str]:
    rows = spark.sql("SHOW TABLES").collect()
    return {str(row.tableName) for row in rows if not row.isTemporary}


def _remove_orphan_directories(spark: SparkSession, tables: set[str]) -> None:
    """A crash while Spark wrote a new table leaves its directory but no table, and
    Spark then refuses to create a table of that name. Nothing reads such a directory."""
    location = spark.sql(f"DESCRIBE DATABASE {spark.catalog.currentDatabase()}").collect()
    where = next((row[1] for row in location if row[0] == "Location"), "")
    parsed = urlparse(where)
    if parsed.scheme != "file":
        return
    folder = Path(unquote(parsed.path))
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.is_dir() and child.name not in tables and not child.name.startswith("."):
            shutil.rmtree(child, ignore_errors=True)


# -- schema ------------------------------------------------------------------------------


def create_tables(spark: SparkSession) -> None:
    """The store's tables (Parquet; NOT NULL enforced on insert), after crash repair."""
    recover(spark)
    columns = []
    for field in EVENT_SCHEMA:
        column = f"{field.name} {_SPARK_TYPES[field.type][0]}"
        columns.append(column if field.nullable else f"{column} NOT NULL")
    spark.sql(f"CREATE TABLE IF NOT EXISTS events ({', '.join(columns)}) USING parquet")
    # Columns added since the first release, to an events table made before them.
    present = set(spark.table("events").columns)
    added = [
        f"{f.name} {_SPARK_TYPES[f.type][0]}"
        for f in EVENT_SCHEMA
        if f.name in ADDED_COLUMNS and f.name not in present
    ]
    if added:
        spark.sql(f"ALTER TABLE events ADD COLUMNS ({', '.join(added)})")
    spark.sql(
        """CREATE TABLE IF NOT EXISTS rejected_events (
            received_at TIMESTAMP_NTZ NOT NULL,
            source STRING NOT NULL,
            position BIGINT,
            event_id STRING,
            type STRING,
            field STRING,
            reason STRING NOT NULL,
            raw STRING
        ) USING parquet"""
    )
    spark.sql(f"CREATE TABLE IF NOT EXISTS {DIRTY} (conversation_id STRING NOT NULL) USING parquet")
    spark.sql(
        """CREATE TABLE IF NOT EXISTS quarantined_conversations (
            conversation_id STRING NOT NULL,
            reason STRING NOT NULL,
            error STRING,
            first_seen_at TIMESTAMP_NTZ NOT NULL,
            last_seen_at TIMESTAMP_NTZ NOT NULL
        ) USING parquet"""
    )
    spark.sql(f"CREATE VIEW IF NOT EXISTS {LIVE_EVENTS} AS {LIVE_EVENTS_SQL}")
