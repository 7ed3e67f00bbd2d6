"""The statistics behind A/B experiments on AI agents: tests, intervals, corrections, checks
and the verdict (docs/statistics.md explains every rule here for support leads).

Pure functions over counts, summaries or raw samples; no Django, no database. Every test
and interval comes from scipy or statsmodels; this module only chooses which one, orients
it as treatment (B) minus control (A), and turns the numbers into a decision a support
lead can act on. Everything returned is a frozen dataclass of plain Python values
(floats, ints, strings, bools, None, tuples), so `dataclasses.asdict` works and
`as_json()` gives a dict that `json.dumps(..., allow_nan=False)` accepts.

Why a verdict and not just p-values: seed 003 called any lift above 5% "significant" and
alerted on improvements. Here "significant" means a Holm-adjusted p-value below alpha,
"better" and "worse" follow each metric's direction, and "ship" needs the primary metric
to win significantly with nothing else in the way (see `decide`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)

__all__ = [
    "ALPHA",
    "HODGES_LEHMANN_MAX_PAIRS",
    "MIN_PER_VARIANT",
    "SRM_THRESHOLD",
    "Comparison",
    "Experiment",
    "Gate",
    "HolmResult",
    "Interval",
    "MannWhitney",
    "MeanSummary",
    "Metric",
    "MetricResult",
    "PowerPlan",
    "RateCounts",
    "SequentialInterval",
    "SrmCheck",
    "Verdict",
    "always_valid_p_value",
    "compare_means",
    "compare_rates",
    "confidence_sequence_half_width",
    "days_to_decision",
    "decide",
    "holm",
    "mann_whitney",
    "mixture_rho",
    "plan_means",
    "plan_rates",
    "sample_gate",
    "sequential_difference",
    "srm_check",
]

MetricKind = Literal["rate", "mean"]
Direction = Literal["higher_is_better", "lower_is_better"]
RateTest = Literal["z", "chi2"]
MeanTest = Literal["welch", "mann_whitney"]
Effect = Literal["good", "bad", "flat"]
Action = Literal["ship", "keep_control", "keep_running"]
Role = Literal["primary", "guardrail"]
Samples: TypeAlias = npt.NDArray[np.float64]

ALPHA = 0.05
# SRM is a data-quality alarm, not a finding: a strict threshold keeps false alarms rare
# at the sample sizes where real assignment bugs are unmistakable (p ~ 1e-30 and below).
SRM_THRESHOLD = 0.001
# Below these per-variant counts no verdict is given. 100 for rates: the normal
# approximations behind the z-test and the intervals want roughly 10 successes and 10
# failures per arm, which 100 gives at rates between 10% and 90%. 30 for means: the
# usual floor for the t-test's central-limit behaviour on skewed data (cost, durations).
MIN_PER_VARIANT: dict[MetricKind, int] = {"rate": 100, "mean": 30}
# The Hodges-Lehmann shift needs every treatment-control pair: cap the work (4M pairs is
# ~32 MB of float64) and report None above it rather than a subsample that would change
# from run to run.
HODGES_LEHMANN_MAX_PAIRS = 4_000_000


# -- JSON -------------------------------------------------------------------------------


def _plain(value: object) -> Any:
    """Dataclasses to dicts, tuples to lists, numpy scalars to Python, non-finite to None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _Json:
    def as_json(self) -> dict[str, Any]:
        """A dict of plain values that `json.dumps(..., allow_nan=False)` accepts."""
        out = _plain(self)
        assert isinstance(out, dict)
        return out


# -- inputs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RateCounts:
    """One variant of a binary metric: `successes` out of `trials` (e.g. AI-resolved)."""

    successes: int
    trials: int

    def __post_init__(self) -> None:
        if self.trials < 0 or not 0 <= self.successes <= self.trials:
            raise ValueError(f"need 0 <= successes <= trials, got {self.successes}/{self.trials}")

    @property
    def rate(self) -> float | None:
        return self.successes / self.trials if self.trials else None


@dataclass(frozen=True)
class MeanSummary:
    """One variant of a numeric metric as n, mean and sample standard deviation (ddof=1)."""

    n: int
    mean: float
    sd: float

    def __post_init__(self) -> None:
        if (
            self.n < 0
            or not math.isfinite(self.mean)
            or not (self.sd >= 0 and math.isfinite(self.sd))
        ):
            raise ValueError(f"need n >= 0, a finite mean and sd >= 0, got {self}")

    @classmethod
    def from_samples(cls, samples: npt.ArrayLike) -> MeanSummary:
        arr = _as_samples(samples)
        n = int(arr.size)
        mean = float(arr.mean()) if n else 0.0
        sd = float(arr.std(ddof=1)) if n >= 2 else 0.0
        return cls(n=n, mean=mean, sd=sd)


