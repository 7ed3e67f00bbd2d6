"""Power: how many units per variant an effect needs, and the power already reached."""

from __future__ import annotations

import math

import numpy as np
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    proportion_effectsize,
)

from deskpulse.analysis.experiment_stats.checks import (
    days_to_decision,
)
from deskpulse.analysis.experiment_stats.results import (
    ALPHA,
    PowerPlan,
    _check_alpha,
)


def _required(
    solver: NormalIndPower | TTestIndPower, effect: float, alpha: float, power: float
) -> int:
    n = solver.solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0)
    return math.ceil(float(np.asarray(n).item()))


def _achieved(
    solver: NormalIndPower | TTestIndPower, effect: float, n_a: int, n_b: int, alpha: float
) -> float:
    if n_a < 2 or n_b < 2:
        return 0.0  # no test can run yet
    power = solver.power(effect_size=effect, nobs1=n_a, alpha=alpha, ratio=n_b / n_a)
    return float(np.asarray(power).item())


def plan_rates(
    baseline_rate: float,
    mde_relative: float,
    *,
    n_control: int = 0,
    n_treatment: int | None = None,
    alpha: float = ALPHA,
    power: float = 0.8,
    daily_per_variant: float | None = None,
) -> PowerPlan:
    """Power for a rate: `NormalIndPower` on Cohen's h between the baseline and the
    baseline moved by `mde_relative` (0.05 = a 5% relative lift), two-sided, equal split.
    Days to a decision count the smaller variant up to the required sample."""
    _check_alpha(alpha)
    n_b = n_control if n_treatment is None else n_treatment
    if not 0 < baseline_rate < 1:
        raise ValueError("the baseline rate must lie strictly between 0 and 1")
    target = baseline_rate * (1.0 + mde_relative)
    if mde_relative == 0 or not 0 < target < 1:
        raise ValueError(f"a {mde_relative:+.1%} lift on {baseline_rate:.1%} is not a rate")
    h = abs(float(proportion_effectsize(target, baseline_rate)))
    solver = NormalIndPower()
    required = _required(solver, h, alpha, power)
    return PowerPlan(
        kind="rate",
        baseline=baseline_rate,
        sd=None,
        mde_relative=mde_relative,
        mde_absolute=target - baseline_rate,
        effect_size=h,
        alpha=alpha,
        target_power=power,
        required_per_variant=required,
        n_control=n_control,
        n_treatment=n_b,
        achieved_power=_achieved(solver, h, n_control, n_b, alpha),
        daily_per_variant=daily_per_variant,
        days_to_decision=days_to_decision(required, min(n_control, n_b), daily_per_variant),
    )


def plan_means(
    baseline_mean: float,
    sd: float,
    mde_relative: float,
    *,
    n_control: int = 0,
    n_treatment: int | None = None,
    alpha: float = ALPHA,
    power: float = 0.8,
    daily_per_variant: float | None = None,
) -> PowerPlan:
    """Power for a mean: `TTestIndPower` on Cohen's d = |baseline x mde_relative| / sd,
    two-sided, equal split. Use the control's (or last month's) sd."""
    _check_alpha(alpha)
    n_b = n_control if n_treatment is None else n_treatment
    mde_abs = baseline_mean * mde_relative
    if sd <= 0 or mde_abs == 0:
        raise ValueError("need sd > 0 and a non-zero effect (baseline and mde both non-zero)")
    d = abs(mde_abs) / sd
    solver = TTestIndPower()
    required = max(_required(solver, d, alpha, power), 2)
    return PowerPlan(
        kind="mean",
        baseline=baseline_mean,
        sd=sd,
        mde_relative=mde_relative,
        mde_absolute=mde_abs,
        effect_size=d,
        alpha=alpha,
        target_power=power,
        required_per_variant=required,
        n_control=n_control,
        n_treatment=n_b,
        achieved_power=_achieved(solver, d, n_control, n_b, alpha),
        daily_per_variant=daily_per_variant,
        days_to_decision=days_to_decision(required, min(n_control, n_b), daily_per_variant),
    )
