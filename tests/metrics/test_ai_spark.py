"""The AI agent report on Spark in local mode gives DuckDB's numbers: the ai_involved and
ai_agent filters, the ai_agent, escalation_reason, customer_tier, language and hour
groupings and the recency-weighted CSAT, compiled for Spark.

Starting Spark costs ~10 s, so this is one test over the whole report. Under CI a missing
pyspark (or Java) is an error, not a skip, as in tests/metrics/test_spark.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deskpulse.analysis.ai_agents import ai_agents_report
from deskpulse.analysis.ai_quality import Targets, build_quality_report, quality_csv
from tests.ai_agents_scenario import WEEK, ai_day
from tests.factories import ingest_and_build, scratch_store
from tests.metrics.test_spark import spark  # noqa: F401  (the module-scoped Spark fixture)

pytestmark = pytest.mark.spark


def report_on(backend: str, folder: Path) -> tuple[object, str]:
    with scratch_store(backend, folder / backend) as store:
        ingest_and_build(store, ai_day().events)
        report = ai_agents_report(store, WEEK)
        one = ai_agents_report(store, WEEK, agent_id="bot2")
        return (report, one), quality_csv(build_quality_report(report, Targets()))


def test_duckdb_and_spark_agree_on_the_ai_report(spark: None, tmp_path: Path) -> None:  # noqa: F811
    duck, duck_csv = report_on("duckdb", tmp_path)
    on_spark, spark_csv = report_on("spark", tmp_path)
    assert duck == on_spark
    assert duck_csv == spark_csv
