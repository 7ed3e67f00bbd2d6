"""Bands on split halves: the old raw quartiles against the shrunk bands, in one run.

    python benchmarks/bench_bands.py                 # the demo's organisation (60k, seed 7)
    python benchmarks/bench_bands.py --data DIR      # a data folder already trained and scored

Every person's interactions on an inquiry and channel in the last 90 days of the data are
split at random into two halves; each half is banded among all agents' same half (N = 10,
at least 4 agents), and the agent x inquiry pairs with 10 to 19 interactions in both
halves are compared: the share banded alike in both halves, the share flipping between
Great and Needs work (both among the pairs banded in both halves; chance would be 37.5 %
and 12.5 %), and the share of pairs banded in both halves at all. Repeated over several
random splits. Target (issue 15): >= 65 % alike, <= 3 % flips.

Prints figures, never asserts them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from rich.console import Console
from rich.table import Table

from deskpulse.analysis.bands import Band, Direction, Estimate, edges_of, standing
from deskpulse.analysis.reading_noise import Row, reading_variances
from deskpulse.events.store import open_store
from deskpulse.settings import Settings

console = Console(width=120)
METRICS: dict[str, Direction] = {
    "effectiveness_score": "lower",
    "aes_handle_time": "lower",
    "predicted_satisfaction": "higher",
    "predicted_resolution": "higher",
}
N = 10


def load_rows(folder: Path) -> pd.DataFrame:
    store = open_store(Settings(data_dir=folder))
    try:
        con = store.con
        rows = con.table("effectiveness_facts")
        agents = con.table("agents").select("agent_id", "kind")
        frame = rows.join(agents, "agent_id").to_pyarrow().to_pandas()
    finally:
        store.close()
    frame = frame[(frame["kind"] != "ai") & frame["inquiry"].notna()]
    end = frame["created_at"].max()
    return frame[frame["created_at"] >= end - timedelta(days=90)]


def _value(x: object) -> float | None:
    return None if x is None or pd.isna(x) else float(x)  # type: ignore[arg-type]


def bands_of(part: pd.DataFrame, *, shrink: bool) -> dict[tuple[str, ...], tuple[Band, int]]:
    found: dict[tuple[str, ...], tuple[Band, int]] = {}
    for (channel, inquiry), group in part.groupby(["channel", "inquiry"]):
        rows = [
            Row(str(a), str(inquiry), _value(h), _value(s), _value(r))
            for a, h, s, r in zip(
                group["agent_id"],
                group["handle_seconds"],
                group["predicted_satisfaction"],
                group["predicted_resolution"],
                strict=True,
            )
        ]
        noise = reading_variances(rows) if shrink else {}
        readings: dict[str, dict[str, tuple[float | None, int]]] = {}
        for agent, mine in group.groupby("agent_id"):
            h = mine["handle_seconds"].mean()
            s = mine["predicted_satisfaction"].mean()
            r = mine["predicted_resolution"].mean()
            n_h = int(mine["handle_seconds"].notna().sum())
            score = h / (s * r) if s > 0 and r > 0 and not pd.isna(h) else None
            readings[str(agent)] = {
                "aes_handle_time": (_value(h), n_h),
                "predicted_satisfaction": (
                    _value(s),
                    int(mine["predicted_satisfaction"].notna().sum()),
                ),
                "predicted_resolution": (
                    _value(r),
                    int(mine["predicted_resolution"].notna().sum()),
                ),
                "effectiveness_score": (_value(score), n_h),
            }
        for metric, direction in METRICS.items():
            estimates = {
                agent: Estimate(
                    v[metric][0],
                    v[metric][1],
                    noise.get((agent, str(inquiry)), {}).get(metric, 0.0),
                )
                for agent, v in readings.items()
            }
            edges = edges_of(list(estimates.values()), direction, N)
            for agent, estimate in estimates.items():
                found[(metric, str(channel), str(inquiry), agent)] = (
                    standing(estimate, edges, min_interactions=N).band,
                    estimate.n,
                )
    return found


@dataclass
class Tally:
    same: int = 0
    flips: int = 0
    banded: int = 0
    pairs: int = 0


def split_halves(frame: pd.DataFrame, seeds: int) -> dict[tuple[str, bool], Tally]:
    tallies = {(m, shrink): Tally() for m in METRICS for shrink in (False, True)}
    for seed in range(seeds):
        first = np.random.default_rng(seed).integers(0, 2, len(frame)).astype(bool)
        for shrink in (False, True):
            a = bands_of(frame[first], shrink=shrink)
            b = bands_of(frame[~first], shrink=shrink)
            for key in a.keys() & b.keys():
                (band_a, n_a), (band_b, n_b) = a[key], b[key]
                if not (10 <= n_a <= 19 and 10 <= n_b <= 19):
                    continue
                tally = tallies[(key[0], shrink)]
                tally.pairs += 1
                if "not_enough_data" in (band_a, band_b):
                    continue
                tally.banded += 1
                tally.same += band_a == band_b
                tally.flips += {band_a, band_b} == {"great", "needs_work"}
    return tallies


def demo_folder(conversations: int) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="bench-bands-")) / "data"
    console.print(f"generating, importing and training the demo in {folder} …")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "deskpulse.cli",
            "--data",
            str(folder),
            "demo",
            "--no-serve",
            "--conversations",
            str(conversations),
        ],
        check=True,
    )
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=60_000)
    parser.add_argument("--data", type=Path, default=None, help="a trained, scored folder")
    parser.add_argument("--splits", type=int, default=5)
    args = parser.parse_args()
    folder = args.data if args.data is not None else demo_folder(args.conversations)
    frame = load_rows(folder)
    console.print(f"{len(frame):,} interactions of people in the last 90 days of {folder}")
    tallies = split_halves(frame, args.splits)
    table = Table(title=f"split halves, 10-19 interactions per half, {args.splits} splits")
    for column in ("metric", "rule", "pairs", "banded both", "same band", "Great<->Needs work"):
        table.add_column(column, justify="left" if column in ("metric", "rule") else "right")
    for metric in METRICS:
        for shrink in (False, True):
            t = tallies[(metric, shrink)]
            table.add_row(
                metric,
                "shrunk (new)" if shrink else "raw quartiles (old)",
                f"{t.pairs / args.splits:.0f}",
                f"{t.banded / max(t.pairs, 1):.1%}",
                f"{t.same / max(t.banded, 1):.1%}",
                f"{t.flips / max(t.banded, 1):.1%}",
            )
    console.print(table)


if __name__ == "__main__":
    main()