MeanInput: TypeAlias = MeanSummary | npt.NDArray[np.number[Any]] | Sequence[float]


def _as_samples(values: npt.ArrayLike) -> Samples:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError("samples must be one-dimensional")
    if not np.all(np.isfinite(arr)):
        raise ValueError("samples must be finite (drop missing values before comparing)")
    return arr


def _mean_input(value: MeanInput) -> tuple[MeanSummary, Samples | None]:
    if isinstance(value, MeanSummary):
        return value, None
    arr = _as_samples(value)
    return MeanSummary.from_samples(arr), arr


# -- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval(_Json):
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class MannWhitney(_Json):
    """Mann-Whitney U of treatment against control, with two effect sizes.

    `common_language` is P(treatment value > control value) + half P(tie) = U / (nA nB);
    0.5 means neither variant tends to give larger values. `hodges_lehmann` is the median
    of all treatment - control differences (None above HODGES_LEHMANN_MAX_PAIRS pairs).
    """

    u_statistic: float
    p_value: float
    common_language: float
    hodges_lehmann: float | None


@dataclass(frozen=True)
class Comparison(_Json):
    """Treatment (B) against control (A) on one metric: B - A, B/A - 1, a test's p-value.

    `test` is "two_proportion_z", "chi_square", "welch_t" or "mann_whitney_u". With
    Mann-Whitney, `p_value` is the rank test's while `difference_ci` stays the Welch
    interval for the difference in means (what a reader wants to see), so the two can
    disagree on skewed data; `mann_whitney` carries the rank effect sizes.
    `statistic` is None when it is infinite (two constant variants with different values).
    """

    kind: MetricKind
    test: str
    alpha: float
    n_control: int
    n_treatment: int
    control_value: float
    treatment_value: float
    difference: float
    difference_ci: Interval
    lift: float | None
    lift_ci: Interval | None
    standard_error: float  # of the difference, unpooled (the Wald / Welch one)
    statistic: float | None
    p_value: float
    df: float | None = None
    mann_whitney: MannWhitney | None = None


@dataclass(frozen=True)
class HolmResult(_Json):
    alpha: float
    p_values: tuple[float, ...]
    adjusted: tuple[float, ...]
    reject: tuple[bool, ...]  # adjusted p strictly below alpha


@dataclass(frozen=True)
class SrmCheck(_Json):
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    planned_split: tuple[float, ...]
    statistic: float
    p_value: float
    threshold: float
    flagged: bool
    message: str


@dataclass(frozen=True)
class Gate(_Json):
    """The minimum-sample gate for one metric: below it, no verdict."""

    required_per_variant: int
    n_control: int
    n_treatment: int
    met: bool
    days_to_gate: int | None  # None: met, or no traffic figure to estimate from
    message: str | None  # "not enough data: 60 of 100 needed per variant ..." when not met


@dataclass(frozen=True)
class PowerPlan(_Json):
    """Sample needed per variant to detect `mde_relative` with `target_power`.

    `effect_size` is Cohen's h (arcsine difference) for rates and Cohen's d (difference
    over the baseline sd) for means; both tests two-sided at `alpha`.
    """

    kind: MetricKind
    baseline: float
    sd: float | None
    mde_relative: float
    mde_absolute: float
    effect_size: float
    alpha: float
    target_power: float
    required_per_variant: int
    n_control: int
    n_treatment: int
    achieved_power: float
    daily_per_variant: float | None
    days_to_decision: int | None


@dataclass(frozen=True)
class SequentialInterval(_Json):
    """An always-valid interval for B - A (see `sequential_difference`)."""

    difference: float
    interval: Interval
    mixture_half_width: float
    p_value: float  # always-valid: may be read at every look without inflating errors
    n: int  # units behind the estimate, both variants together
    horizon: int  # the n the boundary is tuned to be narrowest at
    rho: float  # mixing parameter on the standardised scale (see `mixture_rho`)
    alpha: float


@dataclass(frozen=True)
class MetricResult(_Json):
    name: str
    role: Role
    kind: MetricKind
    direction: Direction
    gate: Gate
    comparison: Comparison | None  # None when a variant has too little data to test at all
    sequential: SequentialInterval | None
    p_value: float  # what Holm adjusts: fixed-horizon, or always-valid when sequential
    adjusted_p_value: float
    significant: bool  # adjusted p < alpha and the gate is met
    effect: Effect | None  # the sign of B - A read through `direction`


