"""The query parameters of a reporting window, shared by every endpoint that reads one."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Schema

from deskpulse.metrics.window import Window
from deskpulse.web.params import read_window
from deskpulse.web.runtime import install_settings


class ReportingPeriodParams(Schema):
    period: Literal["7d", "14d", "30d", "90d", "custom"] = "30d"
    start: str | None = Field(default=None, alias="from", description="custom period start")
    end: str | None = Field(
        default=None, alias="to", description="custom period end (inclusive day)"
    )
    as_of: str | None = Field(
        default=None, description="last day of a named period (a date) or a timestamp with offset"
    )

    def window(self) -> Window:
        return read_window(
            {"period": self.period, "from": self.start, "to": self.end, "as_of": self.as_of},
            install_settings().tz,
        )
