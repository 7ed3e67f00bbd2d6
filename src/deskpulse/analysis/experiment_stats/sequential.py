"""Always-valid confidence sequences: intervals and p-values that stay valid however
often the experiment is looked at before its horizon.
"""

from __future__ import annotations

import math

from deskpulse.analysis.experiment_stats.results import (
    ALPHA,
    Interval,
    SequentialInterval,
    _check_alpha,
)

# -- always-valid confidence sequences --------------------------------------------------


def mixture_rho(horizon: int, alpha: float = ALPHA) -> float:
    """The normal-mixture parameter, on the standardised scale (unit variance), that makes
    the boundary narrowest at n = `horizon`.

    With x = n sigma^2 rho^2 the half-width is sigma / sqrt(n) times
    sqrt(2 (1 + 1/x) (log(1 + x) / 2 + log(1/alpha))), minimised where
    x = -2 log(alpha) + log(1 + x); one fixed-point step from x = -2 log(alpha) gives the
    closed form of Waudby-Smith et al. (2021):
    rho^2 = (-2 log(alpha) + log(1 - 2 log(alpha))) / horizon.
    """
    _check_alpha(alpha)
    if horizon < 1:
        raise ValueError("the horizon must be at least 1")
    minus_2_log_alpha = -2.0 * math.log(alpha)
    return math.sqrt((minus_2_log_alpha + math.log(1.0 + minus_2_log_alpha)) / horizon)


def confidence_sequence_half_width(
    n: int, sigma2: float, rho: float, alpha: float = ALPHA
) -> float:
    """Half-width of the normal-mixture confidence sequence for a mean of n samples with
    per-sample variance sigma2:

        sqrt( 2 (n sigma2 rho^2 + 1) / (n^2 rho^2) * log( sqrt(n sigma2 rho^2 + 1) / alpha ) )

    Robbins' normal mixture as a time-uniform boundary: Howard, Ramdas, McAuliffe &
    Sekhon (2021), "Time-uniform, nonparametric, nonasymptotic confidence sequences",
    Annals of Statistics 49(2); with the running variance estimate plugged in it is the
    asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas
    (2021), "Time-uniform central limit theory and asymptotic confidence sequences"
    (arXiv:2103.06476). The interval covers the true value at every n simultaneously
    with probability 1 - alpha, so it may be looked at after every conversation.
    """
    _check_alpha(alpha)
    if n < 1 or sigma2 < 0 or rho <= 0:
        raise ValueError("need n >= 1, sigma2 >= 0 and rho > 0")
    v = n * sigma2 * rho**2 + 1.0
    return math.sqrt(2.0 * v / (n**2 * rho**2) * math.log(math.sqrt(v) / alpha))


def always_valid_p_value(z: float, n: int, horizon: int, alpha: float = ALPHA) -> float:
    """The p-value matching the mixture boundary: 1 / (the normal-mixture martingale),
    sqrt(1 + x) exp(-z^2 x / (2 (1 + x))) with x = n rho^2 and rho = `mixture_rho`.
    It is below alpha exactly when the confidence sequence excludes 0, and stays valid
    at any stopping time."""
    x = n * mixture_rho(horizon, alpha) ** 2
    return min(1.0, math.sqrt(1.0 + x) * math.exp(-(z**2) * x / (2.0 * (1.0 + x))))


def sequential_difference(
    difference: float,
    standard_error: float,
    n: int,
    *,
    horizon: int,
    alpha: float = ALPHA,
    fixed: Interval | None = None,
    fixed_p_value: float | None = None,
) -> SequentialInterval:
    """An always-valid interval for a difference B - A with standard error `standard_error`
    from `n` units (both variants together).

    The two-sample estimate is read as a mean of n per-unit terms with variance
    sigma^2 = n se^2 (the influence-function variance of the difference of means), and
    rho = rho0 / sigma with rho0 = `mixture_rho(horizon, alpha)`; that keeps rho fixed in
    advance on the standardised scale, and the half-width becomes
    se x sqrt(2 (1 + 1/x) (log(1 + x) / 2 + log(1/alpha))), x = n rho0^2, which is never
    below se x z_(1-alpha/2) (its minimum over x is about 3.0 se at alpha = 0.05).

    Passing the `fixed` (fixed-horizon) interval and `fixed_p_value` returns the hull of
    both and the larger p-value: a wider interval keeps the time-uniform coverage, and
    it guarantees the sequential answer is never narrower nor more confident than the
    fixed-horizon one, also where the normal approximation behind the mixture is weakest
    (rates near 0% or 100%, where Newcombe's interval is wider than Wald's).
    """
    _check_alpha(alpha)
    if n < 1 or standard_error < 0 or not math.isfinite(standard_error):
        raise ValueError("need n >= 1 and a finite standard error >= 0")
    rho0 = mixture_rho(horizon, alpha)
    if standard_error == 0.0:
        half, p = 0.0, (1.0 if difference == 0 else 0.0)
    else:
        sigma = standard_error * math.sqrt(n)
        half = confidence_sequence_half_width(n, sigma**2, rho0 / sigma, alpha)
        p = always_valid_p_value(difference / standard_error, n, horizon, alpha)
    low, high = difference - half, difference + half
    if fixed is not None:
        low, high = min(low, fixed.low), max(high, fixed.high)
    if fixed_p_value is not None:
        p = max(p, fixed_p_value)
    return SequentialInterval(
        difference=difference,
        interval=Interval(low, high),
        mixture_half_width=half,
        p_value=p,
        n=n,
        horizon=horizon,
        rho=rho0,
        alpha=alpha,
    )
