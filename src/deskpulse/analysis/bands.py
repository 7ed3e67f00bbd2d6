"""Bands: where an agent stands among the agents on the same inquiry, beyond noise.

Seed 002: "Great" = top quartile, "Good" = the middle two quartiles, "Needs work" = the
bottom quartile, among the agents with at least N interactions on that inquiry in the
window (N = 10 by default); below N the band reads "Not enough data".

Raw quartiles of 10 to 19 interactions barely beat chance (issue 15: on split halves 49 %
of agents landed in the same band against 37.5 % by chance, 8.7 % flipped between Great
and Needs work): a quarter of the agents are always called Great, and at that size most
of the spread between agents is noise. So every reading is first shrunk toward the
inquiry's average by how much it can be trusted (empirical Bayes), and banded against the
quartiles of the agents' *true* level rather than of their noisy readings. The rule,
written down once (docs/metrics.md, "Quartile bands"):

- Eligible agents: those whose reading has a value and n >= N. An agent who is not
  eligible reads "not_enough_data". With fewer than MIN_AGENTS (4) eligible agents there
  are no quartiles: every band is "not_enough_data", and no top performer or edge is shown.
- Each reading y_i comes with its sampling variance v_i (its standard error squared,
  from the spread of the agent's interactions; 0 when unknown).
- The spread between agents (normal-normal model, method of moments):
  tau^2 = max(0, S^2 - mean(v_i)), with S^2 the sample variance (n - 1) of the eligible
  readings and mu their plain mean.
- Shrunk reading: m_i = mu + B_i (y_i - mu), B_i = tau^2 / (tau^2 + v_i) (the reading's
  reliability: 1 when v_i = 0); its posterior standard deviation s_i = sqrt(B_i v_i).
- Edges: the 25th and 75th percentiles of the eligible readings (numpy "linear"), pulled
  toward mu by sqrt(tau^2 / S^2), the share of the readings' spread that is real; rounded
  to 9 decimals like every value query() returns. Without noise (every v_i = 0) they are
  the plain quartiles.
- The band is where m_i sits: lower is better (handle time, the score): m_i <= the low
  edge is "great", m_i >= the high edge is "needs_work", otherwise "good"; higher is better
  the other way round. On an edge: the better band.
- Its uncertainty: the probability of each band under N(m_i, s_i^2), and the 80 %
  interval m_i -/+ 1.2816 s_i. Great and Needs work are said only at two-to-one odds
  (CONFIDENT, 2/3); a reading past an edge with less reads "good", and pages add the
  other band's chance ("Good, could be Great: 41 %").
- "Not enough data" below N interactions, and also when the reading's reliability B_i is
  under MIN_RELIABILITY (0.2): the shrunk value is then four fifths the inquiry's average,
  and its band would describe the inquiry, not the agent. In interactions: an agent needs
  n >= (sigma^2 / tau^2) x (0.2 / 0.8), a quarter of the noise-to-signal ratio, which
  depends on how much agents really differ on that inquiry.
- When the readings' spread is all noise (tau^2 = 0 while some v_i > 0), no agent stands
  out from the usual variation: every eligible agent is "good". When every eligible
  reading is exactly equal and there is no noise, everyone is "great": nobody is behind.

Measured (benchmarks/bench_bands.py, the demo's generated organisation, split halves at
10 to 19 interactions per half): same band 70-90 % instead of 36-59 %, Great <-> Needs
work flips at most 0.4 % instead of 2.6-15.9 %; tests/analysis/test_band_stability.py
keeps a seeded version.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
# Great and Needs work are said only at two-to-one odds or better; a reading past an
# edge with less reads "good", with the other band's chance beside it.
CONFIDENT = 2 / 3
# Below this reliability the shrunk reading is four fifths the inquiry's average: its band
# would describe the inquiry, not the agent. "Not enough data".
MIN_RELIABILITY = 0.2
# The central posterior interval pages show beside a band (80 %: z = 1.2816).
INTERVAL_Z = 1.2815515655446004


@dataclass(frozen=True)
class Estimate:
    """One agent's reading for banding: value, interactions, sampling variance."""

    value: float | None
    n: int
    variance: float = 0.0  # the value's standard error squared; 0 when unknown


@dataclass(frozen=True)
class Quartiles:
    """The edges among the eligible agents for one metric and inquiry, and the model
    that shrinks each reading toward the inquiry's average."""

    direction: Direction
    q25: float
    q75: float
    best: float  # the top performer's value (never their name)
    agents: int  # eligible agents behind the edges
    mean: float = 0.0  # mu: the inquiry's average among the eligible agents
    between: float = 0.0  # tau^2: the spread of the agents' true level
    noisy: bool = False  # some reading carries sampling variance

    @property
    def top_edge(self) -> float:
        """The value an agent must reach to be "great"."""
        return self.q25 if self.direction == "lower" else self.q75

    @property
    def bottom_edge(self) -> float:
        """At or past this value an agent is in the bottom quartile."""
        return self.q75 if self.direction == "lower" else self.q25

    @property
    def indistinct(self) -> bool:
        """All of the readings' spread is noise: nobody stands out."""
        return self.noisy and self.between <= 0.0

    def reliability(self, variance: float) -> float:
        """How much of a reading with this sampling variance is kept (B)."""
        if variance <= 0.0:
            return 1.0
        return self.between / (self.between + variance)


@dataclass(frozen=True)
class Standing:
    """One agent's band with its uncertainty."""

    band: Band
    shrunk: float | None  # the reading pulled toward the inquiry's average
    low: float | None  # the shrunk value's 80 % interval
    high: float | None
    reliability: float | None  # B: 1 = the reading taken as it is, 0 = the average
    # Probability of each of great / good / needs_work; empty without a band model.
    probabilities: dict[Band, float]

    @property
    def runner_up(self) -> Band | None:
        """The next most likely band, when it has at least a 20 % chance (the "could be")."""
        others = [
            (p, name) for name, p in self.probabilities.items() if name != self.band and p >= 0.2
        ]
        return max(others)[1] if others else None


