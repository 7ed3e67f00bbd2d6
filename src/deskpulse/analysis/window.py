"""The period a page or an API call looks at, as the URL carries it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

PeriodName = Literal["7d", "14d", "30d", "90d", "custom"]
PERIOD_NAMES: tuple[PeriodName, ...] = ("7d", "14d", "30d", "90d", "custom")


@dataclass(frozen=True)
class Window:
    """A named period ending at `as_of` (default: now), or a custom `start`..`end`."""

    period: PeriodName = "30d"
    start: datetime | None = None
    end: datetime | None = None
    as_of: datetime | None = None

    def query_fields(self) -> dict[str, Any]:
        """The keyword arguments `Query(...)` takes for this window."""
        fields: dict[str, Any] = {"period": self.period, "as_of": self.as_of}
        if self.period == "custom":
            fields.update({"from": self.start, "to": self.end})
        return fields
