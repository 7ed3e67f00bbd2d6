"""Shared fixtures: settings in a temporary data folder, and a store per backend.

`store` runs each test on DuckDB and on the real PostgreSQL server that the test
command starts (its URL arrives in DESKPULSE_TEST_POSTGRES_URL). Under CI a missing
server is an error, not a skip, so the PostgreSQL half can never vanish silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskpulse import clock
from deskpulse.events.store import Store, open_store
from deskpulse.settings import Settings

# Every test runs at one pinned instant (docs/clock.md), so a test that reads a relative
# period (7d, 30d, "3 months", "today") passes or fails the same way at any hour of any
# day. The clock guard of scripts/test reruns the time-sensitive tests at other pins
# (00:30, 12:00 and 23:30 local, a DST-change day, a month end) through
# DESKPULSE_TEST_NOW. Subprocesses (the browser tests' server, CLI runs) inherit it.
DEFAULT_TEST_NOW = "2027-01-13T12:00:00+00:00"
os.environ[clock.ENVIRONMENT_VARIABLE] = os.environ.get("DESKPULSE_TEST_NOW") or DEFAULT_TEST_NOW
PINNED_NOW = clock.now()

POSTGRES_URL = os.environ.get("DESKPULSE_TEST_POSTGRES_URL")
BACKENDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]


def make_settings(data_dir: Path, backend_url: str | None = None) -> Settings:
    return Settings(data_dir=data_dir, backend_url=backend_url)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def duckdb_store(settings: Settings) -> Iterator[Store]:
    store = open_store(settings)
    yield store
    store.close()


def _postgres_database() -> Iterator[str]:
    """A fresh database on the test server, dropped afterwards."""
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("DESKPULSE_TEST_POSTGRES_URL is not set: run the suite with scripts/test")
        pytest.skip("no PostgreSQL server: run the suite with scripts/test to include it")
    import psycopg

    name = f"deskpulse_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_database()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty event store, once on DuckDB and once on PostgreSQL."""
    if request.param == "duckdb":
        opened = open_store(make_settings(tmp_path / "data"))
        yield opened
        opened.close()
        return
    for url in _postgres_database():
        opened = open_store(make_settings(tmp_path / "data", backend_url=url))
        yield opened
        opened.close()
