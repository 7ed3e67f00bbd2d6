"""The tests: rates (z or chi-square), means (Welch or Mann-Whitney) and Holm's
correction over several comparisons, each oriented as treatment (B) minus control (A).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportions_ztest,
)

from deskpulse.analysis.experiment_stats.results import (
    ALPHA,
    Comparison,
    HolmResult,
    Interval,
    MannWhitney,
    MeanInput,
    MeanTest,
    RateCounts,
    RateTest,
    _as_samples,
    _check_alpha,
    _mean_input,
)

# The Hodges-Lehmann shift needs every treatment-control pair: cap the work (4M pairs is
# ~32 MB of float64) and report None above it rather than a subsample that would change
# from run to run.
HODGES_LEHMANN_MAX_PAIRS = 4_000_000


# -- rates ------------------------------------------------------------------------------


def compare_rates(
    control: RateCounts,
    treatment: RateCounts,
    *,
    alpha: float = ALPHA,
    test: RateTest = "z",
    continuity: bool = False,
) -> Comparison:
    """Treatment against control on a binary metric.

    - p-value: the pooled two-proportion z-test (`proportions_ztest`, test="z") or
      Pearson's chi-square on the 2x2 table (`chi2_contingency`, test="chi2"). Without
      continuity correction (the default) the two agree exactly: X^2 = z^2. Yates'
      correction (`continuity=True`) is conservative at A/B sample sizes, so it is off.
    - difference p_B - p_A with Newcombe's hybrid score interval (Newcombe 1998, method
      10): good coverage even near 0% or 100%, where the Wald interval breaks down.
    - lift p_B / p_A - 1 with the log risk-ratio interval, 0.5 added to each count
      (statsmodels "log-adjusted"), so a variant with zero successes still gets an
      interval. None when the control rate is 0 (no baseline to be relative to).
    """
    _check_alpha(alpha)
    if control.trials == 0 or treatment.trials == 0:
        raise ValueError("each variant needs at least one trial")
    s_a, n_a, s_b, n_b = control.successes, control.trials, treatment.successes, treatment.trials
    p_a, p_b = s_a / n_a, s_b / n_b
    pooled = (s_a + s_b) / (n_a + n_b)
    statistic: float | None
    df: float | None = None
    if pooled in (0.0, 1.0):
        # Everyone failed (or everyone succeeded) in both variants: no variation to test,
        # and the z statistic would be 0/0.
        statistic, p_value = 0.0, 1.0
        df = 1.0 if test == "chi2" else None
    elif test == "z":
        z, p = proportions_ztest([s_b, s_a], [n_b, n_a])
        statistic, p_value = float(z), float(p)
    elif test == "chi2":
        table = [[s_b, n_b - s_b], [s_a, n_a - s_a]]
        res = stats.chi2_contingency(table, correction=continuity)
        statistic, p_value, df = float(res.statistic), float(res.pvalue), float(res.dof)
    else:
        raise ValueError(f"unknown rate test {test!r}")
    low, high = confint_proportions_2indep(
        s_b, n_b, s_a, n_a, method="newcomb", compare="diff", alpha=alpha
    )
    lift: float | None = None
    lift_ci: Interval | None = None
    if s_a > 0:
        lift = p_b / p_a - 1.0
        r_low, r_high = confint_proportions_2indep(
            s_b, n_b, s_a, n_a, method="log-adjusted", compare="ratio", alpha=alpha
        )
        lift_ci = Interval(float(r_low) - 1.0, float(r_high) - 1.0)
    return Comparison(
        kind="rate",
        test="two_proportion_z" if test == "z" else "chi_square",
        alpha=alpha,
        n_control=n_a,
        n_treatment=n_b,
        control_value=p_a,
        treatment_value=p_b,
        difference=p_b - p_a,
        difference_ci=Interval(float(low), float(high)),
        lift=lift,
        lift_ci=lift_ci,
        standard_error=math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b),
        statistic=statistic,
        p_value=p_value,
        df=df,
    )


# -- means ------------------------------------------------------------------------------


def compare_means(
    control: MeanInput,
    treatment: MeanInput,
    *,
    alpha: float = ALPHA,
    test: MeanTest = "welch",
) -> Comparison:
    """Treatment against control on a numeric metric (CSAT, cost, turns, resolution time).

    Either variant may be raw samples (array or sequence) or a `MeanSummary`; the
    Mann-Whitney option needs raw samples for both.

    - Welch's t-test (`ttest_ind(equal_var=False)`, or `ttest_ind_from_stats` for
      summaries): no equal-variance assumption, which A/B variants rarely satisfy.
    - difference mean_B - mean_A with the Welch interval on Welch-Satterthwaite degrees
      of freedom (scipy's `confidence_interval()` for samples; the same formula written
      out for summaries, checked against scipy in the tests).
    - lift mean_B / mean_A - 1 with a delta-method interval: Var(B/A) is approximated by
      se_B^2 / mean_A^2 + mean_B^2 se_A^2 / mean_A^4 and the interval is the ratio plus or
      minus the normal quantile times its square root (Deng, Knoblich & Lu 2018, "Applying
      the Delta Method in Metric Analytics"). None when the control mean is 0.
    - test="mann_whitney": the p-value is Mann-Whitney U's (see `mann_whitney`); the
      intervals stay Welch's.
    """
    _check_alpha(alpha)
    if test not in ("welch", "mann_whitney"):
        raise ValueError(f"unknown mean test {test!r}")
    a, a_samples = _mean_input(control)
    b, b_samples = _mean_input(treatment)
    if a.n < 2 or b.n < 2:
        raise ValueError("each variant needs at least 2 observations")
    var_a, var_b = a.sd**2 / a.n, b.sd**2 / b.n
    se = math.sqrt(var_a + var_b)
    diff = b.mean - a.mean
    statistic: float | None
    df: float | None
    if se == 0.0:
        # Both variants constant: the difference is known exactly.
        statistic = 0.0 if diff == 0 else None
        p_value = 1.0 if diff == 0 else 0.0
        df, ci = None, Interval(diff, diff)
    elif a_samples is not None and b_samples is not None:
        res = stats.ttest_ind(b_samples, a_samples, equal_var=False)
        statistic, p_value, df = float(res.statistic), float(res.pvalue), float(res.df)
        conf = res.confidence_interval(confidence_level=1.0 - alpha)
        ci = Interval(float(conf.low), float(conf.high))
    else:
        res = stats.ttest_ind_from_stats(b.mean, b.sd, b.n, a.mean, a.sd, a.n, equal_var=False)
        statistic, p_value = float(res.statistic), float(res.pvalue)
        # Welch-Satterthwaite: ttest_ind_from_stats does not return df or an interval.
        df = (var_a + var_b) ** 2 / (var_a**2 / (a.n - 1) + var_b**2 / (b.n - 1))
        half = float(stats.t.ppf(1.0 - alpha / 2, df)) * se
        ci = Interval(diff - half, diff + half)
    lift: float | None = None
    lift_ci: Interval | None = None
    if a.mean != 0:
        ratio = b.mean / a.mean
        se_ratio = math.sqrt(var_b / a.mean**2 + b.mean**2 * var_a / a.mean**4)
        z = float(stats.norm.ppf(1.0 - alpha / 2))
        lift = ratio - 1.0
        lift_ci = Interval(lift - z * se_ratio, lift + z * se_ratio)
    rank: MannWhitney | None = None
    name = "welch_t"
    if test == "mann_whitney":
        if a_samples is None or b_samples is None:
            raise ValueError("Mann-Whitney needs raw samples for both variants, not summaries")
        rank = mann_whitney(a_samples, b_samples)
        statistic, p_value, df, name = rank.u_statistic, rank.p_value, None, "mann_whitney_u"
    return Comparison(
        kind="mean",
        test=name,
        alpha=alpha,
        n_control=a.n,
        n_treatment=b.n,
        control_value=a.mean,
        treatment_value=b.mean,
        difference=diff,
        difference_ci=ci,
        lift=lift,
        lift_ci=lift_ci,
        standard_error=se,
        statistic=statistic,
        p_value=p_value,
        df=df,
        mann_whitney=rank,
    )


def mann_whitney(control: npt.ArrayLike, treatment: npt.ArrayLike) -> MannWhitney:
    """Two-sided Mann-Whitney U (`scipy.stats.mannwhitneyu`, method "auto": exact for
    small samples without ties, otherwise the normal approximation with tie and
    continuity corrections). U is the treatment sample's."""
    a, b = _as_samples(control), _as_samples(treatment)
    if a.size == 0 or b.size == 0:
        raise ValueError("each variant needs at least one observation")
    res = stats.mannwhitneyu(b, a, alternative="two-sided")
    u = float(res.statistic)
    pairs = a.size * b.size
    hl = None
    if pairs <= HODGES_LEHMANN_MAX_PAIRS:
        hl = float(np.median(np.subtract.outer(b, a)))
    return MannWhitney(
        u_statistic=u, p_value=float(res.pvalue), common_language=u / pairs, hodges_lehmann=hl
    )


# -- multiple comparisons ---------------------------------------------------------------


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> HolmResult:
    """Holm's step-down adjustment (`multipletests(method="holm")`): controls the chance
    of any false "significant" across the family at alpha, and is never less powerful
    than Bonferroni. Adjusted p-values are in the input order."""
    _check_alpha(alpha)
    ps = tuple(float(p) for p in p_values)
    if not ps:
        return HolmResult(alpha=alpha, p_values=(), adjusted=(), reject=())
    if any(not 0.0 <= p <= 1.0 for p in ps):
        raise ValueError(f"p-values must lie in [0, 1], got {ps}")
    _, adjusted, _, _ = multipletests(list(ps), alpha=alpha, method="holm")
    adj = tuple(float(p) for p in adjusted)
    return HolmResult(alpha=alpha, p_values=ps, adjusted=adj, reject=tuple(p < alpha for p in adj))
