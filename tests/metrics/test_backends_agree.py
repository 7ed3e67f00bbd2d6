"""DuckDB and PostgreSQL give the same numbers for the same events.

A generated organisation (every event kind, reopens, handoffs, surveys, costs) is
loaded into both backends; the whole report and the daily series must be equal.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deskpulse.events.bulk import import_sources
from deskpulse.facts.build import refresh_facts
from deskpulse.generator import generate
from deskpulse.metrics.dashboard import dashboard_payload
from deskpulse.metrics.report import build_report
from tests.factories import scratch_store

END = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.postgres
def test_duckdb_and_postgresql_agree_on_every_metric(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    generate(buffer, seed=11, conversations=600, end=END)
    events = tmp_path / "events.jsonl"
    events.write_bytes(buffer.getvalue())

    results = {}
    for backend in ("duckdb", "postgres"):
        with scratch_store(backend, tmp_path / backend) as store:
            imported = import_sources(store, [events])
            assert imported.rejected == 0
            refresh_facts(store)
            results[backend] = (
                build_report(store, period="90d", as_of=END),
                dashboard_payload(store, period="30d", as_of=END),
            )
    (duck_report, duck_dashboard), (pg_report, pg_dashboard) = (
        results["duckdb"],
        results["postgres"],
    )
    assert duck_report["team"]["conversations"]["value"] > 300
    assert duck_report["team"] == pg_report["team"]
    assert duck_report["team_previous"] == pg_report["team_previous"]
    assert duck_report["agents"] == pg_report["agents"]
    assert duck_dashboard == pg_dashboard