@dataclass(frozen=True)
class Verdict(_Json):
    action: Action
    recommendation: str  # "ship <treatment>", "keep <control>" or "keep running"
    reasons: tuple[str, ...]
    control: str
    treatment: str
    alpha: float
    sequential: bool
    primary: MetricResult
    guardrails: tuple[MetricResult, ...]
    srm: SrmCheck
    power: PowerPlan | None


# -- helpers ----------------------------------------------------------------------------


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")


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


# -- minimum-sample gate and power ------------------------------------------------------


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


# -- the experiment and its verdict -----------------------------------------------------


@dataclass(frozen=True, eq=False)  # eq=False: raw samples are numpy arrays
class Metric:
    """One metric of an experiment: its data per variant and which way is better.

    Rates take `RateCounts`; means take raw samples or a `MeanSummary` (raw samples are
    needed for test="mann_whitney"). `test` defaults to "z" for rates and "welch" for
    means; `min_per_variant` to MIN_PER_VARIANT[kind].
    """

    name: str
    kind: MetricKind
    control: RateCounts | MeanInput
    treatment: RateCounts | MeanInput
    direction: Direction = "higher_is_better"
    test: RateTest | MeanTest | None = None
    min_per_variant: int | None = None

    def __post_init__(self) -> None:
        is_rate = [isinstance(v, RateCounts) for v in (self.control, self.treatment)]
        if self.kind == "rate" and not all(is_rate):
            raise ValueError(f"{self.name}: a rate metric takes RateCounts for both variants")
        if self.kind == "mean" and any(is_rate):
            raise ValueError(f"{self.name}: a mean metric takes samples or MeanSummary")
        allowed = ("z", "chi2") if self.kind == "rate" else ("welch", "mann_whitney")
        if self.test is not None and self.test not in allowed:
            raise ValueError(f"{self.name}: test {self.test!r} is not one of {allowed}")
        if self.direction not in ("higher_is_better", "lower_is_better"):
            raise ValueError(f"{self.name}: unknown direction {self.direction!r}")

    @property
    def required_per_variant(self) -> int:
        return MIN_PER_VARIANT[self.kind] if self.min_per_variant is None else self.min_per_variant

    def counts(self) -> tuple[int, int]:
        """Units behind the metric in (control, treatment)."""
        if isinstance(self.control, RateCounts) and isinstance(self.treatment, RateCounts):
            return self.control.trials, self.treatment.trials
        assert not isinstance(self.control, RateCounts)
        assert not isinstance(self.treatment, RateCounts)
        return _mean_input(self.control)[0].n, _mean_input(self.treatment)[0].n


@dataclass(frozen=True, eq=False)
class Experiment:
    """An A/B experiment: control (A) against treatment (B).

    - `assigned`: units assigned to (control, treatment), for the SRM check; defaults to
      the primary metric's counts (pass real assignment counts when the primary metric
      only covers part of the traffic, e.g. CSAT responses).
    - `mde_relative`: the smallest relative lift of the primary metric worth detecting;
      gives the power plan, and with fixed-horizon tests the sample to wait for.
    - `daily_per_variant`: new units per variant per day, for the days-to-decision figures.
    - `sequential`: use always-valid intervals and p-values, safe to read at every look;
      `horizon` (total units, both variants) is where they are tuned to be narrowest and
      defaults to twice the power plan's sample per variant.
    """

    control: str
    treatment: str
    primary: Metric
    guardrails: tuple[Metric, ...] = ()
    alpha: float = ALPHA
    assigned: tuple[int, int] | None = None
    planned_split: tuple[float, float] = (0.5, 0.5)
    mde_relative: float | None = None
    target_power: float = 0.8
    daily_per_variant: float | None = None
    sequential: bool = False
    horizon: int | None = None


def _compare(metric: Metric, alpha: float) -> Comparison:
    if isinstance(metric.control, RateCounts) and isinstance(metric.treatment, RateCounts):
        rate_test: RateTest = "chi2" if metric.test == "chi2" else "z"
        return compare_rates(metric.control, metric.treatment, alpha=alpha, test=rate_test)
    assert not isinstance(metric.control, RateCounts)
    assert not isinstance(metric.treatment, RateCounts)
    mean_test: MeanTest = "mann_whitney" if metric.test == "mann_whitney" else "welch"
    return compare_means(metric.control, metric.treatment, alpha=alpha, test=mean_test)


