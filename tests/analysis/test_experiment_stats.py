"""The experiment statistics core: published worked examples, agreement with scipy and
statsmodels on generated data, SRM, gates, power, always-valid intervals and the verdict.

Published numbers are asserted to the rounding they were published with:

- Welch's t: the three examples of Wikipedia's "Welch's t-test" article (also used by
  Rosetta Code's Welch's t-test task): t = 2.46 / 1.57 / 2.22, df = 25.0 / 9.9 / 24.5,
  p = 0.021 / 0.149 / 0.036 (A2 against A1, so the signs are positive here).
- Newcombe (1998), "Interval estimation for the difference between independent
  proportions: comparison of eleven methods", Stat Med 17:873-890, table II, example
  (a): 56/70 - 48/80 = 0.2, method 10 (hybrid score) 0.0524 to 0.3339.
- Fagerland, Lydersen & Laake (2015), "Recommended confidence intervals for two
  independent binomial proportions", SMMR 24(2): 7/34 - 1/34, Newcombe hybrid score
  0.019 to 0.34 (the same table statsmodels' own tests quote).
- Agresti, Categorical Data Analysis, table 2.3 (Physicians' Health Study): myocardial
  infarction 189 of 11,034 on placebo, 104 of 11,037 on aspirin: proportions 0.0171
  and 0.0094, difference 0.0077, relative risk 1.82, Pearson X^2 = 25.01 (so z = 5.00).
- Holm: Wikipedia's "Holm-Bonferroni method" example, p = 0.01, 0.04, 0.03, 0.005 at
  alpha 0.05: hypotheses 1 and 4 rejected, 2 and 3 not.
- Mann-Whitney U: scipy's `mannwhitneyu` documentation example (data from Shier 2004,
  "Statistics: 2.3 The Mann-Whitney U Test"): males 19 22 16 29 24 against females
  20 11 17 12, U = 17, exact two-sided p = 0.1111.
- Power: Cohen (1988), Statistical Power Analysis, table 2.4.1: d = 0.5, two-sided
  alpha 0.05, power 0.80 needs n = 64 per group.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)

from deskpulse.analysis import experiment_stats as es
from deskpulse.analysis.experiment_stats import (
    Experiment,
    MeanSummary,
    Metric,
    RateCounts,
    compare_means,
    compare_rates,
    confidence_sequence_half_width,
    days_to_decision,
    decide,
    holm,
    mann_whitney,
    mixture_rho,
    plan_means,
    plan_rates,
    sample_gate,
    sequential_difference,
    srm_check,
)

Z975 = float(stats.norm.ppf(0.975))

# Wikipedia, "Welch's t-test", Examples.
WIKI_A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
WIKI_A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
WIKI_B1 = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8]
WIKI_B2 = [
    *[21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8],
    *[20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8],
]
WIKI_C1 = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0]
WIKI_C2 = [
    *[28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7],
    *[23.2, 17.5, 20.6, 18.0, 23.9, 21.6, 24.3, 20.4, 24.0, 13.2],
]


def rng(seed: int = 3) -> np.random.Generator:
    return np.random.default_rng(seed)


def walk(value: Any) -> None:
    """Fail on anything in a result that is not a plain JSON-able Python value."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            walk(item)
    else:
        assert value is None or type(value) in (bool, int, float, str), (value, type(value))
        if isinstance(value, float):
            assert math.isfinite(value)


# =====================================================================================
# Published worked examples
# =====================================================================================


@pytest.mark.parametrize(
    ("control", "treatment", "t", "df", "p"),
    [
        (WIKI_A1, WIKI_A2, 2.46, 25.0, 0.021),
        (WIKI_B1, WIKI_B2, 1.57, 9.9, 0.149),
        (WIKI_C1, WIKI_C2, 2.22, 24.5, 0.036),
    ],
    ids=["example-1", "example-2", "example-3"],
)
def test_welch_matches_wikipedia_welchs_t_test_examples(
    control: list[float], treatment: list[float], t: float, df: float, p: float
) -> None:
    """Wikipedia, "Welch's t-test", Examples 1-3 (t and p to 2-3 decimals, df to 1)."""
    pairs: list[tuple[es.MeanInput, es.MeanInput]] = [
        (control, treatment),
        (MeanSummary.from_samples(control), treatment),
    ]
    for a, b in pairs:
        result = compare_means(a, b)
        assert result.test == "welch_t"
        assert result.statistic == pytest.approx(t, abs=0.005)
        assert result.df == pytest.approx(df, abs=0.05)
        assert result.p_value == pytest.approx(p, abs=0.0005)
        assert result.difference_ci.low < result.difference < result.difference_ci.high


def test_newcombe_1998_table_ii_example_a_hybrid_score_interval() -> None:
    """Newcombe (1998) table II (a): 56/70 - 48/80 = 0.2, method 10: 0.0524 to 0.3339."""
    result = compare_rates(RateCounts(48, 80), RateCounts(56, 70))
    assert result.difference == pytest.approx(0.2)
    assert result.difference_ci.low == pytest.approx(0.0524, abs=0.00005)
    assert result.difference_ci.high == pytest.approx(0.3339, abs=0.00005)


def test_fagerland_2015_newcombe_hybrid_score_interval() -> None:
    """Fagerland, Lydersen & Laake (2015): 7/34 - 1/34, Newcombe 0.019 to 0.34."""
    result = compare_rates(RateCounts(1, 34), RateCounts(7, 34))
    assert result.difference_ci.low == pytest.approx(0.019, abs=0.0005)
    assert result.difference_ci.high == pytest.approx(0.34, abs=0.005)


