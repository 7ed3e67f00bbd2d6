"""A registry metric read per row reduces to the registry's own aggregate.

Metrics written as a per-row reading (metrics/registry.py, `PerRow`) build their
aggregate from it; experiments read the rows themselves. Here the rows of a generated
organisation, reduced in Python, must give what the registry aggregates over the same
rows, for every such metric and each of its readings (team and per agent), on DuckDB and
PostgreSQL (the `store` fixture) and on Spark.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pytest

from deskpulse.events.bulk import import_sources
from deskpulse.events.store import Store
from deskpulse.facts.build import refresh_facts
from deskpulse.generator import generate
from deskpulse.metrics.query import measure_rows
from deskpulse.metrics.registry import (
    AGENT_CONVERSATIONS,
    AGENT_ROW_TABLES,
    CONVERSATIONS,
    REGISTRY,
    Metric,
    Source,
)
from tests.factories import scratch_store
from tests.metrics.test_spark import spark  # noqa: F401  (the module-scoped Spark fixture)

END = datetime(2026, 3, 1, tzinfo=UTC)
# Where the generated data can be compared to numpy's linear-interpolation percentiles.
QUANTILES = {"median": 0.5, "p90": 0.9, "p95": 0.95}


def per_row_readings() -> Iterator[tuple[Metric, str, Source]]:
    """Every (metric, facts table, source) whose source is defined row by row."""
    for metric in REGISTRY.values():
        if metric.recency_weighted is not None or metric.needs_bucket_end:
            continue
        for table in (CONVERSATIONS, AGENT_CONVERSATIONS):
            source = metric.agent_source if table in AGENT_ROW_TABLES else metric.source
            if source is not None and source.table == table and source.rows is not None:
                yield metric, table, source


def organisation(store: Store, folder: Path) -> None:
    buffer = io.BytesIO()
    generate(buffer, seed=5, conversations=250, end=END)
    folder.mkdir(parents=True, exist_ok=True)
    events = folder / "events.jsonl"
    events.write_bytes(buffer.getvalue())
    assert import_sources(store, [events]).rejected == 0
    refresh_facts(store)


def reduced(reduce: str, values: np.ndarray[Any, np.dtype[np.float64]]) -> float | None:
    if not values.size:
        return None
    if reduce in ("share", "mean"):
        return float(values.mean())
    if reduce == "sd":
        return float(values.std(ddof=1)) if values.size > 1 else None
    return float(np.quantile(values, QUANTILES[reduce]))


def check_every_reading(store: Store) -> int:
    """Compares every per-row reading with its aggregate; returns how many it checked."""
    checked = 0
    for metric, table, source in per_row_readings():
        t = store.con.table(table)
        rows = (
            t.select(inside=source.row_included(t), value=source.row_value(t))
            .to_pyarrow()
            .to_pylist()
        )
        assert all(isinstance(r["inside"], bool) for r in rows), metric.name
        values = np.array(
            [float(r["value"]) for r in rows if r["inside"]],
            dtype=np.float64,
        )
        assert not np.isnan(values).any(), f"{metric.name}: a row in the sample has no value"

        def narrow(t: ir.Table, at: str = source.time_column) -> ir.Table:
            return t.filter(t[at].notnull())

        expected = measure_rows(store, table, narrow, [metric.name])[metric.name]
        assert source.rows is not None
        assert values.size == expected.n, (metric.name, table)
        mine = reduced(source.rows.reduce, values)
        if expected.value is None:
            assert mine is None, (metric.name, table)
        else:
            # The registry rounds to nine decimals.
            assert mine == pytest.approx(float(expected.value), abs=1e-9), (metric.name, table)
        checked += 1
    return checked


def test_the_readings_cover_every_kind_of_metric() -> None:
    readings = list(per_row_readings())
    reduces = {source.rows.reduce for _, _, source in readings if source.rows is not None}
    assert reduces == {"share", "mean", "median", "p90", "p95", "sd"}
    names = {metric.name for metric, _, _ in readings}
    # A share with its own sample, money, a mean over a condition, a survey per agent.
    assert {"ai_resolved_rate", "cost_per_conversation", "turns_mean", "csat_mean"} <= names
    # Counts, sums and what depends on the bucket's end or a row's age have none.
    assert not {"conversations", "cost_total", "resolved", "csat_recency_weighted"} & names


def test_each_reading_reduces_to_the_registry_aggregate(store: Store, tmp_path: Path) -> None:
    organisation(store, tmp_path)
    assert check_every_reading(store) == len(list(per_row_readings()))


def test_a_metric_without_a_per_row_reading_says_so() -> None:
    t = ibis.table({"created_at": "timestamp"}, name=CONVERSATIONS)
    with pytest.raises(ValueError, match="no per-row reading"):
        REGISTRY["conversations"].source.row_value(t)
    assert REGISTRY["csat_mean"].readable_per_row
    # Its source reads rows, but the number weighs each row by its age.
    assert not REGISTRY["csat_recency_weighted"].readable_per_row


@pytest.mark.spark
def test_each_reading_reduces_to_the_registry_aggregate_on_spark(
    spark: None,  # noqa: F811
    tmp_path: Path,
) -> None:
    with scratch_store("spark", tmp_path / "spark") as store:
        organisation(store, tmp_path)
        assert check_every_reading(store) == len(list(per_row_readings()))