def _effect(difference: float, direction: Direction) -> Effect:
    if difference == 0:
        return "flat"
    better = difference > 0 if direction == "higher_is_better" else difference < 0
    return "good" if better else "bad"


def _power_plan(experiment: Experiment) -> PowerPlan | None:
    mde = experiment.mde_relative
    if mde is None:
        return None
    metric = experiment.primary
    n_a, n_b = metric.counts()
    common: dict[str, Any] = {
        "n_control": n_a,
        "n_treatment": n_b,
        "alpha": experiment.alpha,
        "power": experiment.target_power,
        "daily_per_variant": experiment.daily_per_variant,
    }
    try:
        if isinstance(metric.control, RateCounts):
            rate = metric.control.rate
            if rate is None:
                return None
            return plan_rates(rate, mde, **common)
        assert not isinstance(metric.control, RateCounts)
        summary = _mean_input(metric.control)[0]
        return plan_means(summary.mean, summary.sd, mde, **common)
    except ValueError:
        return None  # no usable baseline yet (0% rate, zero sd, no data)


def _p_text(p: float) -> str:
    """A p-value in words: p < 0.0001, p = 0.0004, p = 0.041."""
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}" if p < 0.001 else f"p = {p:.3f}"


def _signed_pct(x: float) -> str:
    return f"{100 * x:+.1f}%"


def _effect_text(result: MetricResult, alpha: float) -> str:
    c = result.comparison
    assert c is not None
    level = f"{100 * (1 - alpha):g}%"
    p = f"Holm-adjusted {_p_text(result.adjusted_p_value)}"
    if result.sequential is not None:
        s = result.sequential
        if c.kind == "rate":  # percentage points
            diff, low, high = (f"{100 * x:+.2f} pp" for x in (s.difference, *_ends(s.interval)))
        else:
            diff, low, high = (f"{x:+.3g}" for x in (s.difference, *_ends(s.interval)))
        return f"difference {diff} (always-valid {level} interval {low} to {high}; {p})"
    if c.lift is not None and c.lift_ci is not None:
        return (
            f"{_signed_pct(c.lift)} (control {_value_text(c.control_value, c.kind)}, treatment "
            f"{_value_text(c.treatment_value, c.kind)}; {level} CI {_signed_pct(c.lift_ci.low)} "
            f"to {_signed_pct(c.lift_ci.high)}; {p})"
        )
    return (
        f"difference {c.difference:+.3g} ({level} CI {c.difference_ci.low:+.3g} to "
        f"{c.difference_ci.high:+.3g}; {p})"
    )


def _ends(interval: Interval) -> tuple[float, float]:
    return interval.low, interval.high


def _value_text(value: float, kind: MetricKind) -> str:
    return f"{100 * value:.1f}%" if kind == "rate" else f"{value:.3g}"