def test_agresti_physicians_health_study_z_chi_square_and_relative_risk() -> None:
    """Agresti, Categorical Data Analysis, table 2.3: 189/11,034 placebo against 104/11,037
    aspirin. Published: 0.0171, 0.0094, difference 0.0077, relative risk 1.82, X^2 = 25.01.
    Control = aspirin here, so the "lift" of placebo is the relative risk minus 1."""
    aspirin, placebo = RateCounts(104, 11037), RateCounts(189, 11034)
    z = compare_rates(aspirin, placebo)
    assert z.test == "two_proportion_z"
    assert z.control_value == pytest.approx(0.0094, abs=0.00005)
    assert z.treatment_value == pytest.approx(0.0171, abs=0.00005)
    assert z.difference == pytest.approx(0.0077, abs=0.00005)
    assert z.lift is not None
    assert z.lift + 1 == pytest.approx(1.82, abs=0.005)
    assert z.statistic == pytest.approx(math.sqrt(25.01), abs=0.001)  # z^2 = X^2
    chi = compare_rates(aspirin, placebo, test="chi2")
    assert chi.test == "chi_square"
    assert chi.df == 1
    assert chi.statistic == pytest.approx(25.01, abs=0.005)
    assert chi.p_value == pytest.approx(z.p_value, rel=1e-9)
    assert chi.p_value < 1e-6


def test_holm_matches_wikipedias_holm_bonferroni_example() -> None:
    """Wikipedia, "Holm-Bonferroni method": p = 0.01, 0.04, 0.03, 0.005 at alpha 0.05 ->
    H1 and H4 rejected. The adjusted values follow from the step-down definition
    max_(j<=i) (m - j + 1) p_(j): 4 x 0.005, 3 x 0.01, 2 x 0.03, max(0.06, 1 x 0.04)."""
    result = holm([0.01, 0.04, 0.03, 0.005], alpha=0.05)
    assert result.reject == (True, False, False, True)
    assert result.adjusted == pytest.approx((0.03, 0.06, 0.06, 0.02))


def test_mann_whitney_matches_scipys_documented_example() -> None:
    """scipy.stats.mannwhitneyu docs (Shier 2004 data): U = 17, exact p = 0.1111."""
    females, males = [20, 11, 17, 12], [19, 22, 16, 29, 24]
    result = mann_whitney(females, males)
    assert result.u_statistic == 17
    assert result.p_value == pytest.approx(0.1111, abs=0.00005)
    assert result.common_language == pytest.approx(17 / 20)
    differences = sorted(m - f for m in males for f in females)
    assert result.hodges_lehmann == pytest.approx(float(np.median(differences)))


def test_cohens_table_d_half_needs_64_per_group() -> None:
    """Cohen (1988) table 2.4.1: d = 0.5, two-sided alpha 0.05, power 0.8 -> n = 64."""
    plan = plan_means(10.0, 10.0, 0.5)  # d = 10 x 0.5 / 10 = 0.5
    assert plan.effect_size == pytest.approx(0.5)
    assert plan.required_per_variant == 64


# =====================================================================================
# Agreement with scipy / statsmodels on generated data
# =====================================================================================


@pytest.mark.parametrize("seed", range(5))
def test_rates_agree_with_statsmodels_and_scipy(seed: int) -> None:
    g = rng(seed)
    n_a, n_b = (int(x) for x in g.integers(200, 5000, size=2))
    s_a, s_b = int(g.binomial(n_a, 0.3)), int(g.binomial(n_b, 0.33))
    a, b = RateCounts(s_a, n_a), RateCounts(s_b, n_b)

    z = compare_rates(a, b)
    stat, p = proportions_ztest([s_b, s_a], [n_b, n_a])
    assert (z.statistic, z.p_value) == pytest.approx((stat, p), rel=1e-12)
    low, high = confint_proportions_2indep(s_b, n_b, s_a, n_a, method="newcomb")
    assert (z.difference_ci.low, z.difference_ci.high) == pytest.approx((low, high), rel=1e-12)
    r_low, r_high = confint_proportions_2indep(s_b, n_b, s_a, n_a, compare="ratio")
    assert z.lift_ci is not None
    assert (z.lift_ci.low + 1, z.lift_ci.high + 1) == pytest.approx((r_low, r_high), rel=1e-12)
    assert z.lift == pytest.approx((s_b / n_b) / (s_a / n_a) - 1)

    for continuity in (False, True):
        chi = compare_rates(a, b, test="chi2", continuity=continuity)
        table = [[s_b, n_b - s_b], [s_a, n_a - s_a]]
        ref = stats.chi2_contingency(table, correction=continuity)
        assert (chi.statistic, chi.p_value) == pytest.approx((ref.statistic, ref.pvalue))
    assert compare_rates(a, b, test="chi2").statistic == pytest.approx(z.statistic**2)  # type: ignore[operator]


def test_rates_without_variation_or_baseline() -> None:
    nothing = compare_rates(RateCounts(0, 500), RateCounts(0, 500))
    assert (nothing.p_value, nothing.statistic, nothing.lift, nothing.lift_ci) == (
        1.0,
        0.0,
        None,
        None,
    )
    assert nothing.difference_ci.low < 0 < nothing.difference_ci.high  # Newcombe still has width
    from_zero = compare_rates(RateCounts(0, 500), RateCounts(9, 500))
    assert from_zero.lift is None
    assert from_zero.p_value < 0.01
    with pytest.raises(ValueError, match="at least one trial"):
        compare_rates(RateCounts(0, 0), RateCounts(1, 10))
    with pytest.raises(ValueError, match="successes <= trials"):
        RateCounts(11, 10)


