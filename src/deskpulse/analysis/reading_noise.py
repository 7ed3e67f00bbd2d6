"""How noisy each agent's effectiveness reading is: the sampling variance bands shrink by.

A reading is a mean over the agent's interactions on an inquiry (handle time, predicted
satisfaction, predicted resolution) or the score made of the three means. Its sampling
variance is the spread of single interactions divided by their number. The spread is
pooled over every agent on the inquiry (the sum of squared deviations from each agent's
own mean over the sum of n_i - 1): ten interactions say little about one agent's own
spread, while the inquiry's many agents say it well.

The score, AES = H / (S x R) of the three means, is a ratio; its variance comes from the
delta method: per interaction z = h / H - s / S - r / R (a missing part adds 0), and
var(AES_i) = AES_i^2 x var(z) / n_i, with var(z) pooled the same way. (z is the
interaction's first-order share in log AES, so the covariances between handle time,
satisfaction and resolution are counted.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

HANDLE = "aes_handle_time"
SATISFACTION = "predicted_satisfaction"
RESOLUTION = "predicted_resolution"
SCORE = "effectiveness_score"
_PARTS: tuple[str, ...] = (HANDLE, SATISFACTION, RESOLUTION)


@dataclass(frozen=True)
class Row:
    """One interaction: the agent, the inquiry and the three parts (None: missing)."""

    agent_id: str
    inquiry: str
    handle: float | None
    satisfaction: float | None
    resolution: float | None


Key = tuple[str, str]  # (agent_id, inquiry)


def reading_variances(rows: Iterable[Row]) -> dict[Key, dict[str, float]]:
    """Each (agent, inquiry)'s sampling variance per effectiveness metric; a metric the
    agent has no value for (or too little to measure spread: n < 2 on the whole inquiry)
    is left out."""
    grouped: dict[str, dict[str, list[Row]]] = {}
    for row in rows:
        grouped.setdefault(row.inquiry, {}).setdefault(row.agent_id, []).append(row)
    found: dict[Key, dict[str, float]] = {}
    for inquiry, agents in grouped.items():
        for agent_id, variances in _inquiry_variances(agents).items():
            found[(agent_id, inquiry)] = variances
    return found


def _column(rows: list[Row], index: int) -> np.ndarray:
    values = [(r.handle, r.satisfaction, r.resolution)[index] for r in rows]
    return np.array([math.nan if v is None else float(v) for v in values], dtype=float)


def _inquiry_variances(agents: dict[str, list[Row]]) -> dict[str, dict[str, float]]:
    columns = {
        agent_id: [_column(rows, index) for index in range(3)] for agent_id, rows in agents.items()
    }
    # Pooled within-agent variance of each part, and of z (the score's linearisation).
    pooled: dict[str, float | None] = {}
    for index, name in enumerate(_PARTS):
        pooled[name] = _pooled(
            [values[index][~np.isnan(values[index])] for values in columns.values()]
        )
    zs: list[np.ndarray] = []
    scores: dict[str, tuple[float, int]] = {}
    for agent_id, (h, s, r) in columns.items():
        means = [_mean(h), _mean(s), _mean(r)]
        if any(m is None or m <= 0 for m in means):
            continue
        big_h, big_s, big_r = (float(m) for m in means if m is not None)
        present = ~np.isnan(h)
        z = (
            np.nan_to_num(h / big_h - 1.0)
            - np.nan_to_num(s / big_s - 1.0)
            - np.nan_to_num(r / big_r - 1.0)
        )[present]
        zs.append(z)
        scores[agent_id] = (big_h / (big_s * big_r), int(present.sum()))
    pooled[SCORE] = _pooled(zs)

    found: dict[str, dict[str, float]] = {}
    for agent_id, values in columns.items():
        mine: dict[str, float] = {}
        for index, name in enumerate(_PARTS):
            n = int((~np.isnan(values[index])).sum())
            spread = pooled[name]
            if n > 0 and spread is not None:
                mine[name] = spread / n
        spread = pooled[SCORE]
        if agent_id in scores and spread is not None and scores[agent_id][1] > 0:
            score, n = scores[agent_id]
            mine[SCORE] = score * score * spread / n
        found[agent_id] = mine
    return found


def _mean(values: np.ndarray) -> float | None:
    kept = values[~np.isnan(values)]
    return float(kept.mean()) if len(kept) else None


def _pooled(groups: list[np.ndarray]) -> float | None:
    """Sum of squared deviations from each group's mean over the sum of n_i - 1."""
    squares = 0.0
    freedom = 0
    for values in groups:
        if len(values) < 2:
            continue
        squares += float(((values - values.mean()) ** 2).sum())
        freedom += len(values) - 1
    return squares / freedom if freedom > 0 else None


__all__ = ["Row", "reading_variances"]
