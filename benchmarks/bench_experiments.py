"""Experiment verdicts under noise (issue 15): the full simulations behind the targets.

    python benchmarks/bench_experiments.py             # 400 experiments x 60 daily looks
    python benchmarks/bench_experiments.py --runs 100  # quicker

Prints, never asserts (tests/analysis/test_experiment_stats.py checks smaller seeded
versions of each target):

* power at the planned sample with the true lift equal to the MDE (baseline 40%, MDE
  +10%, one CSAT guardrail, 150 per variant per day), fixed-horizon and sequential, and
  how often such an experiment wrongly says "keep control" or ends "inconclusive";
* A/A (no true difference): "ship" at any look, fixed-horizon and sequential;
* fixed-horizon verdicts that change after the planned sample;
* coverage of 0 by the 95% lift interval for means on lognormal (sigma 1.5) data with no
  true difference, at 30 / 100 / 500 per variant: Fieller's interval (now) against the
  delta method (before);
* the Mann-Whitney example of the issue: cost, lower is better, 2,000 per arm, most pairs
  favour control while 1% of expensive outliers raise control's mean.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from scipy import stats as scipy_stats

from deskpulse.analysis import experiment_stats as stats
from tests.experiments_scenario import (
    Setup,
    ever,
    flips_after_planned,
    ship_by_planned_sample,
    simulate_many,
)


def delta_lift_covers(a: np.ndarray, b: np.ndarray) -> bool:
    """The delta-method lift interval deskpulse used before (for the contrast)."""
    n_a, n_b = a.size, b.size
    m_a, m_b = a.mean(), b.mean()
    v_a, v_b = a.var(ddof=1) / n_a, b.var(ddof=1) / n_b
    se = math.sqrt(v_b / m_a**2 + m_b**2 * v_a / m_a**4)
    z = float(scipy_stats.norm.ppf(0.975))
    return abs(m_b / m_a - 1.0) <= z * se


def coverage(n: int, reps: int, seed: int) -> tuple[float, float, float, int]:
    """(Fieller counting an unbounded interval as covering, Fieller among bounded ones,
    the delta method, how many were unbounded)."""
    rng = np.random.default_rng(seed)
    covered = bounded_covered = bounded = delta = 0
    for _ in range(reps):
        a, b = rng.lognormal(0, 1.5, n), rng.lognormal(0, 1.5, n)
        c = stats.compare_means(a, b)
        delta += delta_lift_covers(a, b)
        if c.lift_ci is None:
            covered += 1
            continue
        bounded += 1
        hit = c.lift_ci.contains(0.0)
        covered += hit
        bounded_covered += hit
    return covered / reps, bounded_covered / max(bounded, 1), delta / reps, reps - bounded


def mann_whitney_example(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2_000
    control = rng.lognormal(np.log(1.0), 0.35, n)
    outliers = rng.random(n) < 0.01
    control[outliers] *= 60.0  # 1% expensive conversations
    treatment = rng.lognormal(np.log(1.35), 0.35, n)
    before = stats.compare_means(control, treatment)  # Welch: the means
    rank = stats.compare_means(control, treatment, test="mann_whitney")
    mw = rank.mann_whitney
    assert mw is not None
    experiment = stats.Experiment(
        control="A",
        treatment="B",
        primary=stats.Metric(
            "cost_per_conversation",
            "mean",
            control,
            treatment,
            direction="lower_is_better",
            test="mann_whitney",
        ),
    )
    verdict = stats.decide(experiment)
    print("\nMann-Whitney: cost, lower is better, 2,000 per arm, 1% outliers in control")
    print(f"  pairs favouring control (B > A): {mw.common_language:.1%}")
    assert before.lift is not None
    assert before.lift_ci is not None
    print(
        f"  means: control {control.mean():.3f}, treatment {treatment.mean():.3f}; "
        f"lift of means {before.lift:+.1%} (95% CI {before.lift_ci.low:+.1%} to "
        f"{before.lift_ci.high:+.1%}): what the verdict read before, next to the rank p"
    )
    print(
        f"  Hodges-Lehmann shift {mw.hodges_lehmann:+.3f} "
        f"(95% CI {mw.shift_ci_text(lambda x: f'{x:+.3f}')}), p = {mw.p_value:.2g}"
    )
    print(f"  verdict: {verdict.recommendation}: {verdict.reasons[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--looks", type=int, default=60)
    parser.add_argument("--coverage-reps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()

    print(f"{args.runs} experiments x {args.looks} daily looks per scenario")
    for sequential in (False, True):
        name = "sequential" if sequential else "fixed-horizon"
        started = time.perf_counter()
        at_mde = simulate_many(
            Setup(true_lift=0.10, sequential=sequential, looks=args.looks), args.runs, args.seed
        )
        a_a = simulate_many(
            Setup(true_lift=0.0, sequential=sequential, looks=args.looks),
            args.runs,
            args.seed + 1,
        )
        planned = sorted(r.planned_look + 1 for r in at_mde if r.planned_look is not None)
        print(f"\n{name} (planned sample reached on day {planned[len(planned) // 2]}, median)")
        print(
            f"  true lift = MDE: ship at the planned sample   {ship_by_planned_sample(at_mde):.1%}"
        )
        print(f"  true lift = MDE: ever 'keep control'          {ever(at_mde, 'keep_control'):.1%}")
        print(f"  true lift = MDE: ever 'inconclusive'          {ever(at_mde, 'inconclusive'):.1%}")
        print(f"  A/A: 'ship' at any look                       {ever(a_a, 'ship'):.1%}")
        print(f"  A/A: ever 'keep control'                      {ever(a_a, 'keep_control'):.1%}")
        if not sequential:
            flips = flips_after_planned(at_mde + a_a)
            print(f"  verdicts changed after the planned sample     {flips:.1%}")
        print(f"  ({time.perf_counter() - started:.0f} s)")

    print(
        "\nlift interval for means, lognormal sigma 1.5, no true difference "
        f"({args.coverage_reps} runs)"
    )
    for n in (30, 100, 500):
        fieller, bounded, delta, unbounded = coverage(n, args.coverage_reps, args.seed + n)
        print(
            f"  {n:>3} per variant: Fieller covers 0 in {fieller:.1%} "
            f"({bounded:.1%} of the {args.coverage_reps - unbounded} bounded; {unbounded} "
            f"unbounded, shown as the difference only); delta method {delta:.1%}"
        )
    mann_whitney_example(args.seed)


if __name__ == "__main__":
    main()