@pytest.mark.parametrize("seed", range(5))
def test_welch_agrees_with_scipy_from_samples_and_from_summaries(seed: int) -> None:
    g = rng(seed)
    a = g.lognormal(3.0, 0.8, size=int(g.integers(30, 400)))
    b = g.lognormal(3.1, 1.0, size=int(g.integers(30, 400)))
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval()
    pairs: list[tuple[es.MeanInput, es.MeanInput]] = [
        (a, b),
        (MeanSummary.from_samples(a), MeanSummary.from_samples(b)),
    ]
    for ctrl, trt in pairs:
        result = compare_means(ctrl, trt)
        assert result.statistic == pytest.approx(ref.statistic, rel=1e-9)
        assert result.p_value == pytest.approx(ref.pvalue, rel=1e-9)
        assert result.df == pytest.approx(ref.df, rel=1e-9)
        assert result.difference_ci.low == pytest.approx(ci.low, rel=1e-9)
        assert result.difference_ci.high == pytest.approx(ci.high, rel=1e-9)
        assert result.difference == pytest.approx(b.mean() - a.mean())


def test_mean_lift_interval_is_fiellers_inversion_of_welch() -> None:
    """At each end of the lift interval, Welch's test of mean_B = (1 + lift) mean_A sits
    exactly on its critical value (Fieller): the interval is the set of lifts the test
    does not reject."""
    g = rng(11)
    a, b = g.normal(100, 30, 500), g.normal(104, 35, 600)
    result = compare_means(a, b)
    ma, mb = a.mean(), b.mean()
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    assert result.lift == pytest.approx(mb / ma - 1)
    assert result.lift_ci is not None
    assert result.df is not None
    t = float(stats.t.ppf(0.975, result.df))
    for end in (result.lift_ci.low, result.lift_ci.high):
        r = 1 + end
        assert (mb - r * ma) / math.sqrt(vb + r * r * va) == pytest.approx(
            t if end < result.lift else -t
        )
    # Excludes 0 exactly when Welch's p < alpha.
    assert (result.lift_ci.low > 0 or result.lift_ci.high < 0) == (result.p_value < 0.05)
    assert compare_means(MeanSummary(50, 0.0, 1.0), MeanSummary(50, 0.3, 1.0)).lift is None
    # A control mean not clearly away from 0: no bounded lift, only the difference.
    assert compare_means(MeanSummary(30, 0.1, 1.0), MeanSummary(30, 0.3, 1.0)).lift_ci is None


def test_mean_lift_interval_covers_on_skewed_data() -> None:
    """Issue 15: on lognormal (sigma 1.5) costs with no true difference the delta-method
    lift interval covered 0 in 84% of runs at 30 per variant. Target >= 94%; the full
    figures (30 / 100 / 500) are benchmarks/bench_experiments.py's."""
    g = rng(30)
    runs, covered, delta = 400, 0, 0
    for _ in range(runs):
        a, b = g.lognormal(0, 1.5, 30), g.lognormal(0, 1.5, 30)
        ci = compare_means(a, b).lift_ci
        covered += ci is None or ci.contains(0.0)  # unbounded: covers, shows no lift
        ma, mb, va, vb = a.mean(), b.mean(), a.var(ddof=1) / 30, b.var(ddof=1) / 30
        se = math.sqrt(vb / ma**2 + mb**2 * va / ma**4)
        delta += abs(mb / ma - 1) <= Z975 * se
    assert covered / runs >= 0.95, covered / runs  # 0.94 is the target
    assert delta / runs < 0.92, delta / runs  # the delta method it replaced


