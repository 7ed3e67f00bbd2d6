"""DuckDB and PostgreSQL give the same numbers for the same events.

A generated organisation (every event kind, reopens, handoffs, surveys, costs) is
loaded into both backends; the whole report and the daily series must be equal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import generated_organisation_numbers


@pytest.mark.postgres
def test_duckdb_and_postgresql_agree_on_every_metric(tmp_path: Path) -> None:
    duck_report, duck_dashboard = generated_organisation_numbers(
        "duckdb", tmp_path, conversations=600
    )
    pg_report, pg_dashboard = generated_organisation_numbers(
        "postgres", tmp_path, conversations=600
    )
    assert duck_report["team"]["conversations"]["value"] > 300
    assert duck_report["team"] == pg_report["team"]
    assert duck_report["team_previous"] == pg_report["team_previous"]
    assert duck_report["agents"] == pg_report["agents"]
    assert duck_dashboard == pg_dashboard
