"""The period and filters a page or API call carries in its URL.

Pages and the JSON API read the same parameters, so a page's URL and the API call
behind it describe the same numbers:

    period=7d|14d|30d|90d|custom   from=2026-03-01  to=2026-03-31 (inclusive days, or
    timestamps with an offset)     as_of=2026-03-31 (a named period's last day)

The reading itself is the core's one reading of a period (metrics/window.py), the same
as the CLI's; here it is only given the install's time zone and earliest day, and its
errors become ParameterError, which the pages and the API answer with a 4xx naming the
parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from deskpulse import clock
from deskpulse.errors import DeskpulseError
from deskpulse.metrics.periods import PeriodInputError, check_supported
from deskpulse.metrics.window import Window, read_moment
from deskpulse.metrics.window import read_window as read_core_window


class ParameterError(DeskpulseError, ValueError):
    """A URL parameter that cannot be read; `field` names it."""

    field: str  # always named

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


def _earliest() -> Any:
    from deskpulse.web.runtime import install_settings

    return install_settings().earliest_day


def moment(value: str | None, name: str, tz: ZoneInfo, *, day_end: bool) -> datetime | None:
    """A timestamp with offset, or a date meaning its start (or, with day_end, its end),
    inside the supported range of dates."""
    try:
        return read_moment(value, name, tz, day_end=day_end, earliest=_earliest())
    except PeriodInputError as error:
        raise ParameterError(error.field, error.message) from None


def supported(value: datetime, name: str, tz: ZoneInfo, *, day: bool = False) -> datetime:
    """`value` when it lies in the supported range of dates, else ParameterError."""
    try:
        return check_supported(value, name, tz, clock.now(), day=day, earliest=_earliest())
    except PeriodInputError as error:
        raise ParameterError(error.field, error.message) from None


def read_window(params: Mapping[str, Any], tz: ZoneInfo) -> Window:
    """The window named by `period`, `from`, `to` and `as_of`; 30 days by default."""
    try:
        return read_core_window(
            period=_text(params.get("period")),
            as_of=_text(params.get("as_of")),
            start=_text(params.get("from")),
            end=_text(params.get("to")),
            tz=tz,
            earliest=_earliest(),
        )
    except PeriodInputError as error:
        raise ParameterError(error.field, error.message) from None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


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