def test_constant_variants_and_too_few_observations() -> None:
    same = compare_means([2.0, 2.0, 2.0], [2.0, 2.0])
    assert (same.p_value, same.statistic, same.df) == (1.0, 0.0, None)
    apart = compare_means([1.0, 1.0, 1.0], [2.0, 2.0, 2.0])
    assert apart.p_value == 0.0
    assert apart.statistic is None
    assert (apart.difference_ci.low, apart.difference_ci.high) == (1.0, 1.0)
    json.dumps(apart.as_json(), allow_nan=False)
    with pytest.raises(ValueError, match="at least 2"):
        compare_means([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        compare_means([1.0, float("nan")], [1.0, 2.0])


@pytest.mark.parametrize("seed", range(3))
def test_mann_whitney_agrees_with_scipy_with_ties(seed: int) -> None:
    g = rng(seed)
    a = g.integers(1, 6, size=300).astype(float)  # CSAT 1-5: ties everywhere
    b = g.integers(2, 6, size=280).astype(float)
    ref = stats.mannwhitneyu(b, a, alternative="two-sided")
    result = compare_means(a, b, test="mann_whitney")
    assert result.test == "mann_whitney_u"
    assert result.mann_whitney is not None
    assert result.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert result.statistic == ref.statistic
    ones = (b[:, None] > a[None, :]).mean() + 0.5 * (b[:, None] == a[None, :]).mean()
    assert result.mann_whitney.common_language == pytest.approx(ones)
    assert result.mann_whitney.hodges_lehmann == float(np.median(np.subtract.outer(b, a)))
    welch = compare_means(a, b)
    assert result.difference_ci == welch.difference_ci  # the intervals stay Welch's


def test_mann_whitney_needs_samples_and_computes_hodges_lehmann_at_any_size() -> None:
    with pytest.raises(ValueError, match="raw samples"):
        compare_means(MeanSummary(40, 1.0, 1.0), [1.0] * 40, test="mann_whitney")
    g = rng(4)
    a, b = g.lognormal(0, 1, 2100), g.lognormal(0.1, 1, 2000)  # 4.2M pairs: above the old cap
    result = mann_whitney(a, b)
    assert result.hodges_lehmann == pytest.approx(float(np.median(np.subtract.outer(b, a))))


@pytest.mark.parametrize("seed", range(40))
def test_hodges_lehmann_interval_and_p_value_never_disagree(seed: int) -> None:
    """The shift's interval is the inversion of the same test: it excludes 0 exactly when
    p < alpha, and lies on the side the shift (the verdict's direction) points to. Whole
    numbers (ties, an end on 0: open, "above 0") and continuous data alike."""
    g = rng(seed)
    n, m = int(g.integers(30, 250)), int(g.integers(30, 250))
    if seed % 2:
        a = g.integers(1, 6, m).astype(float)
        b = g.integers(1, 6, n).astype(float) + (g.random(n) < g.random() * 0.4)
    else:
        a, b = g.lognormal(0, 1, m), g.lognormal(g.normal(0, 0.3), 1, n)
    r = mann_whitney(a, b)
    assert r.shift_ci is not None
    low_ok = r.shift_ci.low < 0 or (r.shift_ci.low == 0 and not r.shift_open[0])
    high_ok = r.shift_ci.high > 0 or (r.shift_ci.high == 0 and not r.shift_open[1])
    assert (low_ok and high_ok) == (r.p_value >= 0.05)
    if r.p_value < 0.05:
        assert r.direction == (1 if r.shift_ci.low >= 0 else -1)
        assert r.direction == (1 if r.common_language > 0.5 else -1)


def test_mann_whitney_takes_its_direction_from_the_shift_not_the_means() -> None:
    """Issue 15: cost (lower is better), most pairs favour control, but 1% of expensive
    outliers make control's mean the higher one. The rank test is significant; the verdict
    used to read its direction from the means and shipped the dearer treatment."""
    g = rng(15)
    control = g.lognormal(0.0, 0.35, 2000)
    control[g.random(2000) < 0.01] *= 60.0
    treatment = g.lognormal(math.log(1.35), 0.35, 2000)
    assert treatment.mean() < control.mean()  # the means say "cheaper"
    metric = Metric(
        "cost", "mean", control, treatment, direction="lower_is_better", test="mann_whitney"
    )
    verdict = decide(Experiment("A", "B", metric))
    rank = verdict.primary.comparison.mann_whitney  # type: ignore[union-attr]
    assert rank is not None
    assert rank.shift_ci is not None
    assert rank.common_language > 0.7  # treatment dearer in most pairs
    assert rank.hodges_lehmann is not None
    assert rank.hodges_lehmann > 0
    assert rank.shift_ci.low > 0
    assert verdict.primary.effect == "bad"
    assert verdict.action == "keep_control"
    assert "median shift (Hodges-Lehmann) +" in verdict.reasons[0]
    assert verdict.primary.comparison.lift is None  # type: ignore[union-attr]


def test_holm_agrees_with_statsmodels() -> None:
    g = rng(7)
    for size in (1, 2, 5, 12):
        ps = [float(p) for p in g.uniform(0, 0.1, size)]
        reject, adjusted, _, _ = multipletests(ps, alpha=0.05, method="holm")
        result = holm(ps)
        assert result.adjusted == pytest.approx(tuple(adjusted))
        assert result.reject == tuple(bool(r) for r in reject)
    assert holm([]).adjusted == ()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([1.5])


# =====================================================================================
# SRM, gates and power
# =====================================================================================


def test_srm_flags_52_48_at_large_n_and_not_a_fair_split() -> None:
    skewed = srm_check([52_000, 48_000])
    assert skewed.flagged
    assert skewed.p_value < 1e-30
    assert "sample ratio mismatch" in skewed.message
    assert "52,000 / 48,000" in skewed.message
    fair = srm_check([50_100, 49_900])
    assert not fair.flagged
    assert fair.p_value > 0.5
    ref = stats.chisquare([50_100, 49_900])
    assert (fair.statistic, fair.p_value) == pytest.approx((ref.statistic, ref.pvalue))


def test_srm_against_a_planned_unequal_split() -> None:
    planned = srm_check([9_020, 980], (0.9, 0.1))
    assert not planned.flagged
    assert planned.expected == pytest.approx((9000.0, 1000.0))
    assert srm_check([9_020, 980]).flagged  # against 50/50 it is wildly off
    assert not srm_check([0, 0]).flagged
    with pytest.raises(ValueError, match="one positive weight"):
        srm_check([10, 10], (1.0,))


def test_gate_says_how_much_is_missing_and_how_long() -> None:
    gate = sample_gate(60, 75, 100, daily_per_variant=20)
    assert not gate.met
    assert gate.days_to_gate == 2
    assert gate.message == (
        "not enough data: 60 of 100 needed per variant (about 2 more days at current traffic)"
    )
    assert sample_gate(100, 120, 100).met
    assert sample_gate(10, 10, 30).days_to_gate is None
    assert "no traffic figure" in (sample_gate(10, 10, 30).message or "")


def test_days_to_decision() -> None:
    assert days_to_decision(1000, 1000, 50) == 0
    assert days_to_decision(1000, 1200, None) == 0
    assert days_to_decision(1000, 400, None) is None
    assert days_to_decision(1000, 400, 0) is None
    assert days_to_decision(1000, 400, 100) == 6
    assert days_to_decision(1000, 401, 100) == 6
    assert days_to_decision(1000, 399, 100) == 7


def test_rate_power_agrees_with_normal_ind_power() -> None:
    plan = plan_rates(0.40, 0.05, n_control=3000, n_treatment=3100, daily_per_variant=500)
    h = abs(proportion_effectsize(0.42, 0.40))
    assert plan.effect_size == pytest.approx(h)
    assert plan.mde_absolute == pytest.approx(0.02)
    needed = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1.0)
    assert plan.required_per_variant == math.ceil(needed)
    assert plan.achieved_power == pytest.approx(
        NormalIndPower().power(h, nobs1=3000, alpha=0.05, ratio=3100 / 3000)
    )
    assert plan.days_to_decision == math.ceil((plan.required_per_variant - 3000) / 500)
    assert 0 < plan.achieved_power < 0.8
    with pytest.raises(ValueError, match="not a rate"):
        plan_rates(0.9, 0.2)


def test_mean_power_agrees_with_ttest_ind_power() -> None:
    plan = plan_means(300.0, 240.0, -0.1, n_control=500, daily_per_variant=None)
    d = 30.0 / 240.0
    needed = TTestIndPower().solve_power(effect_size=d, alpha=0.05, power=0.8, ratio=1.0)
    assert plan.required_per_variant == math.ceil(needed)
    assert plan.achieved_power == pytest.approx(TTestIndPower().power(d, 500, 0.05, ratio=1.0))
    assert plan.days_to_decision is None  # short of the sample, no traffic figure
    reached = plan_means(300.0, 240.0, -0.1, n_control=5000)
    assert reached.days_to_decision == 0
    assert reached.achieved_power > 0.99


# =====================================================================================
# Always-valid confidence sequences
# =====================================================================================


@settings(max_examples=400, deadline=None)
@given(
    n=st.integers(1, 10**8),
    sigma2=st.floats(1e-10, 1e10),
    horizon=st.integers(1, 10**8),
    alpha=st.sampled_from([0.001, 0.01, 0.05, 0.1, 0.2]),
)
def test_sequential_half_width_is_never_narrower_than_fixed_horizon(
    n: int, sigma2: float, horizon: int, alpha: float
) -> None:
    """Whatever the n, variance and tuning horizon: the mixture boundary is at least the
    fixed-horizon normal interval z_(1-alpha/2) sigma / sqrt(n)."""
    sigma = math.sqrt(sigma2)
    rho = mixture_rho(horizon, alpha) / sigma
    half = confidence_sequence_half_width(n, sigma2, rho, alpha)
    fixed = float(stats.norm.ppf(1 - alpha / 2)) * sigma / math.sqrt(n)
    assert half >= fixed * (1 - 1e-12)


@settings(max_examples=150, deadline=None)
@given(
    n_a=st.integers(100, 50_000),
    n_b=st.integers(100, 50_000),
    p_a=st.floats(0.0, 1.0),
    p_b=st.floats(0.0, 1.0),
    horizon=st.integers(1, 10**6),
)
def test_sequential_rate_interval_contains_the_fixed_one(
    n_a: int, n_b: int, p_a: float, p_b: float, horizon: int
) -> None:
    """Also near 0% and 100%, where Newcombe is wider than the Wald-based mixture."""
    c = compare_rates(RateCounts(round(p_a * n_a), n_a), RateCounts(round(p_b * n_b), n_b))
    seq = sequential_difference(
        c.difference,
        c.standard_error,
        n_a + n_b,
        horizon=horizon,
        fixed=c.difference_ci,
        fixed_p_value=c.p_value,
    )
    assert seq.interval.low <= c.difference_ci.low
    assert seq.interval.high >= c.difference_ci.high
    assert seq.p_value >= c.p_value


@pytest.mark.parametrize("seed", range(4))
def test_sequential_mean_interval_is_wider_than_welch(seed: int) -> None:
    g = rng(seed)
    for n in (30, 100, 1000, 20_000):
        a, b = g.exponential(5.0, n), g.exponential(5.5, n + 7)
        c = compare_means(a, b)
        pure = sequential_difference(c.difference, c.standard_error, 2 * n + 7, horizon=4000)
        assert pure.mixture_half_width > (c.difference_ci.high - c.difference_ci.low) / 2
        assert pure.p_value >= c.p_value


def test_sequential_p_value_below_alpha_exactly_when_zero_is_outside() -> None:
    for z in np.linspace(-6, 6, 121):
        seq = sequential_difference(float(z) * 0.1, 0.1, 5000, horizon=8000)
        outside = not seq.interval.contains(0.0)
        assert (seq.p_value < 0.05) == outside, z


def test_rho_makes_the_boundary_narrowest_near_its_horizon() -> None:
    def width(horizon: int) -> float:
        return confidence_sequence_half_width(10_000, 1.0, mixture_rho(horizon), 0.05)

    assert width(10_000) < width(1_000)
    assert width(10_000) < width(100_000)


def test_peeking_every_step_keeps_the_sequence_covering_but_not_the_fixed_interval() -> None:
    """400 null experiments, looked at after every one of 2,000 observations (sd 1 known):
    the always-valid interval misses the truth at some look in at most ~alpha of them,
    the fixed-horizon interval read the same way in about half (why daily peeking at
    p < 0.05 "wins" by chance)."""
    g = rng(2024)
    steps = np.arange(1, 2001)
    means = np.cumsum(g.normal(0.0, 1.0, size=(400, steps.size)), axis=1) / steps
    rho = mixture_rho(2000)
    seq_half = np.array([confidence_sequence_half_width(int(n), 1.0, rho) for n in steps])
    fixed_half = Z975 / np.sqrt(steps)
    seq_missed = (np.abs(means) > seq_half).any(axis=1).mean()
    fixed_missed = (np.abs(means) > fixed_half).any(axis=1).mean()
    assert seq_missed <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 400)
    assert fixed_missed > 0.4  # 0.53 with this seed


