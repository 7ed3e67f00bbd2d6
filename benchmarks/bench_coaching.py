"""Coaching plans with no true change: how many read achieved, old rule against new.

    python benchmarks/bench_coaching.py                      # 60k conversations (the demo)
    python benchmarks/bench_coaching.py --conversations 20000 --seed 3

Generates data without planted changes (`generate(planted=False)`), imports it, builds the
facts and scores them (measured outcomes, no trained model), then starts a plan on every
agent x channel x inquiry with at least 40 interactions in the 91 days before, 22 days
before the data ends, and checks each plan once a day for 3 weeks at a 5%, 10% and 20%
target, for every plan metric (tests/analysis/coaching_replay.py). Issue 15's target: at
a 5% target at most 10% of these plans read achieved. Prints figures, never asserts them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.table import Table

from deskpulse.analysis import coaching as core
from deskpulse.analysis.effectiveness import EFFECTIVENESS_METRICS
from tests.analysis.coaching_replay import (
    REPLAY_DAYS,
    interactions,
    median_progress,
    replay,
    stable_store,
)

END = datetime(2026, 3, 1, tzinfo=UTC)
console = Console(width=150)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=60_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    began = END - timedelta(days=REPLAY_DAYS + 1)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        store = stable_store(
            Path(folder),
            seed=args.seed,
            conversations=args.conversations,
            days=args.days,
            end=END,
            agents=args.agents,
        )
        frame = interactions(store)
        store.close()
        console.print(
            f"{args.conversations:,} conversations over {args.days} days, seed {args.seed}, "
            f"planted=False: {len(frame):,} scored interactions "
            f"({time.perf_counter() - started:.0f} s to generate, import, build and score)"
        )
    console.print(
        f"Plans begin {began:%Y-%m-%d}, checked daily for {REPLAY_DAYS} days. New rule: Now = "
        f"20 most recent since the start; achieved on >= {core.MIN_NOW_INTERACTIONS} of them "
        f"with the {100 * core.CONFIDENCE:g}% interval wholly better."
    )
    table = Table(title="Plans read achieved with no true change (old rule -> new rule)")
    table.add_column("metric")
    table.add_column("plans", justify="right")
    for target in (5, 10, 20):
        table.add_column(f"{target}% target", justify="right")
    table.add_column("old Now's progress on day 0 (median, 5%)", justify="right")
    for metric in EFFECTIVENESS_METRICS:
        cells: list[str] = []
        plans = 0
        day_zero = ""
        for target in (5, 10, 20):
            outcome = replay(frame, began_at=began, metric=metric, improvement=target)
            plans = outcome.plans
            cells.append(
                f"{outcome.achieved_old} ({100 * outcome.share('old'):.1f}%) -> "
                f"{outcome.achieved_new} ({100 * outcome.share('new'):.1f}%)"
            )
            if target == 5:
                day_zero = (
                    f"{100 * median_progress(outcome):.0f}% (new: {outcome.day_zero_now} "
                    "plans with a Now)"
                )
        table.add_row(metric, str(plans), *cells, day_zero)
    console.print(table)


if __name__ == "__main__":
    main()
