"""The experiment and its verdict: every metric compared, corrected, checked and
turned into ship / keep control / keep running with the reasons a support lead reads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from deskpulse.analysis.experiment_stats.checks import (
    sample_gate,
    srm_check,
)
from deskpulse.analysis.experiment_stats.comparisons import (
    compare_means,
    compare_rates,
    holm,
)
from deskpulse.analysis.experiment_stats.power import (
    plan_means,
    plan_rates,
)
from deskpulse.analysis.experiment_stats.results import (
    ALPHA,
    MIN_PER_VARIANT,
    Action,
    Comparison,
    Direction,
    Effect,
    Gate,
    Interval,
    MeanInput,
    MeanTest,
    MetricKind,
    MetricResult,
    PowerPlan,
    RateCounts,
    RateTest,
    Role,
    SequentialInterval,
    Verdict,
    _check_alpha,
    _mean_input,
    _p_text,
)
from deskpulse.analysis.experiment_stats.sequential import (
    sequential_difference,
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
    # Without an MDE there is no planned sample: a fixed-horizon experiment's end date is
    # its horizon, and it may decide only once it has ended (reading it at every look
    # before would be peeking). True for a single reading of finished data.
    ended: bool = True


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


def _comparison_effect(comparison: Comparison, direction: Direction) -> Effect:
    """Good or bad, read from the effect the test measured: the Hodges-Lehmann shift for
    the rank test (never the means, which can point the other way on skewed data)."""
    if comparison.mann_whitney is not None:
        return _effect(float(comparison.mann_whitney.direction), direction)
    return _effect(comparison.difference, direction)


def _decision_interval(result: MetricResult) -> Interval | None:
    """The interval the verdict reads for the primary metric, on the difference scale:
    the always-valid one when sequential, the rank shift's for Mann-Whitney, else the
    fixed-horizon one."""
    c = result.comparison
    if c is None:
        return None
    if result.sequential is not None:
        return result.sequential.interval
    if c.mann_whitney is not None:
        return c.mann_whitney.shift_ci
    return c.difference_ci


def _rules_out_mde(result: MetricResult, plan: PowerPlan | None) -> bool:
    """Futility: the interval excludes a change as large as the MDE in the good direction
    (a treatment at least that much better is no longer compatible with the data)."""
    interval = _decision_interval(result)
    if interval is None or plan is None:
        return False
    mde = abs(plan.mde_absolute)
    if result.direction == "higher_is_better":
        return interval.high < mde
    return interval.low > -mde


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
        # Holm's worst case over the primary and its guardrails, and the width of the
        # interval the verdict will really read (issue 15).
        "comparisons": 1 + len(experiment.guardrails),
        "sequential": experiment.sequential,
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


def _signed_pct(x: float) -> str:
    return f"{100 * x:+.1f}%"


def _effect_text(result: MetricResult, alpha: float) -> str:
    c = result.comparison
    assert c is not None
    level = f"{100 * (1 - alpha):g}%"
    p = f"Holm-adjusted {_p_text(result.adjusted_p_value)}"
    if c.mann_whitney is not None and c.mann_whitney.hodges_lehmann is not None:
        rank = c.mann_whitney
        shift = f"{rank.hodges_lehmann:+.3g}"
        ci = rank.shift_ci_text(lambda x: f"{x:+.3g}")
        return (
            f"median shift (Hodges-Lehmann) {shift} ({level} CI {ci}; "
            f"P(B > A) = {rank.common_language:.3f}; {p})"
        )
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
    regressed; or futility: the primary's interval rules out a lift as large as the MDE,
    at any look when sequential, at the planned sample when fixed-horizon),
    "inconclusive" (fixed-horizon, planned sample reached, not significant and the MDE
    not ruled out either) or "keep running" (not enough data; primary not significant
    yet; planned sample not reached), with the reasons in plain words. A lift is never
    enough on its own: a 6% lift that is not significant is "keep running", not "ship".
    The power plan behind "planned sample" accounts for Holm over every metric and, when
    sequential, for the always-valid interval's width (power.py). Over repeated looks use
    `decide_look`, which locks a fixed-horizon verdict at its planned sample.
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
                rank = comparison.mann_whitney
                if rank is not None and rank.direction * comparison.difference <= 0:
                    # The always-valid interval is on the means; when they point
                    # against the rank shift, neither can be read as a finding.
                    p = 1.0
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
                else _comparison_effect(comparison, metric.direction),
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
    inconclusive: str | None = None
    if not keep_running:
        planned = plan.required_per_variant if plan is not None else None
        reached = plan.days_to_decision == 0 if plan is not None else experiment.ended
        # A fixed-horizon test is valid at its planned sample only, for harm as for wins:
        # read daily, a guardrail with no real change "regressed" in about 10% of experiments
        # before it. Sequential intervals may stop for harm at any look.
        early = not experiment.sequential and not reached
        harm = keep_running if early else keep_control
        suffix = (
            "; a fixed-horizon test is only valid at its planned sample, so this is not a "
            "verdict yet"
            if early
            else ""
        )
        if primary.significant and primary.effect == "bad":
            verb = "looks significantly worse early" if early else "is significantly worse"
            harm.append(
                f"primary metric {primary.name} {verb}: {_effect_text(primary, alpha)}{suffix}"
            )
        for g in guardrails:
            if g.significant and g.effect == "bad":
                harm.append(
                    f"guardrail {g.name} {'looks worse early' if early else 'regressed'}: "
                    f"{_effect_text(g, alpha)}{suffix}"
                )
        if not primary.significant or primary.effect == "flat":
            text = (
                f"primary metric {primary.name} is not significant: {_effect_text(primary, alpha)}"
            )
            futile = _rules_out_mde(primary, plan)
            if plan is not None and futile and (experiment.sequential or reached):
                # Futility: only when a lift of the MDE is no longer compatible with the
                # data; the always-valid interval may say so at any look, a fixed one
                # only at its planned sample.
                keep_control.append(
                    f"{text}; its interval rules out a change of "
                    f"{_signed_pct(plan.mde_relative)} (the minimum detectable lift) in the "
                    "good direction, so the treatment is not worth shipping"
                )
            elif plan is not None and reached and not experiment.sequential:
                inconclusive = (
                    f"{text}; the planned {planned:,} per variant is reached, but the interval "
                    f"still includes a lift of {_signed_pct(plan.mde_relative)}: the data "
                    "cannot tell the variants apart. The treatment is not shown to be "
                    "better; keeping the control is the safe choice, or plan a new "
                    "experiment for a smaller lift"
                )
            elif plan is not None and reached:
                keep_running.append(
                    f"{text}; the planned {planned:,} per variant is reached but a lift of "
                    f"{_signed_pct(plan.mde_relative)} is not ruled out yet; the always-valid "
                    "interval may be read as it narrows"
                )
            else:
                keep_running.append(f"{text}; a difference this size can still be noise")
        elif primary.effect == "bad":
            pass  # said above
        elif primary.effect == "good" and not experiment.sequential and not reached:
            if plan is None:
                keep_running.append(
                    f"primary metric {primary.name} looks significant "
                    f"({_effect_text(primary, alpha)}), but without a minimum detectable lift "
                    "there is no planned sample: a fixed-horizon test is read once, when the "
                    "experiment ends; set a minimum detectable lift, or turn on sequential "
                    "intervals, to decide earlier"
                )
            else:
                wait = (
                    ""
                    if plan.days_to_decision is None
                    else f", about {plan.days_to_decision} more days"
                )
                keep_running.append(
                    f"primary metric {primary.name} looks significant early "
                    f"({_effect_text(primary, alpha)}), but a fixed-horizon test is only "
                    f"valid at its planned sample: {min(plan.n_control, plan.n_treatment):,} "
                    f"of {planned:,} per variant{wait}; turn on sequential intervals to stop "
                    "early"
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
    elif inconclusive is not None:
        action, recommendation, reasons = "inconclusive", "inconclusive", (inconclusive,)
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


def is_final(verdict: Verdict) -> bool:
    """A fixed-horizon verdict given at (or after) its planned sample: the one reading
    the test was planned for, so it is locked. Sequential verdicts never lock: their
    interval stays valid at every look."""
    return (
        not verdict.sequential
        and verdict.power is not None
        and verdict.power.days_to_decision == 0
        and verdict.action != "keep_running"
    )


def decide_look(experiment: Experiment, previous: Verdict | None, *, since: str) -> Verdict:
    """The verdict at one look of a running experiment, looks taken in order.

    A locked verdict (`previous.locked`) is returned unchanged: reading a fixed-horizon
    test again at every later look would give noise more chances to flip it (issue 15:
    5.5% went from "keep control" to "ship" after the planned sample, and A/A "ship" at
    any look reached 7%). Otherwise `decide`, locked with `since` as its label when it is
    final (`is_final`)."""
    if previous is not None and previous.locked:
        return previous
    verdict = decide(experiment)
    if is_final(verdict):
        verdict = dataclasses.replace(verdict, locked=True, locked_since=since)
    return verdict