# =====================================================================================
# The verdict
# =====================================================================================


def rate(name: str, a: tuple[int, int], b: tuple[int, int], **kw: Any) -> Metric:
    return Metric(name, "rate", RateCounts(*a), RateCounts(*b), **kw)


WIN = ((4000, 10_000), (4300, 10_000))  # 40% -> 43%, p ~ 1e-5
FLAT_ESCALATIONS = rate("escalated", (1000, 10_000), (1010, 10_000), direction="lower_is_better")


def csat(shift: float, n: int = 2000, seed: int = 5) -> Metric:
    g = rng(seed)
    return Metric("csat", "mean", g.normal(4.2, 0.9, n), g.normal(4.2 + shift, 0.9, n))


def test_ships_when_the_primary_wins_and_no_guardrail_regresses() -> None:
    verdict = decide(
        Experiment("bot-v6", "bot-v7", rate("ai_resolved", *WIN), (FLAT_ESCALATIONS, csat(0.0)))
    )
    assert verdict.action == "ship"
    assert verdict.recommendation == "ship bot-v7"
    assert verdict.primary.significant
    assert verdict.primary.effect == "good"
    assert not any(g.significant for g in verdict.guardrails)
    assert "ai_resolved improved significantly: +7.5%" in verdict.reasons[0]
    raw = [verdict.primary.p_value, *(g.p_value for g in verdict.guardrails)]
    adjusted = [verdict.primary.adjusted_p_value, *(g.adjusted_p_value for g in verdict.guardrails)]
    assert adjusted == pytest.approx(holm(raw).adjusted)


