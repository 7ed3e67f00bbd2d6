"""Bands that beat chance (issue 15): split halves at 10 to 19 interactions per half.

A seeded generator builds effectiveness rows for 12 inquiries x 14 agents with 20 to 38
interactions each: every agent has a true speed, a true satisfaction level and a true
first-contact resolution rate, and single interactions scatter widely around them
(handle times lognormal, sigma 0.7; predicted satisfaction spread on the logit scale;
resolution measured 0 / 1), as on the demo's data, where raw quartiles agreed between
halves 38-60 % of the time. Each agent x inquiry's rows are split at random into two
halves; each half is banded among all agents' same half, and the pairs with 10 to 19
interactions in both halves are compared.

Target (docs/metrics.md, "Quartile bands"): at least 65 % of the pairs banded in both
halves in the same band, at most 3 % flipping between Great and Needs work. The test asks
for 68 % and 2 % (margin), and that the old rule, raw quartiles, misses the target on the
same data (the generator is not an easy one). benchmarks/bench_bands.py measures the same
on the demo's generated organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from deskpulse.analysis.bands import Band, Direction, Estimate, edges_of, standing
from deskpulse.analysis.reading_noise import Row, reading_variances

METRICS: dict[str, Direction] = {
    "effectiveness_score": "lower",
    "aes_handle_time": "lower",
    "predicted_satisfaction": "higher",
    "predicted_resolution": "higher",
}
N = 10
SEEDS = (0, 1, 2)


def generated_rows(seed: int, inquiries: int = 12, agents: int = 14) -> list[Row]:
    rng = np.random.default_rng(seed)
    rows: list[Row] = []
    for q in range(inquiries):
        base = rng.uniform(300, 900)  # the inquiry's typical handle seconds
        for a in range(agents):
            speed = np.exp(rng.normal(0, 0.2))
            skill = rng.normal(0, 0.35)
            fixes = rng.normal(0, 0.3)
            n = int(rng.integers(20, 39))
            handle = base * speed * rng.lognormal(0, 0.7, n)
            satisfied = 1 / (1 + np.exp(-(1.0 + skill + rng.normal(0, 1.0, n))))
            resolved = (rng.random(n) < 1 / (1 + np.exp(-(0.8 + fixes)))).astype(float)
            rows.extend(
                Row(f"a{a}", f"q{q}", float(h), float(s), float(r))
                for h, s, r in zip(handle, satisfied, resolved, strict=True)
            )
    return rows


def readings(rows: list[Row]) -> dict[tuple[str, str], dict[str, float | None]]:
    """Each agent x inquiry's four readings, as the registry computes them (means, and
    mean handle / (mean satisfaction x mean resolution))."""
    grouped: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        grouped.setdefault((row.agent_id, row.inquiry), []).append(row)
    found: dict[tuple[str, str], dict[str, float | None]] = {}
    for key, mine in grouped.items():
        h = float(np.mean([r.handle for r in mine]))
        s = float(np.mean([r.satisfaction for r in mine]))
        r = float(np.mean([r.resolution for r in mine]))
        found[key] = {
            "aes_handle_time": h,
            "predicted_satisfaction": s,
            "predicted_resolution": r,
            "effectiveness_score": h / (s * r) if s > 0 and r > 0 else None,
            "n": float(len(mine)),
        }
    return found


def bands_of(rows: list[Row], *, shrink: bool) -> dict[tuple[str, str, str], tuple[Band, int]]:
    values = readings(rows)
    noise = reading_variances(rows) if shrink else {}
    found: dict[tuple[str, str, str], tuple[Band, int]] = {}
    for metric, direction in METRICS.items():
        by_inquiry: dict[str, list[tuple[str, Estimate]]] = {}
        for (agent, inquiry), v in values.items():
            variance = noise.get((agent, inquiry), {}).get(metric, 0.0)
            estimate = Estimate(v[metric], int(v["n"] or 0), variance)
            by_inquiry.setdefault(inquiry, []).append((agent, estimate))
        for inquiry, estimates in by_inquiry.items():
            edges = edges_of([e for _, e in estimates], direction, N)
            for agent, estimate in estimates:
                band = standing(estimate, edges, min_interactions=N).band
                found[(metric, agent, inquiry)] = (band, estimate.n)
    return found


@dataclass
class Agreement:
    same: int = 0
    flips: int = 0
    banded: int = 0  # pairs with a band in both halves
    pairs: int = 0  # pairs with 10-19 interactions in both halves

    @property
    def same_share(self) -> float:
        return self.same / self.banded

    @property
    def flip_share(self) -> float:
        return self.flips / self.banded


def split_halves(*, shrink: bool) -> dict[str, Agreement]:
    found = {metric: Agreement() for metric in METRICS}
    for seed in SEEDS:
        rows = generated_rows(seed)
        first = np.random.default_rng(seed + 1000).integers(0, 2, len(rows)).astype(bool)
        a = bands_of([r for r, f in zip(rows, first, strict=True) if f], shrink=shrink)
        b = bands_of([r for r, f in zip(rows, first, strict=True) if not f], shrink=shrink)
        for key in a.keys() & b.keys():
            (band_a, n_a), (band_b, n_b) = a[key], b[key]
            if not (10 <= n_a <= 19 and 10 <= n_b <= 19):
                continue
            tally = found[key[0]]
            tally.pairs += 1
            if "not_enough_data" in (band_a, band_b):
                continue
            tally.banded += 1
            tally.same += band_a == band_b
            tally.flips += {band_a, band_b} == {"great", "needs_work"}
    return found


@pytest.fixture(scope="module")
def shrunk() -> dict[str, Agreement]:
    return split_halves(shrink=True)


@pytest.mark.parametrize("metric", list(METRICS))
def test_shrunk_bands_agree_between_halves(shrunk: dict[str, Agreement], metric: str) -> None:
    found = shrunk[metric]
    assert found.pairs >= 200  # enough pairs for the shares to mean something
    assert found.same_share >= 0.68, found
    assert found.flip_share <= 0.02, found
    # "Not enough data" is not how the target is reached: most pairs keep a band.
    assert found.banded / found.pairs >= 0.5, found


def test_raw_quartiles_miss_the_target_on_the_same_data() -> None:
    raw = split_halves(shrink=False)
    score = raw["effectiveness_score"]
    assert score.banded == score.pairs  # the old rule bands every eligible agent
    assert score.same_share < 0.6, score
    assert score.flip_share > 0.03, score
