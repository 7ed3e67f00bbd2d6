"""Quartile bands: where an agent's reading sits among the agents on the same inquiry.

Seed 002: "Great" = top quartile, "Good" = the middle two quartiles, "Needs work" = the
bottom quartile, taken among the agents with at least N interactions on that inquiry in
the window (N = 10 by default); below N the band reads "Not enough data".

The rule, written down once (docs/metrics.md, "Quartile bands"):

- Eligible agents: those whose reading of the metric has a value and n >= N. An agent's
  own band is "not_enough_data" when they are not eligible.
- With fewer than MIN_AGENTS (4) eligible agents there are no quartiles to speak of:
  every band is "not_enough_data", and no top performer or top-quartile edge is shown
  (with two or three agents those figures would also be one colleague's own number).
- The edges are the 25th and 75th percentiles of the eligible agents' values, linear
  interpolation between the closest ranks (numpy's default "linear" method: percentile
  q sits at position q * (k - 1) of the k sorted values), rounded to 9 decimals like
  every value query() returns.
- Lower is better (handle time, the Effectiveness Score): value <= q25 is "great",
  otherwise value >= q75 is "needs_work", otherwise "good". Higher is better (predicted
  satisfaction and resolution): value >= q75 "great", otherwise value <= q25
  "needs_work", otherwise "good".
- Ties: an agent exactly on an edge gets the better band, because the "great" test comes
  first. When every eligible value is equal, q25 = q75 = that value and everyone is
  "great": nobody is behind anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Band = Literal["great", "good", "needs_work", "not_enough_data"]
Direction = Literal["higher", "lower"]

BAND_LABELS: dict[Band, str] = {
    "great": "Great",
    "good": "Good",
    "needs_work": "Needs work",
    "not_enough_data": "Not enough data",
}
MIN_AGENTS = 4  # fewer eligible agents than this: no quartiles


@dataclass(frozen=True)
class Quartiles:
    """The edges among the eligible agents' values for one metric and inquiry."""

    direction: Direction
    q25: float
    q75: float
    best: float  # the top performer's value (never their name)
    agents: int  # eligible agents behind the edges

    @property
    def top_edge(self) -> float:
        """The value an agent must reach to be "great"."""
        return self.q25 if self.direction == "lower" else self.q75

    @property
    def bottom_edge(self) -> float:
        """At or past this value an agent is in the bottom quartile."""
        return self.q75 if self.direction == "lower" else self.q25


def eligible_values(
    readings: Sequence[tuple[float | None, int]], min_interactions: int
) -> list[float]:
    """The values of the readings (value, n) that take part in the quartiles."""
    return [float(value) for value, n in readings if value is not None and n >= min_interactions]


def quartiles(values: Sequence[float], direction: Direction) -> Quartiles | None:
    """The quartile edges of the eligible `values`, or None with fewer than MIN_AGENTS."""
    if len(values) < MIN_AGENTS:
        return None
    q25, q75 = np.percentile(np.asarray(values, dtype=float), [25.0, 75.0], method="linear")
    best = min(values) if direction == "lower" else max(values)
    return Quartiles(
        direction=direction,
        q25=round(float(q25), 9),
        q75=round(float(q75), 9),
        best=float(best),
        agents=len(values),
    )


def band(
    value: float | None,
    n: int,
    edges: Quartiles | None,
    *,
    min_interactions: int,
) -> Band:
    """The band of one agent's reading (value, n) against `edges`."""
    if edges is None or value is None or n < min_interactions:
        return "not_enough_data"
    if edges.direction == "lower":
        if value <= edges.q25:
            return "great"
        return "needs_work" if value >= edges.q75 else "good"
    if value >= edges.q75:
        return "great"
    return "needs_work" if value <= edges.q25 else "good"


__all__ = [
    "BAND_LABELS",
    "MIN_AGENTS",
    "Band",
    "Quartiles",
    "band",
    "eligible_values",
    "quartiles",
]