def test_a_regressed_guardrail_blocks_the_ship() -> None:
    escalations = rate("escalated", (1000, 10_000), (1300, 10_000), direction="lower_is_better")
    verdict = decide(Experiment("A", "B", rate("ai_resolved", *WIN), (escalations,)))
    assert verdict.action == "keep_control"
    assert verdict.recommendation == "keep A"
    (guard,) = verdict.guardrails
    assert guard.significant
    assert guard.effect == "bad"
    assert any(r.startswith("guardrail escalated regressed: +30.0%") for r in verdict.reasons)


def test_a_guardrail_that_improves_does_not_block() -> None:
    """Seed 003's monitor alerted on improvements: fewer escalations is good news."""
    fewer = rate("escalated", (1300, 10_000), (1000, 10_000), direction="lower_is_better")
    verdict = decide(Experiment("A", "B", rate("ai_resolved", *WIN), (fewer,)))
    assert verdict.guardrails[0].significant
    assert verdict.guardrails[0].effect == "good"
    assert verdict.action == "ship"


def test_srm_blocks_even_a_clear_win() -> None:
    verdict = decide(Experiment("A", "B", rate("ai_resolved", *WIN), assigned=(52_000, 48_000)))
    assert verdict.srm.flagged
    assert verdict.primary.significant
    assert verdict.action == "keep_control"
    assert verdict.reasons[0].startswith("sample ratio mismatch: 52,000 / 48,000")


def test_below_the_gate_there_is_no_verdict_only_how_long_to_wait() -> None:
    verdict = decide(
        Experiment("A", "B", rate("ai_resolved", (20, 60), (35, 60)), daily_per_variant=20)
    )
    assert verdict.action == "keep_running"
    assert verdict.recommendation == "keep running"
    assert verdict.reasons == (
        "not enough data for ai_resolved: 60 of 100 needed per variant "
        "(about 2 more days at current traffic)",
    )
    assert not verdict.primary.significant  # p would be < 0.05: the gate overrides it
    assert verdict.primary.comparison is not None
    assert verdict.primary.comparison.p_value < 0.05


def test_a_guardrail_below_its_gate_holds_the_verdict() -> None:
    verdict = decide(
        Experiment("A", "B", rate("ai_resolved", *WIN), (csat(0.0, n=20),), daily_per_variant=4)
    )
    assert verdict.action == "keep_running"
    assert verdict.reasons == (
        "not enough data for csat: 20 of 30 needed per variant "
        "(about 3 more days at current traffic)",
    )


def test_a_six_percent_lift_that_is_not_significant_is_not_a_ship() -> None:
    """Seed 003 called any lift above 5% "significant". 20.0% -> 21.2% on 1,000 each is a
    6% lift with p ~ 0.5: keep running, and say why."""
    verdict = decide(Experiment("A", "B", rate("ai_resolved", (200, 1000), (212, 1000))))
    comparison = verdict.primary.comparison
    assert comparison is not None
    assert comparison.lift == pytest.approx(0.06)
    assert comparison.p_value > 0.4
    assert verdict.action != "ship"
    assert verdict.action == "keep_running"
    assert not verdict.primary.significant
    assert "is not significant: +6.0%" in verdict.reasons[0]
    assert "can still be noise" in verdict.reasons[0]


def test_a_primary_that_is_significantly_worse_keeps_the_control() -> None:
    verdict = decide(Experiment("A", "B", rate("ai_resolved", WIN[1], WIN[0])))
    assert verdict.primary.significant
    assert verdict.primary.effect == "bad"
    assert verdict.action == "keep_control"
    assert verdict.reasons[0].startswith("primary metric ai_resolved is significantly worse")


