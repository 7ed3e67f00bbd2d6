"""What the friction signals add to /analytics, server-side, at the demo's scale.

    python benchmarks/bench_signals.py                 # 60k conversations (the demo)
    python benchmarks/bench_signals.py --data DIR      # an already imported data folder

Times, in-process through Django's test client signed in as an owner (views, queries,
templates), p50 of repeated runs after a warm-up:

* /analytics with the signals panel replaced by a constant (the page without signals);
* /analytics when the signals are not cached yet (the panel is a placeholder that loads
  itself; the page only checks the cache);
* /analytics with the signals cached (the panel is rendered in the page);
* /analytics/signals/panel/ computing the signals (cache cleared before each run), and
  compute_signals() alone.

Prints figures, never asserts them.
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

from benchmarks.bench_analytics_page import prepared_store
from benchmarks.bench_foundation import END
from deskpulse.settings import Settings

console = Console()


def p50(call: Callable[[], Any], runs: int, before: Callable[[], Any] | None = None) -> float:
    if before is not None:
        before()
    call()  # warm-up: compiled SQL and templates are cached from here on, as in a server
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
    parser.add_argument("--period", default="30d")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    folder = args.data or prepared_store(args.conversations, 7)
    settings = Settings(data_dir=folder).for_server()

    from deskpulse.web.bootstrap import setup_django

    setup_django(settings, allowed_hosts=["testserver"])
    from django.contrib.auth.models import User
    from django.test import Client

    from deskpulse.analysis import signals
    from deskpulse.metrics.window import Window
    from deskpulse.web.accounts.models import Profile
    from deskpulse.web.analytics import views
    from deskpulse.web.runtime import get_store

    owner, _ = User.objects.get_or_create(username="bench-owner", email="bench@example.com")
    Profile.objects.update_or_create(user=owner, defaults={"role": "owner", "agent_id": None})
    client = Client()
    client.force_login(owner)
    as_of = (END.date()).isoformat()
    query = f"period={args.period}&as_of={as_of}"

    def page(url: str) -> Callable[[], None]:
        def get() -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")

        return get

    dashboard = page(f"/analytics/?{query}")
    real_panel = views.panel_context
    views.panel_context = lambda *a, **k: {"pending": True, "src": "", "all_href": ""}  # type: ignore[assignment]
    without = p50(dashboard, args.runs)
    views.panel_context = real_panel
    cold = p50(dashboard, args.runs, before=signals.clear_cache)
    page(f"/analytics/signals/panel/?{query}")()
    cached = p50(dashboard, args.runs)
    panel = p50(page(f"/analytics/signals/panel/?{query}"), args.runs, before=signals.clear_cache)
    store = get_store()
    window = Window(period=args.period, as_of=END)  # type: ignore[arg-type]
    compute = p50(lambda: signals.compute_signals(store, window), args.runs)
    found = signals.compute_signals(store, window)
    conversations = store.count("conversation_facts")
    console.print(f"[bold]{conversations:,} conversations, period {args.period}[/]")
    console.print(f"/analytics without the signals panel      p50 {without:7.1f} ms")
    console.print(f"/analytics, signals not cached (deferred)  p50 {cold:7.1f} ms")
    console.print(f"/analytics, signals cached (inline panel)  p50 {cached:7.1f} ms")
    console.print(f"/analytics/signals/panel/, computing       p50 {panel:7.1f} ms")
    console.print(f"compute_signals() alone                    p50 {compute:7.1f} ms")
    console.print(f"{len(found.signals)} signals from {found.tests} tests")


if __name__ == "__main__":
    main()
