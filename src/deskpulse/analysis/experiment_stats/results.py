"""What the statistics take and give: the inputs (counts, summaries, raw samples),
the frozen result dataclasses with their JSON form, and the shared thresholds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

MetricKind = Literal["rate", "mean"]
Direction = Literal["higher_is_better", "lower_is_better"]
RateTest = Literal["z", "chi2"]
MeanTest = Literal["welch", "mann_whitney"]
Effect = Literal["good", "bad", "flat"]
Action = Literal["ship", "keep_control", "keep_running", "inconclusive"]
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
    of all treatment - control differences and `shift_ci` its interval from inverting the
    same test, so it excludes 0 exactly when the (normal-approximation) p < alpha.
    `direction` is +1 when treatment values tend to be larger, -1 when smaller, 0 when
    neither: the shift's sign, or P(B > A)'s side of 1/2 when the shift is exactly 0.
    """

    u_statistic: float
    p_value: float
    common_language: float
    hodges_lehmann: float | None
    shift_ci: Interval | None = None
    shift_open: tuple[bool, bool] = (False, False)  # an end the test itself rejects
    direction: int = 0

    def shift_ci_text(self, fmt: Callable[[float], str]) -> str:
        """The shift's interval in words, e.g. "above 0 to +1" for an open end."""
        if self.shift_ci is None:
            return ""
        low, high = fmt(self.shift_ci.low), fmt(self.shift_ci.high)
        low = f"above {low}" if self.shift_open[0] else low
        high = f"below {high}" if self.shift_open[1] else high
        return f"{low} to {high}"


@dataclass(frozen=True)
class Comparison(_Json):
    """Treatment (B) against control (A) on one metric: B - A, B/A - 1, a test's p-value.

    `test` is "two_proportion_z", "chi_square", "welch_t" or "mann_whitney_u". With
    Mann-Whitney, `p_value` is the rank test's and `mann_whitney` carries the effect the
    verdict reads (the Hodges-Lehmann shift, its interval and direction); `difference`
    and `difference_ci` stay Welch's for the means and `lift` is None, because a lift of
    means next to a rank test's p-value can point the other way on skewed data.
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
    over the baseline sd) for means; both tests two-sided at `test_alpha` (alpha over
    the Holm family's size), and for sequential experiments at the width of the
    always-valid interval (power.py).
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
    comparisons: int = 1  # metrics in the Holm family: the primary is planned at alpha / k
    test_alpha: float | None = None  # alpha / comparisons
    sequential: bool = False  # planned for the always-valid interval's width


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
    # "ship <treatment>", "keep <control>", "keep running" or "inconclusive"
    recommendation: str
    reasons: tuple[str, ...]
    control: str
    treatment: str
    alpha: float
    sequential: bool
    primary: MetricResult
    guardrails: tuple[MetricResult, ...]
    srm: SrmCheck
    power: PowerPlan | None
    # A fixed-horizon verdict is final once the planned sample is reached (`decide_look`):
    # later looks return it unchanged. `locked_since` is the caller's label of that look
    # (the experiments page: the day).
    locked: bool = False
    locked_since: str | None = None


# -- helpers ----------------------------------------------------------------------------


def _p_text(p: float) -> str:
    """A p-value in words: p < 0.0001, p = 0.0004, p = 0.041."""
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}" if p < 0.001 else f"p = {p:.3f}"


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