def decide(experiment: Experiment) -> Verdict:
    """Every metric compared, Holm across all of them, SRM, gates, and the call.

    "ship <treatment>" only when all of these hold:
      1. SRM is not flagged;
      2. every metric (primary and guardrails) meets its minimum-sample gate;
      3. the primary metric is significant (Holm-adjusted p < alpha) in its good direction;
      4. no guardrail is significant in its bad direction;
      5. with fixed-horizon tests and a power plan, the planned sample is reached
         (a fixed-horizon p-value is only valid at the sample it was planned for; reading
         it daily and stopping at the first p < alpha inflates false wins).
    Otherwise "keep <control>" (SRM flagged; primary significantly worse; a guardrail
    regressed; or the planned sample reached with no significant difference) or
    "keep running" (not enough data; primary not significant yet; planned sample not
    reached), with the reasons in plain words. A lift is never enough on its own: a 6%
    lift that is not significant is "keep running", not "ship".
    """
    alpha = experiment.alpha
    _check_alpha(alpha)
    plan = _power_plan(experiment)
    horizon = experiment.horizon
    if experiment.sequential and horizon is None:
        if plan is None:
            raise ValueError("a sequential experiment needs a horizon or an mde_relative")
        horizon = 2 * plan.required_per_variant
    metrics: list[tuple[Metric, Role]] = [(experiment.primary, "primary")]
    metrics += [(g, "guardrail") for g in experiment.guardrails]

    staged: list[
        tuple[Metric, Role, Gate, Comparison | None, SequentialInterval | None, float]
    ] = []
    for metric, role in metrics:
        n_a, n_b = metric.counts()
        gate = sample_gate(
            n_a, n_b, metric.required_per_variant, daily_per_variant=experiment.daily_per_variant
        )
        comparison: Comparison | None = None
        try:
            comparison = _compare(metric, alpha)
        except ValueError:
            if gate.met:
                raise  # enough data but still not comparable: a real input error
        seq: SequentialInterval | None = None
        p = 1.0  # an untestable metric stays in the family (as "no evidence")
        if comparison is not None:
            p = comparison.p_value
            if experiment.sequential and horizon is not None:
                seq = sequential_difference(
                    comparison.difference,
                    comparison.standard_error,
                    comparison.n_control + comparison.n_treatment,
                    horizon=horizon,
                    alpha=alpha,
                    fixed=comparison.difference_ci,
                    fixed_p_value=comparison.p_value,
                )
                p = seq.p_value
        staged.append((metric, role, gate, comparison, seq, p))

    adjusted = holm([s[5] for s in staged], alpha)
    results: list[MetricResult] = []
    for (metric, role, gate, comparison, seq, p), adj in zip(
        staged, adjusted.adjusted, strict=True
    ):
        results.append(
            MetricResult(
                name=metric.name,
                role=role,
                kind=metric.kind,
                direction=metric.direction,
                gate=gate,
                comparison=comparison,
                sequential=seq,
                p_value=p,
                adjusted_p_value=adj,
                significant=gate.met and comparison is not None and adj < alpha,
                effect=None
                if comparison is None
                else _effect(comparison.difference, metric.direction),
            )
        )
    primary, guardrails = results[0], tuple(results[1:])

    assigned = experiment.assigned or experiment.primary.counts()
    srm = srm_check(assigned, experiment.planned_split)

    keep_control: list[str] = []
    keep_running: list[str] = []
    if srm.flagged:
        keep_control.append(srm.message)
    for r in results:
        if not r.gate.met:
            assert r.gate.message is not None
            keep_running.append(
                r.gate.message.replace("not enough data", f"not enough data for {r.name}", 1)
            )
    ship_reason: str | None = None
    if not keep_running:
        if primary.significant and primary.effect == "bad":
            keep_control.append(
                f"primary metric {primary.name} is significantly worse: "
                f"{_effect_text(primary, alpha)}"
            )
        for g in guardrails:
            if g.significant and g.effect == "bad":
                keep_control.append(f"guardrail {g.name} regressed: {_effect_text(g, alpha)}")
        planned = plan.required_per_variant if plan is not None else None
        reached = plan is None or plan.days_to_decision == 0
        if not primary.significant:
            text = (
                f"primary metric {primary.name} is not significant: {_effect_text(primary, alpha)}"
            )
            if plan is not None and reached:
                keep_control.append(
                    f"{text}; the planned {planned:,} per variant is reached, so there is "
                    f"no detectable difference of {_signed_pct(plan.mde_relative)} or more"
                )
            else:
                keep_running.append(f"{text}; a difference this size can still be noise")
        elif primary.effect == "good" and not experiment.sequential and not reached:
            assert plan is not None
            wait = (
                ""
                if plan.days_to_decision is None
                else f", about {plan.days_to_decision} more days"
            )
            keep_running.append(
                f"primary metric {primary.name} looks significant early "
                f"({_effect_text(primary, alpha)}), but a fixed-horizon test is only valid "
                f"at its planned sample: {min(plan.n_control, plan.n_treatment):,} of "
                f"{planned:,} per variant{wait}; turn on sequential intervals to stop early"
            )
        elif primary.effect == "good":
            ship_reason = (
                f"primary metric {primary.name} improved significantly: "
                f"{_effect_text(primary, alpha)}; "
                f"{'no guardrail regressed; ' if guardrails else ''}{srm.message}"
            )
    if keep_control:
        action: Action = "keep_control"
        recommendation = f"keep {experiment.control}"
        reasons = tuple(keep_control + keep_running)
    elif keep_running or ship_reason is None:
        action, recommendation, reasons = "keep_running", "keep running", tuple(keep_running)
    else:
        action = "ship"
        recommendation = f"ship {experiment.treatment}"
        reasons = (ship_reason,)
    return Verdict(
        action=action,
        recommendation=recommendation,
        reasons=reasons,
        control=experiment.control,
        treatment=experiment.treatment,
        alpha=alpha,
        sequential=experiment.sequential,
        primary=primary,
        guardrails=guardrails,
        srm=srm,
        power=plan,
    )
