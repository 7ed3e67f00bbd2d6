"""What an agent performance page or API call carries in its URL.

Pages and the JSON API read the same parameters, so a page's URL and the API call behind
it describe the same numbers:

    model=chat                       the channel whose prediction model the numbers use
    window=3m|1m|1w|24h|custom       3 months by default
    from=2026-03-01  to=2026-03-31   a custom range (inclusive days, or timestamps with offset)
    as_of=2026-03-31                 the end of a named window (tests and demos pin time)
    sort=volume|effectiveness_score|aes_handle_time|predicted_satisfaction|predicted_resolution
    dir=desc|asc                     high to low (default) or low to high
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from deskpulse.analysis.effectiveness import (
    EFFECTIVENESS_METRICS,
    WindowName,
    performance_window,
)
from deskpulse.metrics.window import Window
from deskpulse.web.params import ParameterError, moment

# (URL value, button label) in the order the window selector shows them.
WINDOW_CHOICES: tuple[tuple[str, str], ...] = (
    ("3m", "3 months"),
    ("1m", "Past month"),
    ("1w", "Past week"),
    ("24h", "Past 24 hours"),
)
WINDOW_NAMES: tuple[str, ...] = (*(name for name, _ in WINDOW_CHOICES), "custom")
DEFAULT_WINDOW: WindowName = "3m"

# The channels of the event contract: the only values `model` can name.
CHANNELS: tuple[str, ...] = ("chat", "email", "voice", "social", "sms", "other")

SORT_KEYS: tuple[str, ...] = ("volume", *EFFECTIVENESS_METRICS)
DEFAULT_SORT = "volume"
Direction = Literal["asc", "desc"]

# A custom range longer than this is refused (as on the /analytics pages).
MAX_CUSTOM_DAYS = 400


@dataclass(frozen=True)
class PerformanceParams:
    """The URL's choices, validated."""

    window_name: WindowName
    start: datetime | None
    end: datetime | None
    as_of: datetime | None
    model: str | None
    sort: str
    direction: Direction

    @property
    def descending(self) -> bool:
        return self.direction == "desc"

    def window(self) -> Window:
        """The window the core computes over (resolved by the core's own rule)."""
        return performance_window(
            self.window_name, as_of=self.as_of, start=self.start, end=self.end
        )

    def values(self) -> dict[str, str]:
        """The parameters worth keeping in links, as the URL spells them."""
        values = {
            "model": self.model or "",
            "window": "" if self.window_name == DEFAULT_WINDOW else self.window_name,
            "from": "",
            "to": "",
            "as_of": "",
            "sort": "" if self.sort == DEFAULT_SORT else self.sort,
            "dir": "" if self.direction == "desc" else self.direction,
        }
        return values


def _text(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    return "" if value is None else str(value).strip()


def read_params(params: Mapping[str, Any], tz: ZoneInfo) -> PerformanceParams:
    """The page's parameters, or ParameterError naming the first one that cannot be read."""
    window = _text(params, "window") or DEFAULT_WINDOW
    if window not in WINDOW_NAMES:
        raise ParameterError("window", f"choose one of {', '.join(WINDOW_NAMES)}")
    as_of = moment(_text(params, "as_of") or None, "as_of", tz, day_end=True)
    start = end = None
    if window == "custom":
        start = moment(_text(params, "from") or None, "from", tz, day_end=False)
        end = moment(_text(params, "to") or None, "to", tz, day_end=True)
        if start is None or end is None:
            raise ParameterError(
                "from" if start is None else "to", "a custom range needs both from and to"
            )
        if start >= end:
            raise ParameterError("to", "the range must end after it starts")
        if end - start > timedelta(days=MAX_CUSTOM_DAYS):
            raise ParameterError("to", f"a custom range spans at most {MAX_CUSTOM_DAYS} days")
    model = _text(params, "model") or None
    if model is not None and model not in CHANNELS:
        raise ParameterError("model", f"choose one of {', '.join(CHANNELS)}")
    sort = _text(params, "sort") or DEFAULT_SORT
    if sort not in SORT_KEYS:
        raise ParameterError("sort", f"choose one of {', '.join(SORT_KEYS)}")
    direction = _text(params, "dir") or "desc"
    if direction not in ("asc", "desc"):
        raise ParameterError("dir", "choose asc (low to high) or desc (high to low)")
    return PerformanceParams(
        window_name=cast(WindowName, window),
        start=start,
        end=end,
        as_of=as_of,
        model=model,
        sort=sort,
        direction=cast(Direction, direction),
    )


@dataclass(frozen=True)
class LinkState:
    """The URL's parameters, to build links that keep them (model, window, as_of, sort)."""

    values: dict[str, str]

    def link(self, path: str, **changes: str | None) -> str:
        merged = {**self.values, **changes}
        kept = {key: value for key, value in merged.items() if value}
        return f"{path}?{urlencode(kept)}" if kept else path

    def query_string(self, **changes: str | None) -> str:
        return self.link("", **changes).lstrip("?")


def link_state(raw: Mapping[str, Any], params: PerformanceParams) -> LinkState:
    """Links keep what the URL said; from/to only while a custom range is shown."""
    values = params.values()
    values["as_of"] = _text(raw, "as_of")
    if params.window_name == "custom":
        values["from"] = _text(raw, "from")
        values["to"] = _text(raw, "to")
    return LinkState(values)
