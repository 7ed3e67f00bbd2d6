"""What building one weekly digest costs, at the demo's scale (core only, no Django).

    python benchmarks/bench_digest.py                  # 60k generated conversations
    python benchmarks/bench_digest.py --data DIR       # an already imported data folder

For the week before `END` (the generated data's last day), per team and for the whole
organisation: the tiles with their previous week (one query-layer call), the friction
signals (computed, cache cleared before each run), and the HTML + plain-text rendering.
p50 of repeated runs after a warm-up. Prints figures, never asserts them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console

from benchmarks.bench_foundation import END
from deskpulse.analysis.signals import clear_cache
from deskpulse.events.store import open_store
from deskpulse.metrics.query import Filters
from deskpulse.metrics.report import agent_directory
from deskpulse.notify.digest import (
    Digest,
    DigestScope,
    digest_week,
    render_html,
    render_text,
    scope_signals,
    scope_tiles,
)
from deskpulse.settings import Settings

console = Console()


def p50(call: Callable[[], Any], runs: int, before: Callable[[], Any] | None = None) -> float:
    call()
    samples = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=60_000)
    parser.add_argument("--data", type=Path, default=None, help="an imported data folder")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if args.data is None:
        from benchmarks.bench_analytics_page import prepared_store

        args.data = prepared_store(args.conversations, 7)
    store = open_store(Settings(data_dir=args.data))
    week = digest_week(END, store.settings.tz)
    teams = sorted(
        {str(t) for row in agent_directory(store).values() for t in row.get("team_ids") or ()}
    )
    console.print(f"{args.data}: week {week.key} ({week.days_text}), teams: {', '.join(teams)}")
    scopes = []
    for team in [*teams, None]:
        filters = Filters(team=team)
        tiles_ms = p50(lambda f=filters: scope_tiles(store, week, filters=f), args.runs)
        signals_ms = p50(
            lambda f=filters: scope_signals(store, week, filters=f, base_url=""),
            args.runs,
            before=clear_cache,
        )
        tiles = scope_tiles(store, week, filters=filters)
        scopes.append(DigestScope(title=team or "Whole organisation", tiles=tiles))
        n = {t.metric: t.n for t in tiles}["conversations"]
        console.print(
            f"{team or 'whole organisation':>20}: tiles {tiles_ms:6.1f} ms, "
            f"signals {signals_ms:6.1f} ms (conversations n = {n:,})",
            soft_wrap=True,
        )
    digest = Digest(recipient="Bench", week=week, scopes=tuple(scopes))
    render_ms = p50(lambda: (render_html(digest), render_text(digest)), args.runs)
    console.print(f"rendering HTML + text for {len(scopes)} scopes: {render_ms:.2f} ms")
    store.close()


if __name__ == "__main__":
    main()
