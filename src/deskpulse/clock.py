"""The one notion of "now" for the server, the CLI, the scheduler and the generator.

Everything in deskpulse that needs the current instant (a 30d period with no as_of,
the future bound on events, a coaching plan's start, an alert check, the generator's
default end) asks `now()`. Setting DESKPULSE_NOW to a timestamp with an offset pins
it: a demo or a bug report can then be reproduced at the very instant it was seen, and
the test suite runs at the same instant whatever the hour of day. Production never
sets it.

Django's own clocks (session expiry, login throttling, token last-used times) stay on
the real time on purpose: security decisions must not be moved by a setting.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import lru_cache

ENVIRONMENT_VARIABLE = "DESKPULSE_NOW"


class ClockError(ValueError):
    """DESKPULSE_NOW holds something that is not a timestamp with an offset."""


@lru_cache(maxsize=16)
def _parse(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise ClockError(
            f"{ENVIRONMENT_VARIABLE}={text!r} is not a timestamp "
            "(write it as 2026-03-08T12:00:00+00:00)"
        ) from error
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ClockError(
            f"{ENVIRONMENT_VARIABLE}={text!r} needs an offset, e.g. 2026-03-08T12:00:00+00:00"
        )
    return moment.astimezone(UTC)


def pinned() -> datetime | None:
    """The pinned instant (aware, UTC), or None when the clock runs freely."""
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    return _parse(text) if text else None


def now() -> datetime:
    """The current instant, aware and in UTC (pinned by DESKPULSE_NOW when set)."""
    moment = pinned()
    return moment if moment is not None else datetime.now(UTC)


def now_naive_utc() -> datetime:
    """`now()` as a naive UTC timestamp, the way the stores keep instants."""
    return now().replace(tzinfo=None)