def test_lower_is_better_primary_on_raw_cost_samples() -> None:
    g = rng(9)
    cheaper = Metric(
        "cost", "mean", g.gamma(2.0, 0.05, 3000), g.gamma(2.0, 0.045, 3000),
        direction="lower_is_better",
    )  # fmt: skip
    assert decide(Experiment("A", "B", cheaper)).action == "ship"
    dearer = Metric("cost", "mean", cheaper.treatment, cheaper.control, direction="lower_is_better")
    assert decide(Experiment("A", "B", dearer)).action == "keep_control"


def test_an_early_fixed_horizon_win_waits_for_the_planned_sample() -> None:
    """With a power plan, p < alpha before the planned sample is peeking; a sequential
    experiment may stop there because its p-value is always valid."""
    big_win = rate("ai_resolved", (4000, 10_000), (4500, 10_000))  # +12.5%, z ~ 7
    early = Experiment("A", "B", big_win, mde_relative=0.01, daily_per_variant=1000)
    verdict = decide(early)
    assert verdict.primary.significant
    assert verdict.power is not None
    assert verdict.power.required_per_variant > 100_000
    assert verdict.action == "keep_running"
    assert "only valid at its planned sample: 10,000 of" in verdict.reasons[0]
    sequential = decide(dataclasses.replace(early, sequential=True))
    assert sequential.action == "ship"
    assert sequential.primary.sequential is not None
    assert sequential.power is not None
    assert sequential.power.sequential
    # The sequential plan is larger (its interval is wider) and sets the horizon.
    assert sequential.power.required_per_variant > 1.3 * verdict.power.required_per_variant
    assert sequential.primary.sequential.horizon == 2 * sequential.power.required_per_variant
    assert sequential.primary.p_value >= sequential.primary.comparison.p_value  # type: ignore[union-attr]


def test_reaching_the_planned_sample_without_a_difference_keeps_the_control() -> None:
    """Futility: keep control only when the interval rules out the MDE."""
    verdict = decide(
        Experiment("A", "B", rate("ai_resolved", (4000, 10_000), (4010, 10_000)), mde_relative=0.1)
    )
    assert verdict.power is not None
    assert verdict.power.days_to_decision == 0
    assert verdict.action == "keep_control"
    assert "rules out a change of +10.0% (the minimum detectable lift)" in verdict.reasons[0]


def test_reaching_the_planned_sample_with_the_mde_still_possible_is_inconclusive() -> None:
    # +5% observed (40.0% -> 42.0%) at the planned sample for +10%: not significant, and
    # +10% (4 points) is inside the interval: not "keep control", but "inconclusive".
    verdict = decide(
        Experiment("A", "B", rate("ai_resolved", (1200, 3000), (1260, 3000)), mde_relative=0.1)
    )
    assert verdict.power is not None
    assert verdict.power.days_to_decision == 0
    assert not verdict.primary.significant
    assert verdict.primary.comparison is not None
    assert verdict.primary.comparison.difference_ci.high > 0.04
    assert verdict.action == "inconclusive"
    assert verdict.recommendation == "inconclusive"
    assert "cannot tell the variants apart" in verdict.reasons[0]
    # Sequential: the same numbers keep running (the interval may still narrow).
    sequential = decide(
        Experiment(
            "A", "B", rate("ai_resolved", (1200, 3000), (1260, 3000)),
            mde_relative=0.1, sequential=True,
        )
    )  # fmt: skip
    assert sequential.action == "keep_running"


def test_the_plan_pays_for_holm_and_the_sequential_width() -> None:
    """Issue 15: 40%, MDE +10%, one guardrail. A plan for a lone test at alpha gave 68%
    power to fixed-horizon and 30% to sequential experiments."""
    lone = plan_rates(0.4, 0.1)
    fixed = plan_rates(0.4, 0.1, comparisons=2)
    sequential = plan_rates(0.4, 0.1, comparisons=2, sequential=True)
    assert fixed.test_alpha == 0.025
    # alpha / 2 and power 0.8 + 0.025 (the guardrail's chance to block "ship" by chance).
    h = fixed.effect_size
    expected = NormalIndPower().solve_power(effect_size=h, alpha=0.025, power=0.825, ratio=1.0)
    assert fixed.required_per_variant == math.ceil(expected)
    assert fixed.required_per_variant > 1.25 * lone.required_per_variant
    assert sequential.required_per_variant > 1.6 * fixed.required_per_variant
    assert lone.required_per_variant == math.ceil(
        NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1.0)
    )


def power_at_plan(plan: Any, *, sequential: bool, runs: int, seed: int) -> float:
    """Vectorised: the share of experiments at the planned sample, true lift = MDE, whose
    primary wins after Holm's worst case (adjusted p = 2 p: one guardrail) and whose
    guardrail (no real change) does not regress by chance (probability alpha / 2)."""
    g = rng(seed)
    n = plan.required_per_variant
    p_a = plan.baseline
    p_b = p_a + plan.mde_absolute
    s_a, s_b = g.binomial(n, p_a, runs), g.binomial(n, p_b, runs)
    r_a, r_b = s_a / n, s_b / n
    se = np.sqrt(r_a * (1 - r_a) / n + r_b * (1 - r_b) / n)
    z = (r_b - r_a) / se
    if sequential:
        p = np.array([es.always_valid_p_value(float(x), 2 * n, 2 * n) for x in z])
    else:
        p = 2 * stats.norm.sf(np.abs(z))
    wins = (2 * p < 0.05) & (z > 0)
    guardrail_blocks = g.random(runs) < 0.025
    return float((wins & ~guardrail_blocks).mean())


