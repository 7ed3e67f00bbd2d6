"""The foundation's performance figures, each beside its DESIGN.md budget.

    python benchmarks/bench_foundation.py                 # 1M conversations (~9.3M events)
    python benchmarks/bench_foundation.py --scale 0.1     # 100k conversations
    python benchmarks/bench_foundation.py --postgres postgresql://…   # add the SQL baseline

Prints figures, never asserts them (these machines are noisy). Steps:
1. generate the synthetic organisation (cached in benchmarks/out/ per scale and seed);
2. bulk import into a fresh DuckDB store: events/s (budget >= 250k/s);
3. facts from scratch (budget <= 30 s at 1M conversations);
4. an incremental refresh after a 10k-event batch touching existing conversations
   (budget <= 1 s);
5. `dashboard_payload` for 90 days: p50 of repeated runs (budget <= 150 ms);
6. peak RSS of a fresh "server" process that opens the store as `deskpulse serve` does
   (DuckDB memory capped, DESKPULSE_DUCKDB_MEMORY) and serves the dashboard
   (budget <= 1.5 GB);
7. with --postgres (or DESKPULSE_BENCH_POSTGRES_URL): the same dashboard numbers as
   plain SQL on PostgreSQL over Chatwoot-style reporting tables (conversations plus
   reporting_events, the way Chatwoot's reports run), timed in the same run; the budget
   is deskpulse >= 20x faster.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from deskpulse.events.bulk import import_sources
from deskpulse.events.store import Store, open_store
from deskpulse.facts.build import refresh_facts
from deskpulse.generator import generate
from deskpulse.metrics.dashboard import dashboard_payload
from deskpulse.settings import Settings

OUT = Path(__file__).parent / "out"
END = datetime(2026, 3, 1, tzinfo=UTC)
console = Console()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dataset(conversations: int, seed: int) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"events-{conversations}-{seed}.jsonl"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".partial")
        summary = generate(partial, seed=seed, conversations=conversations, end=END)
        partial.rename(path)
        console.print(
            f"generated {summary.events:,} events in {time.perf_counter() - started:.0f} s"
        )
    return path


def incremental_batch(store: Store, size: int, seed: int) -> list[dict[str, Any]]:
    """`size` new events on existing conversations: messages, surveys and resolutions."""
    rng = random.Random(seed)
    ids = [
        row[0]
        for row in store.execute(
            "SELECT conversation_id FROM conversation_facts ORDER BY conversation_id"
        )
    ]
    touched = rng.sample(ids, min(len(ids), size // 4))
    # One customer message, one human reply, one resolution and one CSAT answer in turn.
    kinds: list[dict[str, Any]] = [
        {
            "type": "message.created",
            "direction": "inbound",
            "author_kind": "customer",
            "text": "any news on this?",
        },
        {
            "type": "message.created",
            "direction": "outbound",
            "author_kind": "agent",
            "agent_id": "agent-001",
            "ai_assist": "draft_edited",
        },
        {"type": "conversation.status_changed", "status": "resolved"},
        {"type": "survey.responded", "survey": "csat"},
    ]
    events: list[dict[str, Any]] = []
    at = END - timedelta(hours=2)
    for number in range(size):
        event = {
            "id": f"bench-{seed}-{number}",
            "occurred_at": (at + timedelta(seconds=number)).isoformat(),
            "conversation_id": touched[number % len(touched)],
            **kinds[number % 4],
        }
        if event["type"] == "message.created":
            event["message_id"] = f"bench-m-{number}"
        elif event["type"] == "survey.responded":
            event["score"] = 1 + number % 5
        events.append(event)
    return events


def time_dashboard(store: Store, runs: int) -> list[float]:
    dashboard_payload(store, period="90d", as_of=END)  # compile once, as a server would
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        dashboard_payload(store, period="90d", as_of=END)
        timings.append(time.perf_counter() - started)
    return timings


SERVER_PROBE = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path
from deskpulse.events.store import open_store
from deskpulse.metrics.dashboard import dashboard_payload
from deskpulse.settings import Settings
store = open_store(Settings(data_dir=Path(sys.argv[1])).for_server())  # as `serve` does
for period in ("7d", "30d", "90d", "90d", "30d"):
    dashboard_payload(store, period=period, as_of=datetime(2026, 3, 1, tzinfo=UTC))
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child started by a
# big parent would report the parent's peak.
peak_kb = next(
    int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")
)
print(json.dumps({"rss_mb": peak_kb / 1024}))
"""


