"""Replacing a whole derived table with an Arrow table, on every backend.

Ibis' `create_table(obj=<Arrow table>, overwrite=True)` would be the portable spelling,
and DuckDB uses exactly that here. The other two do their own, for measured reasons:
on PostgreSQL Ibis inserts row batches through a memtable (2.5 s for 100,000 narrow
rows) and leaves `ibis_pyarrow_memtable_*` tables behind; on Spark it goes through
pandas and turns nullable integer columns into nulls. So PostgreSQL gets COPY into a
new table and a rename, in one transaction, and Spark a DataFrame with the exact schema
written as a new Parquet table and swapped in by name (the same swap as the facts build;
a half-done swap is repaired when the store is opened).
"""

from __future__ import annotations

import uuid

import pyarrow as pa

from deskpulse.events.store import Store

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "timestamp": pa.timestamp("us"),
    "float64": pa.float64(),
    "int64": pa.int64(),
    "boolean": pa.bool_(),
}
_SQL_TYPES: dict[str, str] = {
    "string": "TEXT",
    "timestamp": "TIMESTAMP",
    "float64": "DOUBLE PRECISION",
    "int64": "BIGINT",
    "boolean": "BOOLEAN",
}
_NEXT = "__next"
_OLD = "__old"


def arrow_schema(columns: dict[str, str]) -> pa.Schema:
    """The Arrow schema of a table described like facts/tables.py does."""
    return pa.schema([(name, ARROW_TYPES[kind]) for name, kind in columns.items()])


def replace_table(store: Store, name: str, table: pa.Table) -> None:
    """Make `name` hold exactly `table`'s rows (its schema as given), replacing any old one."""
    with store.writing():
        if store.backend == "duckdb":
            store.con.create_table(name, obj=table, overwrite=True)
        elif store.backend == "postgres":
            _replace_postgres(store, name, table)
        else:
            _replace_spark(store, name, table)


def _replace_postgres(store: Store, name: str, table: pa.Table) -> None:
    staged = f"{name}{_NEXT}"
    columns = ", ".join(f'"{field.name}" {_sql_type(field.type)}' for field in table.schema)
    names = ", ".join(f'"{field.name}"' for field in table.schema)
    with store.transaction() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {staged}")
        cursor.execute(f"CREATE TABLE {staged} ({columns})")
        with cursor.copy(f"COPY {staged} ({names}) FROM STDIN") as copy:
            for batch in table.to_batches(max_chunksize=50_000):
                for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                    copy.write_row(row)
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"ALTER TABLE {staged} RENAME TO {name}")


def _sql_type(arrow_type: pa.DataType) -> str:
    for kind, known in ARROW_TYPES.items():
        if arrow_type == known:
            return _SQL_TYPES[kind]
    raise TypeError(f"no SQL type for {arrow_type}")


def _replace_spark(store: Store, name: str, table: pa.Table) -> None:
    from pyspark.sql import types as st

    spark_types = {
        "string": st.StringType(),
        "timestamp": st.TimestampNTZType(),
        "float64": st.DoubleType(),
        "int64": st.LongType(),
        "boolean": st.BooleanType(),
    }
    fields = []
    for field in table.schema:
        kind = next(k for k, known in ARROW_TYPES.items() if field.type == known)
        fields.append(st.StructField(field.name, spark_types[kind], nullable=True))
    spark = store.raw
    view = f"deskpulse_scored_{uuid.uuid4().hex[:8]}"
    frame = spark.createDataFrame(table, schema=st.StructType(fields))
    frame.createOrReplaceTempView(view)
    try:
        spark.sql(f"DROP TABLE IF EXISTS {name}{_NEXT}")
        spark.sql(f"CREATE TABLE {name}{_NEXT} USING parquet AS SELECT * FROM {view}")
    finally:
        spark.catalog.dropTempView(view)
    existing = {row.tableName for row in spark.sql("SHOW TABLES").collect() if not row.isTemporary}
    if name in existing:
        spark.sql(f"ALTER TABLE {name} RENAME TO {name}{_OLD}")
    spark.sql(f"ALTER TABLE {name}{_NEXT} RENAME TO {name}")
    spark.sql(f"DROP TABLE IF EXISTS {name}{_OLD}")