@pytest.mark.parametrize("sequential", [False, True])
def test_ship_reaches_the_stated_power_at_the_planned_sample(sequential: bool) -> None:
    plan = plan_rates(0.4, 0.1, comparisons=2, sequential=sequential)
    power = power_at_plan(plan, sequential=sequential, runs=20_000, seed=15)
    assert power >= 0.795  # target 0.80; 20,000 runs: +-0.006
    # The plan it replaced: a lone fixed-horizon test.
    old = plan_rates(0.4, 0.1)
    assert power_at_plan(old, sequential=sequential, runs=20_000, seed=15) < 0.75


def test_sequential_verdict_needs_a_horizon() -> None:
    with pytest.raises(ValueError, match="horizon"):
        decide(Experiment("A", "B", rate("ai_resolved", *WIN), sequential=True))
    verdict = decide(Experiment("A", "B", rate("r", *WIN), sequential=True, horizon=40_000))
    seq = verdict.primary.sequential
    comparison = verdict.primary.comparison
    assert seq is not None
    assert comparison is not None
    assert seq.interval.low <= comparison.difference_ci.low
    assert seq.interval.high >= comparison.difference_ci.high
    assert "always-valid 95% interval" in verdict.reasons[0]


def test_metric_definitions_are_checked() -> None:
    with pytest.raises(ValueError, match="RateCounts"):
        Metric("r", "rate", RateCounts(1, 2), [1.0, 2.0])
    with pytest.raises(ValueError, match="samples or MeanSummary"):
        Metric("m", "mean", RateCounts(1, 2), RateCounts(1, 2))
    with pytest.raises(ValueError, match="not one of"):
        Metric("r", "rate", RateCounts(1, 2), RateCounts(1, 2), test="welch")


def test_every_result_is_plain_json() -> None:
    g = rng(1)
    verdict = decide(
        Experiment(
            "A",
            "B",
            rate("ai_resolved", *WIN),
            (
                FLAT_ESCALATIONS,
                Metric("turns", "mean", g.poisson(4, 500), g.poisson(4, 500), test="mann_whitney"),
                Metric("cost", "mean", MeanSummary(800, 0.05, 0.02), MeanSummary(790, 0.049, 0.02)),
                csat(0.0, n=10),  # below its gate
            ),
            mde_relative=0.05,
            daily_per_variant=300,
            sequential=True,
        )
    )
    as_json = verdict.as_json()
    walk(as_json)
    assert json.loads(json.dumps(as_json, allow_nan=False)) == as_json
    walk(dataclasses.asdict(verdict))  # asdict alone is clean too
    assert as_json["primary"]["comparison"]["difference_ci"].keys() == {"low", "high"}
    assert [g["name"] for g in as_json["guardrails"]] == ["escalated", "turns", "cost", "csat"]


def test_a_locked_verdict_does_not_change_at_later_looks() -> None:
    at_plan = Experiment(
        "A", "B", rate("ai_resolved", (1200, 3000), (1260, 3000)), mde_relative=0.1
    )
    first = es.decide_look(at_plan, None, since="2027-01-10")
    assert first.action == "inconclusive"
    assert first.locked
    assert first.locked_since == "2027-01-10"
    # Later data that alone would say "ship": the locked verdict stands.
    later = Experiment("A", "B", rate("ai_resolved", (1600, 4000), (1800, 4000)), mde_relative=0.1)
    assert decide(later).action == "ship"
    assert es.decide_look(later, first, since="2027-01-12") is first
    # Before the planned sample nothing locks; sequential verdicts never do.
    early = es.decide_look(dataclasses.replace(at_plan, mde_relative=0.02), None, since="x")
    assert early.action == "keep_running"
    assert not early.locked
    seq = es.decide_look(dataclasses.replace(later, sequential=True), None, since="x")
    assert seq.action == "ship"
    assert not seq.locked


def test_replayed_looks_lock_and_a_a_never_ships_before_the_planned_sample() -> None:
    """Day-by-day replay through `decide_look` (tests/experiments_scenario.simulate), small
    and seeded: 600 a day per variant so the plan is reached in a few looks. The full 400 x
    60 figures are benchmarks/bench_experiments.py's."""
    from tests.experiments_scenario import Setup, ever, flips_after_planned, simulate_many

    a_a = simulate_many(Setup(true_lift=0.0, daily=600, looks=7), 20, seed=3)
    for run in a_a:
        assert run.planned_look is not None
        assert run.locked_look == run.planned_look
        assert "ship" not in run.actions[: run.planned_look]
    # Only the one planned reading may ship (1.25% expected; 20 runs: a loose bound).
    assert ever(a_a, "ship") <= 0.1
    assert flips_after_planned(a_a) == 0.0
    # Sequential A/A: no ship at any look; futility ends most of them as "keep control".
    seq = simulate_many(Setup(true_lift=0.0, daily=600, looks=14, sequential=True), 15, seed=4)
    assert ever(seq, "ship") == 0.0
    assert ever(seq, "keep_control") >= 0.8


def test_without_an_mde_a_fixed_horizon_win_waits_for_the_end() -> None:
    """No MDE, no planned sample: the end date is the horizon, read once."""
    running = Experiment("A", "B", rate("ai_resolved", *WIN), ended=False)
    verdict = decide(running)
    assert verdict.primary.significant
    assert verdict.action == "keep_running"
    assert "read once, when the experiment ends" in verdict.reasons[0]
    assert decide(dataclasses.replace(running, ended=True)).action == "ship"
    assert decide(dataclasses.replace(running, sequential=True, horizon=40_000)).action == "ship"