def server_rss_mb(data_dir: Path) -> float:
    output = subprocess.run(
        [sys.executable, "-c", SERVER_PROBE, str(data_dir)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(output.strip().splitlines()[-1])["rss_mb"])


# -- the PostgreSQL baseline ---------------------------------------------------------------

BASELINE_SCHEMA = """
DROP TABLE IF EXISTS reporting_events;
DROP TABLE IF EXISTS conversations;
CREATE TABLE conversations (
    id TEXT PRIMARY KEY, created_at TIMESTAMP, channel TEXT, team_id TEXT,
    assignee_id TEXT, status TEXT, csat_score INT, csat_at TIMESTAMP, nps_score INT,
    nps_at TIMESTAMP, escalated BOOLEAN, ai_handled BOOLEAN
);
CREATE TABLE reporting_events (
    name TEXT, value DOUBLE PRECISION, conversation_id TEXT, user_id TEXT,
    created_at TIMESTAMP
);
"""
BASELINE_INDEXES = """
CREATE INDEX ON conversations (created_at);
CREATE INDEX ON conversations (csat_at);
CREATE INDEX ON reporting_events (name, created_at);
ANALYZE;
"""

# The dashboard's numbers as Chatwoot-style report SQL: one statement per figure group,
# each over the raw report tables, with the previous period for the tiles.
BASELINE_QUERIES = [
    # tiles, current and previous period
    """SELECT count(*) FILTER (WHERE created_at >= %(start)s),
              count(*) FILTER (WHERE created_at < %(start)s),
              avg(CASE WHEN escalated THEN 1.0 ELSE 0.0 END),
              avg(CASE WHEN ai_handled THEN 1.0 ELSE 0.0 END),
              avg(CASE WHEN status = 'resolved' THEN 1.0 ELSE 0.0 END)
       FROM conversations WHERE created_at >= %(prev)s AND created_at < %(end)s""",
    """SELECT name, created_at >= %(start)s AS current,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY value),
              percentile_cont(0.9) WITHIN GROUP (ORDER BY value), avg(value), count(*)
       FROM reporting_events WHERE created_at >= %(prev)s AND created_at < %(end)s
       GROUP BY 1, 2""",
    """SELECT avg(csat_score), count(csat_score),
              avg(CASE WHEN csat_score >= 4 THEN 1.0 ELSE 0.0 END),
              avg(CASE WHEN nps_score >= 9 THEN 100.0 WHEN nps_score <= 6 THEN -100.0
                       ELSE 0 END)
       FROM conversations WHERE csat_at >= %(start)s AND csat_at < %(end)s""",
    # daily series
    """SELECT date_trunc('day', created_at), channel, count(*),
              avg(CASE WHEN ai_handled THEN 1.0 ELSE 0.0 END)
       FROM conversations WHERE created_at >= %(start)s AND created_at < %(end)s
       GROUP BY 1, 2""",
    """SELECT date_trunc('day', created_at), percentile_cont(0.5) WITHIN GROUP (ORDER BY value),
              percentile_cont(0.9) WITHIN GROUP (ORDER BY value)
       FROM reporting_events WHERE name = 'first_response'
         AND created_at >= %(start)s AND created_at < %(end)s GROUP BY 1""",
    """SELECT date_trunc('day', csat_at), avg(csat_score), count(csat_score)
       FROM conversations WHERE csat_at >= %(start)s AND csat_at < %(end)s GROUP BY 1""",
    # leaderboard
    """SELECT user_id, count(DISTINCT conversation_id),
              percentile_cont(0.5) WITHIN GROUP (ORDER BY value)
       FROM reporting_events WHERE name = 'reply'
         AND created_at >= %(start)s AND created_at < %(end)s GROUP BY 1""",
    """SELECT r.user_id, avg(c.csat_score), count(c.csat_score)
       FROM conversations c JOIN (SELECT DISTINCT conversation_id, user_id FROM
            reporting_events WHERE name = 'reply') r ON r.conversation_id = c.id
       WHERE c.csat_at >= %(start)s AND c.csat_at < %(end)s GROUP BY 1""",
]


def load_baseline(store: Store, url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute(BASELINE_SCHEMA)
        conversations = store.execute(
            "SELECT conversation_id, created_at, channel, team_id, assignee_id, status, "
            "csat_score, csat_at, nps_score, nps_at, escalated, ai_handled "
            "FROM conversation_facts"
        )
        with pg.cursor() as cursor, cursor.copy("COPY conversations FROM STDIN") as copy:
            for row in conversations:
                copy.write_row(row)
        events = store.execute(
            "SELECT 'first_response', first_response_seconds, conversation_id, assignee_id, "
            "first_response_at FROM conversation_facts WHERE first_response_at IS NOT NULL "
            "UNION ALL SELECT 'conversation_resolved', full_resolution_seconds, "
            "conversation_id, assignee_id, full_resolved_at FROM conversation_facts "
            "WHERE full_resolved_at IS NOT NULL "
            "UNION ALL SELECT 'reply', agent_first_response_seconds, conversation_id, "
            "agent_id, first_reply_at FROM agent_conversation_facts WHERE handled"
        )
        with pg.cursor() as cursor, cursor.copy("COPY reporting_events FROM STDIN") as copy:
            for row in events:
                copy.write_row(row)
        pg.execute(BASELINE_INDEXES)


def time_baseline(url: str, runs: int) -> list[float]:
    import psycopg

    end = END.replace(tzinfo=None)
    bounds = {
        "end": end,
        "start": end - timedelta(days=90),
        "prev": end - timedelta(days=180),
    }
    timings = []
    with psycopg.connect(url) as pg:
        for query in BASELINE_QUERIES:  # warm the cache, as for deskpulse
            pg.execute(query, bounds).fetchall()
        for _ in range(runs):
            started = time.perf_counter()
            for query in BASELINE_QUERIES:
                pg.execute(query, bounds).fetchall()
            timings.append(time.perf_counter() - started)
    return timings


# -- main ----------------------------------------------------------------------------------


def ratio(measured: float, budget: float, higher_is_better: bool) -> str:
    value = measured / budget if higher_is_better else budget / measured
    verdict = "within budget" if value >= 1 else "over budget"
    return f"{value:.2f}x ({verdict})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 1M conversations")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=20, help="dashboard repetitions")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("DESKPULSE_BENCH_POSTGRES_URL"),
        help="PostgreSQL URL for the plain-SQL baseline",
    )
    args = parser.parse_args()
    conversations = max(1000, int(1_000_000 * args.scale))
    source = dataset(conversations, args.seed)
    figures: list[tuple[str, str, str, str]] = []

    with tempfile.TemporaryDirectory(prefix="deskpulse-bench-") as folder:
        data_dir = Path(folder)
        store = open_store(Settings(data_dir=data_dir))

        started = time.perf_counter()
        imported = import_sources(store, [source])
        seconds = time.perf_counter() - started
        rate = imported.accepted / seconds
        figures.append(
            (
                "bulk import",
                f"{rate:,.0f} events/s ({imported.accepted:,} in {seconds:.1f} s)",
                ">= 250,000 events/s",
                ratio(rate, 250_000, True),
            )
        )

        started = time.perf_counter()
        built = refresh_facts(store, full=True)
        seconds = time.perf_counter() - started
        budget = 30 * conversations / 1_000_000
        figures.append(
            (
                "facts from scratch",
                f"{seconds:.1f} s ({built.conversations:,} conversations)",
                f"<= {budget:.1f} s",
                ratio(seconds, budget, False),
            )
        )

        batch = incremental_batch(store, 10_000, args.seed)
        batch_file = data_dir / "batch.jsonl"
        batch_file.write_text("\n".join(json.dumps(event) for event in batch))
        import_sources(store, [batch_file])
        started = time.perf_counter()
        refreshed = refresh_facts(store)
        seconds = time.perf_counter() - started
        figures.append(
            (
                "facts, incremental (10k events)",
                f"{seconds:.2f} s ({refreshed.conversations:,} conversations recomputed)",
                "<= 1 s",
                ratio(seconds, 1.0, False),
            )
        )

        timings = time_dashboard(store, args.runs)
        p50 = statistics.median(timings)
        p90 = statistics.quantiles(timings, n=10)[-1]
        figures.append(
            (
                "dashboard payload, 90d (p50)",
                f"{1000 * p50:.0f} ms (p90 {1000 * p90:.0f} ms)",
                "<= 150 ms",
                ratio(p50, 0.150, False),
            )
        )
        store.close()

        rss = server_rss_mb(data_dir)
        figures.append(
            ("server peak RSS", f"{rss:,.0f} MB", "<= 1,536 MB", ratio(rss, 1536, False))
        )

        if args.postgres:
            store = open_store(Settings(data_dir=data_dir))
            load_baseline(store, args.postgres)
            store.close()
            baseline = statistics.median(time_baseline(args.postgres, max(3, args.runs // 4)))
            speedup = baseline / p50
            figures.append(
                (
                    "vs plain SQL on PostgreSQL",
                    f"baseline {1000 * baseline:.0f} ms vs {1000 * p50:.0f} ms: "
                    f"{speedup:.1f}x faster",
                    ">= 20x faster",
                    ratio(speedup, 20, True),
                )
            )

    table = Table(title=f"deskpulse foundation benchmark: {conversations:,} conversations")
    for column in ("figure", "measured", "budget", "ratio to budget"):
        table.add_column(column)
    for row in figures:
        table.add_row(*row)
    console.print(table)
    console.print(f"benchmark process peak RSS: {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
