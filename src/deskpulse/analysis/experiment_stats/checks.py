"""The checks before any verdict: sample ratio mismatch (is the split what was asked
for?) and the minimum-sample gate (is there enough data per variant?).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from scipy import stats

from deskpulse.analysis.experiment_stats.results import (
    SRM_THRESHOLD,
    Gate,
    SrmCheck,
    _p_text,
)

# -- sample ratio mismatch --------------------------------------------------------------


def srm_check(
    observed: Sequence[int],
    planned_split: Sequence[float] | None = None,
    *,
    threshold: float = SRM_THRESHOLD,
) -> SrmCheck:
    """Sample ratio mismatch: chi-square goodness of fit (`scipy.stats.chisquare`) of the
    units assigned to each variant against the planned split (equal by default).
    Flagged when p < threshold (0.001): the assignment itself is broken (a redirect
    dropping users, a bot filter hitting one arm), so no metric comparison can be trusted.
    """
    counts = tuple(int(c) for c in observed)
    if len(counts) < 2 or any(c < 0 for c in counts):
        raise ValueError("need at least two non-negative variant counts")
    weights = (1.0,) * len(counts) if planned_split is None else tuple(planned_split)
    if len(weights) != len(counts) or any(w <= 0 for w in weights):
        raise ValueError("planned split needs one positive weight per variant")
    split = tuple(w / sum(weights) for w in weights)
    total = sum(counts)
    expected = tuple(total * w for w in split)
    if total == 0:
        return SrmCheck(
            counts, expected, split, 0.0, 1.0, threshold, False, "no units assigned yet"
        )
    res = stats.chisquare(counts, f_exp=expected)
    statistic, p = float(res.statistic), float(res.pvalue)
    flagged = p < threshold
    shares = " / ".join(f"{c:,}" for c in counts)
    plan = " / ".join(f"{100 * w:g}%" for w in split)
    if flagged:
        message = (
            f"sample ratio mismatch: {shares} assigned against a planned {plan} split "
            f"({_p_text(p)}, below {threshold:g}); the assignment is broken, so no "
            "metric here can be trusted: fix the assignment and restart the experiment"
        )
    else:
        message = f"assignment {shares} matches the planned {plan} split ({_p_text(p)})"
    return SrmCheck(counts, expected, split, statistic, p, threshold, flagged, message)


# -- minimum-sample gate ---------------------------------------------------------------


def days_to_decision(required: int, current: int, daily_per_variant: float | None) -> int | None:
    """Whole days until `current` reaches `required` at `daily_per_variant` new units per
    variant per day: 0 when already there, None when there is no traffic to wait for."""
    if current >= required:
        return 0
    if daily_per_variant is None or daily_per_variant <= 0:
        return None
    return math.ceil((required - current) / daily_per_variant)


def sample_gate(
    n_control: int,
    n_treatment: int,
    required_per_variant: int,
    *,
    daily_per_variant: float | None = None,
) -> Gate:
    """Is there enough data per variant for any verdict? The smaller variant decides."""
    current = min(n_control, n_treatment)
    if current >= required_per_variant:
        return Gate(required_per_variant, n_control, n_treatment, True, None, None)
    days = days_to_decision(required_per_variant, current, daily_per_variant)
    wait = (
        f" (about {days} more day{'s' if days != 1 else ''} at current traffic)"
        if days is not None
        else " (no traffic figure to estimate when)"
    )
    message = f"not enough data: {current:,} of {required_per_variant:,} needed per variant{wait}"
    return Gate(required_per_variant, n_control, n_treatment, False, days, message)
