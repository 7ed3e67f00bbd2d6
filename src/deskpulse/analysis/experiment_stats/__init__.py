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

The package follows the steps of a decision, one module each: `results` (inputs, results
and thresholds), `comparisons` (the tests and Holm's correction), `checks` (sample ratio
mismatch and the minimum-sample gate), `power`, `sequential` (always-valid intervals) and
`verdict` (`decide`). Callers import from the package.
"""

from __future__ import annotations

from deskpulse.analysis.experiment_stats.checks import (
    days_to_decision,
    sample_gate,
    srm_check,
)
from deskpulse.analysis.experiment_stats.comparisons import (
    HODGES_LEHMANN_MAX_PAIRS,
    compare_means,
    compare_rates,
    holm,
    mann_whitney,
)
from deskpulse.analysis.experiment_stats.power import (
    plan_means,
    plan_rates,
    sequential_critical_z,
)
from deskpulse.analysis.experiment_stats.results import (
    ALPHA,
    MIN_PER_VARIANT,
    SRM_THRESHOLD,
    Action,
    Comparison,
    Direction,
    Effect,
    Gate,
    HolmResult,
    Interval,
    MannWhitney,
    MeanInput,
    MeanSummary,
    MeanTest,
    MetricKind,
    MetricResult,
    PowerPlan,
    RateCounts,
    RateTest,
    Role,
    Samples,
    SequentialInterval,
    SrmCheck,
    Verdict,
)
from deskpulse.analysis.experiment_stats.sequential import (
    always_valid_p_value,
    confidence_sequence_half_width,
    mixture_rho,
    sequential_difference,
)
from deskpulse.analysis.experiment_stats.verdict import (
    Experiment,
    Metric,
    decide,
    decide_look,
    is_final,
)

__all__ = [
    "ALPHA",
    "HODGES_LEHMANN_MAX_PAIRS",
    "MIN_PER_VARIANT",
    "SRM_THRESHOLD",
    "Action",
    "Comparison",
    "Direction",
    "Effect",
    "Experiment",
    "Gate",
    "HolmResult",
    "Interval",
    "MannWhitney",
    "MeanInput",
    "MeanSummary",
    "MeanTest",
    "Metric",
    "MetricKind",
    "MetricResult",
    "PowerPlan",
    "RateCounts",
    "RateTest",
    "Role",
    "Samples",
    "SequentialInterval",
    "SrmCheck",
    "Verdict",
    "always_valid_p_value",
    "compare_means",
    "compare_rates",
    "confidence_sequence_half_width",
    "days_to_decision",
    "decide",
    "decide_look",
    "holm",
    "is_final",
    "mann_whitney",
    "mixture_rho",
    "plan_means",
    "plan_rates",
    "sample_gate",
    "sequential_critical_z",
    "sequential_difference",
    "srm_check",
]
