"""The tests: rates (z or chi-square), means (Welch or Mann-Whitney) and Holm's
correction over several comparisons, each oriented as treatment (B) minus control (A).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import stats
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
    Samples,
    _as_samples,
    _check_alpha,
    _mean_input,
)

# Kept for callers of an earlier version: the Hodges-Lehmann shift and its interval are
# now computed by selection without materialising the pairs, so there is no cap.
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
    - lift mean_B / mean_A - 1 with Fieller's interval on Welch's t quantile (see
      `_fieller_lift`; it replaced the delta method, which was too narrow on skewed data).
      None when the control mean is 0, or when the control mean is not clearly away
      from 0 (then only the difference has an interval).
    - test="mann_whitney": the p-value is Mann-Whitney U's and the effect is the
      Hodges-Lehmann shift with its interval (`mann_whitney`; the verdict takes the
      direction from it); `difference` and `difference_ci` stay Welch's for the means
      (the sequential interval is built on them) and there is no lift of means.
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
        lift = b.mean / a.mean - 1.0
        lift_ci = _fieller_lift(a.mean, var_a, b.mean, var_b, df, alpha)
    rank: MannWhitney | None = None
    name = "welch_t"
    if test == "mann_whitney":
        if a_samples is None or b_samples is None:
            raise ValueError("Mann-Whitney needs raw samples for both variants, not summaries")
        rank = mann_whitney(a_samples, b_samples, alpha=alpha)
        statistic, p_value, df, name = rank.u_statistic, rank.p_value, None, "mann_whitney_u"
        # A lift of means next to a rank test's p-value is how a worse treatment got
        # shipped (issue 15): the rank option reports the Hodges-Lehmann shift instead.
        lift, lift_ci = None, None
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


def _fieller_lift(
    mean_a: float, var_a: float, mean_b: float, var_b: float, df: float | None, alpha: float
) -> Interval | None:
    """Fieller's interval for mean_B / mean_A - 1 with Welch's t quantile: every ratio r
    whose Welch test of mean_B = r mean_A is not rejected,
    (mean_B - r mean_A)^2 <= t^2 (var_B + r^2 var_A), var = se^2 of each mean.

    Why not the delta method: on skewed data (cost, durations) the ratio of two means is
    itself skewed and the symmetric delta interval covered 0 in only 84% of A/A runs at 30
    per variant on lognormal sigma 1.5; Fieller's interval is the inversion of the Welch
    test, so at a ratio of 1 it excludes 0 exactly when Welch's p < alpha (coverage as
    Welch's, 97% there; benchmarks/bench_experiments.py). None when the control's mean is
    not clearly away from 0 (t^2 var_A >= mean_A^2): the set is then unbounded and no lift
    can be bounded, only the difference.
    """
    if var_a == 0.0 and var_b == 0.0:
        lift = mean_b / mean_a - 1.0
        return Interval(lift, lift)
    t = float(stats.t.ppf(1.0 - alpha / 2, df if df is not None else math.inf))
    quad = mean_a**2 - t**2 * var_a
    if quad <= 0.0:
        return None
    half_b = mean_a * mean_b
    disc = half_b**2 - quad * (mean_b**2 - t**2 * var_b)
    root = math.sqrt(max(disc, 0.0))
    return Interval((half_b - root) / quad - 1.0, (half_b + root) / quad - 1.0)


def _pairwise_order_statistic(a_sorted: Samples, b: Samples, k: int) -> float:
    """The k-th smallest (1-based) of all b_i - a_j differences without materialising
    them: bisection on the value with counts by `searchsorted`, then the exact
    difference at the converged value. O((n + m) log m) per step, so any sample size."""
    m = a_sorted.size

    def count_at_most(t: float) -> int:  # #(b_i - a_j <= t) = #(a_j >= b_i - t)
        return int(m * b.size - np.searchsorted(a_sorted, b - t, side="left").sum())

    low = float(b.min() - a_sorted[-1])
    high = float(b.max() - a_sorted[0])
    for _ in range(200):
        if count_at_most(low) >= k:
            return low
        middle = low + (high - low) / 2
        if middle in (low, high):
            break
        if count_at_most(middle) >= k:
            high = middle
        else:
            low = middle
    # The largest difference <= high: for each b_i the largest a_j with b_i - a_j <= high.
    index = np.searchsorted(a_sorted, b - high, side="left")
    valid = index < m
    candidates = b[valid] - a_sorted[index[valid]]
    return float(candidates.max())


def mann_whitney(
    control: npt.ArrayLike, treatment: npt.ArrayLike, *, alpha: float = ALPHA
) -> MannWhitney:
    """Two-sided Mann-Whitney U (`scipy.stats.mannwhitneyu`, method "auto": exact for
    small samples without ties, otherwise the normal approximation with tie and
    continuity corrections). U is the treatment sample's.

    The Hodges-Lehmann shift is the median of all treatment - control differences D, and
    its interval the inversion of the same test (Lehmann 1963): the shifts d for which
    U(d) = #(D > d) + 1/2 #(D = d) stays within nm/2 +- c, c = z sd(U) + 1/2 (scipy's
    tie-corrected sd and continuity correction). So with the normal approximation the
    interval excludes 0 exactly when p < alpha, and it lies on the side the shift points
    to: interval, shift and p-value never disagree (`direction`).
    """
    _check_alpha(alpha)
    a, b = _as_samples(control), _as_samples(treatment)
    if a.size == 0 or b.size == 0:
        raise ValueError("each variant needs at least one observation")
    res = stats.mannwhitneyu(b, a, alternative="two-sided")
    u = float(res.statistic)
    n, m = b.size, a.size
    pairs = n * m
    a_sorted = np.sort(a)
    if pairs % 2:
        hl = _pairwise_order_statistic(a_sorted, b, pairs // 2 + 1)
    else:
        hl = (
            _pairwise_order_statistic(a_sorted, b, pairs // 2)
            + _pairwise_order_statistic(a_sorted, b, pairs // 2 + 1)
        ) / 2
    # scipy's sd of U with the tie correction.
    _, tie_counts = np.unique(np.concatenate([a, b]), return_counts=True)
    total = n + m
    tie_term = float((tie_counts**3 - tie_counts).sum()) / (total * (total - 1)) if total > 1 else 0
    sd_u = math.sqrt(pairs / 12 * ((total + 1) - tie_term))
    c = float(stats.norm.ppf(1.0 - alpha / 2)) * sd_u + 0.5
    low_rank = pairs - math.floor(pairs / 2 + c)  # L = D_(N - floor(N/2 + c))
    high_rank = pairs - math.ceil(pairs / 2 - c) + 1  # H = D_(N - ceil(N/2 - c) + 1)
    shift_ci = Interval(
        _pairwise_order_statistic(a_sorted, b, min(max(low_rank, 1), pairs)),
        _pairwise_order_statistic(a_sorted, b, min(max(high_rank, 1), pairs)),
    )
    # On whole-number data (scores, turns) an end can sit exactly on 0 while the test
    # rejects a shift of 0 (p < alpha): all shifts just beyond 0 are compatible, 0 is not.
    # The interval is open there and says so ("above 0"), so it never reads as containing
    # 0 next to a significant p-value.
    rejects_zero = abs(u - pairs / 2) > c
    shift_open = (
        shift_ci.low == 0.0 and rejects_zero,
        shift_ci.high == 0.0 and rejects_zero,
    )
    common = u / pairs
    # The shift's sign; a shift of exactly 0 (many ties, e.g. 1-5 scores) falls back to the
    # sign of P(B > A) - 1/2, which is the side U (and so the p-value) points to.
    direction = (hl > 0) - (hl < 0) or (common > 0.5) - (common < 0.5)
    return MannWhitney(
        u_statistic=u,
        p_value=float(res.pvalue),
        common_language=common,
        hodges_lehmann=hl,
        shift_ci=shift_ci,
        shift_open=shift_open,
        direction=direction,
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
    # Holm by hand, the formula of `multipletests(method="holm")` (the tests compare the
    # two): statsmodels runs gc.collect() on every call, 67 ms, which made a verdict 20
    # times slower than all of its statistics together.
    order = np.argsort(ps, kind="stable")
    m = len(ps)
    steps = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * np.asarray(ps)[order]))
    adjusted = np.empty(m)
    adjusted[order] = steps
    adj = tuple(float(p) for p in adjusted)
    return HolmResult(alpha=alpha, p_values=ps, adjusted=adj, reject=tuple(p < alpha for p in adj))
