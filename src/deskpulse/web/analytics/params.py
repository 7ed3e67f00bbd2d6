"""The period and filters a page or API call carries in its URL.

Pages and the JSON API read the same parameters, so a page's URL and the API call
behind it describe the same numbers:

    period=7d|14d|30d|90d|custom   from=2026-03-01  to=2026-03-31 (inclusive days, or
    timestamps with an offset)     as_of=2026-03-31 (a named period's last day)

Every date lies in the core's supported range (metrics/periods.py: 2000-01-01 through
one year after today) and a custom period spans at most 400 days; anything else is a
ParameterError naming the parameter, never a computation that overflows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from deskpulse import clock
from deskpulse.analysis.window import PERIOD_NAMES, PeriodName, Window
from deskpulse.metrics.periods import PeriodInputError, check_custom, check_supported


class ParameterError(ValueError):
    """A URL parameter that cannot be read; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def moment(value: str | None, name: str, tz: ZoneInfo, *, day_end: bool) -> datetime | None:
    """A timestamp with offset, or a date meaning its start (or, with day_end, its end),
    inside the supported range of dates."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    day: date | None = None
    parsed: datetime | None = None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError:
        pass
    if day is not None:
        start = supported(datetime.combine(day, time(0), tzinfo=tz), name, tz, day=True)
        return start + timedelta(days=1) if day_end else start
    if parsed is None or parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ParameterError(
            name,
            "use a date (2026-03-31) or a timestamp with an offset "
            "(2026-03-31T18:00:00+00:00; write + as %2B in a URL)",
        )
    return supported(parsed, name, tz)


def supported(value: datetime, name: str, tz: ZoneInfo, *, day: bool = False) -> datetime:
    """`value` when it lies in the supported range of dates, else ParameterError."""
    try:
        return check_supported(value, name, tz, clock.now(), day=day)
    except PeriodInputError as error:
        raise ParameterError(error.field, error.message) from None


def read_window(params: Mapping[str, Any], tz: ZoneInfo) -> Window:
    """The window named by `period`, `from`, `to` and `as_of`; 30 days by default."""
    period = str(params.get("period") or "30d").strip()
    if period not in PERIOD_NAMES:
        raise ParameterError("period", f"choose one of {', '.join(PERIOD_NAMES)}")
    name: PeriodName = period  # type: ignore[assignment]
    as_of = moment(params.get("as_of"), "as_of", tz, day_end=True)
    if name != "custom":
        return Window(period=name, as_of=as_of)
    start = moment(params.get("from"), "from", tz, day_end=False)
    end = moment(params.get("to"), "to", tz, day_end=True)
    if start is None or end is None:
        raise ParameterError("from" if start is None else "to", "a custom period needs from and to")
    try:
        check_custom(start, end)
    except PeriodInputError as error:
        raise ParameterError(error.field, error.message) from None
    return Window(period="custom", start=start, end=end)


@dataclass(frozen=True)
class PageState:
    """What a page's URL says, to rebuild links that keep it (period, team, sort)."""

    values: dict[str, str]

    def link(self, path: str, **changes: str | None) -> str:
        merged = {**self.values, **changes}
        kept = {key: value for key, value in merged.items() if value}
        return f"{path}?{urlencode(kept)}" if kept else path

    def query_string(self, **changes: str | None) -> str:
        return self.link("", **changes).lstrip("?")


KEPT_PARAMETERS = ("period", "from", "to", "as_of", "team", "sort", "order", "time")


def page_state(params: Mapping[str, Any], window: Window) -> PageState:
    """The parameters worth keeping in links, with the period as actually used."""
    values = {key: str(params.get(key) or "") for key in KEPT_PARAMETERS}
    values["period"] = window.period
    # Calendar time is the default and stays out of links; anything else reads as it.
    values["time"] = "business" if values["time"].strip() == "business" else ""
    if window.period != "custom":
        values["from"] = values["to"] = ""
    return PageState(values)
