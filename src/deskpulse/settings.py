"""Install-wide settings, read from the environment.

Kept free of Django so the core (events, facts, metrics) can use it; the web layer
reads the same object.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from deskpulse import clock

DEFAULT_DATA_DIR = "./deskpulse-data"
# DuckDB buffer pool of a long-running server unless DESKPULSE_DUCKDB_MEMORY says
# otherwise: the budget is 1.5 GB resident with 10M events loaded.
SERVER_DUCKDB_MEMORY = "1GB"

EARLIEST_EVENT_VARIABLE = "DESKPULSE_EARLIEST_EVENT"
# No helpdesk this product serves predates 2000; an older timestamp is a unit or parsing
# mistake upstream (year 0001 is a zero date), and spans of centuries stop the facts.
DEFAULT_EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)


class SettingError(ValueError):
    """A DESKPULSE_* variable holds a value deskpulse cannot use; the message names it."""


@lru_cache(maxsize=16)
def parse_earliest_event(text: str) -> datetime:
    """DESKPULSE_EARLIEST_EVENT: a date (midnight UTC) or a timestamp with an offset."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is not None and len(value) == 10:  # a bare date
        moment = moment.replace(tzinfo=UTC)
    if moment is None or moment.tzinfo is None or moment.utcoffset() is None:
        raise SettingError(
            f"{EARLIEST_EVENT_VARIABLE}={text!r} is not a date or a timestamp with an offset "
            "(write it as 2000-01-01 or 2000-01-01T00:00:00Z)"
        )
    return moment.astimezone(UTC)


def earliest_event_from_environment() -> datetime:
    """The oldest occurred_at accepted, as DESKPULSE_EARLIEST_EVENT sets it (aware UTC)."""
    text = os.environ.get(EARLIEST_EVENT_VARIABLE, "").strip()
    return parse_earliest_event(text) if text else DEFAULT_EARLIEST_EVENT


def format_instant(moment: datetime) -> str:
    """An aware instant the way the contract writes it: 2000-01-01T00:00:00Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


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
    # Events that claim to have happened before this are refused (and stored ones are
    # quarantined by the facts builder): see DEFAULT_EARLIEST_EVENT.
    earliest_event: datetime = DEFAULT_EARLIEST_EVENT
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
    def earliest_day(self) -> date:
        """The first day a period may be asked about: the earliest event's day, local."""
        return self.earliest_event.astimezone(self.tz).date()

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
        earliest_event=earliest_event_from_environment(),
    )
