"""Install-wide settings, read from the environment.

Kept free of Django so the core (events, facts, metrics) can use it; the web layer
reads the same object.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from deskpulse import clock

DEFAULT_DATA_DIR = "./deskpulse-data"
# DuckDB buffer pool of a long-running server unless DESKPULSE_DUCKDB_MEMORY says
# otherwise: the budget is 1.5 GB resident with 10M events loaded.
SERVER_DUCKDB_MEMORY = "1GB"


@dataclass(frozen=True)
class Settings:
    """One install's settings."""

    data_dir: Path
    # None means the embedded DuckDB file in the data folder.
    backend_url: str | None = None
    reporting_timezone: str = "UTC"
    currency: str = "USD"
    # FCR is broken when the same customer opens a new conversation on the same
    # inquiry within this many days (metric contract).
    fcr_window_days: int = 7
    # Survey answers later than this after resolution are not counted.
    survey_window_days: int = 14
    # Per-reply handle-time estimate cap when no work.logged exists.
    handle_time_estimate_cap_seconds: int = 900
    # DuckDB's buffer pool; None = DuckDB's default (80% of RAM). The server sets a cap.
    duckdb_memory_limit: str | None = None
    max_events_per_request: int = 10_000
    max_request_bytes: int = 32 * 1024 * 1024
    extra: dict[str, str] = field(default_factory=dict)

    def for_server(self) -> Settings:
        """These settings with the server's default DuckDB memory cap filled in."""
        return replace(self, duckdb_memory_limit=self.duckdb_memory_limit or SERVER_DUCKDB_MEMORY)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.reporting_timezone)

    @property
    def duckdb_path(self) -> Path:
        return self.data_dir / "events.duckdb"

    @property
    def app_db_path(self) -> Path:
        return self.data_dir / "app.sqlite3"


def load_settings(data_dir: str | Path | None = None) -> Settings:
    """Settings from arguments first, then DESKPULSE_* environment variables."""
    directory = Path(data_dir or os.environ.get("DESKPULSE_DATA") or DEFAULT_DATA_DIR)
    backend = os.environ.get("DESKPULSE_BACKEND") or None
    if backend is not None and backend.startswith("duckdb"):
        backend = None
    tz = os.environ.get("DESKPULSE_TIMEZONE", "UTC")
    ZoneInfo(tz)  # fail early on a misspelt zone, naming it
    clock.pinned()  # and on a DESKPULSE_NOW that is not a timestamp
    return Settings(
        data_dir=directory.resolve(),
        backend_url=backend,
        reporting_timezone=tz,
        currency=os.environ.get("DESKPULSE_CURRENCY", "USD").upper(),
        fcr_window_days=int(os.environ.get("DESKPULSE_FCR_WINDOW_DAYS", "7")),
        survey_window_days=int(os.environ.get("DESKPULSE_SURVEY_WINDOW_DAYS", "14")),
        duckdb_memory_limit=os.environ.get("DESKPULSE_DUCKDB_MEMORY") or None,
        handle_time_estimate_cap_seconds=int(
            os.environ.get("DESKPULSE_HANDLE_TIME_CAP_SECONDS", "900")
        ),
    )