NO_STANDING = Standing("not_enough_data", None, None, None, None, {})


def eligible_values(
    readings: Sequence[tuple[float | None, int]], min_interactions: int
) -> list[float]:
    """The values of the readings (value, n) that take part in the quartiles."""
    return [float(value) for value, n in readings if value is not None and n >= min_interactions]


def eligible(estimates: Sequence[Estimate], min_interactions: int) -> list[Estimate]:
    """The estimates that take part in the quartiles: a value and n >= min_interactions."""
    return [e for e in estimates if e.value is not None and e.n >= min_interactions]


def quartiles(
    values: Sequence[float],
    direction: Direction,
    variances: Sequence[float] | None = None,
) -> Quartiles | None:
    """The edges of the eligible `values` (with their sampling `variances`, default none),
    or None with fewer than MIN_AGENTS."""
    if len(values) < MIN_AGENTS:
        return None
    y = np.asarray(values, dtype=float)
    v = np.zeros(len(y)) if variances is None else np.asarray(variances, dtype=float)
    v = np.where(np.isfinite(v) & (v > 0), v, 0.0)
    mu = float(y.mean())
    spread = float(y.var(ddof=1))
    between = max(0.0, spread - float(v.mean()))
    keep = 1.0 if spread <= 0.0 else math.sqrt(between / spread)
    q25, q75 = np.percentile(y, [25.0, 75.0], method="linear")
    edges = Quartiles(
        direction=direction,
        q25=round(mu + keep * (float(q25) - mu), 9),
        q75=round(mu + keep * (float(q75) - mu), 9),
        best=0.0,
        agents=len(y),
        mean=mu,
        between=between,
        noisy=bool((v > 0).any()),
    )
    # The best actual reading, as before: a number someone reached, not a shrunk one.
    best = float(y.min() if direction == "lower" else y.max())
    return replace(edges, best=best)


def edges_of(
    estimates: Sequence[Estimate], direction: Direction, min_interactions: int
) -> Quartiles | None:
    """The edges among the eligible estimates."""
    chosen = eligible(estimates, min_interactions)
    return quartiles(
        [float(e.value) for e in chosen if e.value is not None],
        direction,
        [e.variance for e in chosen],
    )


def _shrunk(edges: Quartiles, value: float, variance: float) -> float:
    if variance <= 0.0 or not edges.noisy:
        return value
    return edges.mean + edges.reliability(variance) * (value - edges.mean)


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _position(value: float, edges: Quartiles) -> Band:
    """The band of an exact value (ties at an edge: the better band)."""
    if edges.direction == "lower":
        if value <= edges.q25:
            return "great"
        return "needs_work" if value >= edges.q75 else "good"
    if value >= edges.q75:
        return "great"
    return "needs_work" if value <= edges.q25 else "good"


def standing(estimate: Estimate, edges: Quartiles | None, *, min_interactions: int) -> Standing:
    """One agent's band, shrunk value, interval and band probabilities."""
    value = estimate.value
    if edges is None or value is None or estimate.n < min_interactions:
        return NO_STANDING
    variance = max(0.0, estimate.variance) if math.isfinite(estimate.variance) else 0.0
    if edges.indistinct:
        mean = round(edges.mean, 9)
        return Standing("good", mean, mean, mean, 0.0, {"good": 1.0})
    reliability = edges.reliability(variance)
    shrunk = _shrunk(edges, value, variance)
    sd = math.sqrt(reliability * variance) if variance > 0 else 0.0
    found = _position(round(shrunk, 9), edges)
    low_edge, high_edge = edges.q25, edges.q75
    if sd > 0:
        below = _normal_cdf((low_edge - shrunk) / sd)
        above = 1.0 - _normal_cdf((high_edge - shrunk) / sd)
    else:
        below = 1.0 if shrunk <= low_edge else 0.0
        above = 1.0 if shrunk >= high_edge else 0.0
    middle = max(0.0, 1.0 - below - above)
    best, worst = (below, above) if edges.direction == "lower" else (above, below)
    probabilities: dict[Band, float] = {
        "great": round(best, 3),
        "good": round(middle, 3),
        "needs_work": round(worst, 3),
    }
    if found in ("great", "needs_work") and probabilities[found] < CONFIDENT:
        # Past the edge but not clearly: "Good" with the "could be" beside it.
        found = "good"
    if reliability < MIN_RELIABILITY:
        found = "not_enough_data"
    return Standing(
        band=found,
        shrunk=round(shrunk, 9),
        low=round(shrunk - INTERVAL_Z * sd, 9),
        high=round(shrunk + INTERVAL_Z * sd, 9),
        reliability=round(reliability, 3),
        probabilities=probabilities,
    )


def band(
    value: float | None,
    n: int,
    edges: Quartiles | None,
    *,
    min_interactions: int,
    variance: float = 0.0,
) -> Band:
    """The band of one agent's reading (value, n, sampling variance) against `edges`."""
    return standing(Estimate(value, n, variance), edges, min_interactions=min_interactions).band


__all__ = [
    "BAND_LABELS",
    "CONFIDENT",
    "INTERVAL_Z",
    "MIN_AGENTS",
    "MIN_RELIABILITY",
    "NO_STANDING",
    "Band",
    "Estimate",
    "Quartiles",
    "Standing",
    "band",
    "edges_of",
    "eligible",
    "eligible_values",
    "quartiles",
    "standing",
]
