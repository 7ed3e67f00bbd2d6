"""Many people at once: N clients on the real server while a helpdesk sends events.

    python benchmarks/bench_load.py                          # the demo's size: 60,000
    python benchmarks/bench_load.py --conversations 1000000  # 1M, kept in benchmarks/out
    python benchmarks/bench_load.py --data ./deskpulse-data  # an existing data folder
    python benchmarks/bench_load.py --clients 20 --seconds 60

`deskpulse serve` (gunicorn, 8 threads, the scheduler off so its jobs do not skew the
figures) on the data folder. Each client signs in, then for the whole run requests, in a
random order of its own: the /analytics page, GET /api/v1/dashboard, the leaderboard and
an agent's drill-down (30 days up to the data's last day). Meanwhile one more client
sends a batch of 50 events every second to POST /api/v1/events (each refreshes the
facts inside the request). Prints requests per second, p50 and p99 per endpoint, the
errors (any answer but 200, and any connection failure) and the server's resident memory
(the gunicorn master and its worker, sampled every second). Prints figures, never
asserts them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_analytics_page import prepared_store
from benchmarks.bench_foundation import END
from tests.served import PASSWORD, Client, environment, run_cli, serving

console = Console()


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


def _rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn master and worker)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        pending.extend(int(child) for child in children)
    return total


def _last_day(data: Path, env: dict[str, str]) -> str:
    """The day the data ends (the report's period is read up to it)."""
    import json

    report = json.loads(run_cli(data, "report", "--format", "json", "--period", "90d", env=env))
    return str(report["period"]["to"])[:10]


def _events(batch: int, agent: str, at: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for number in range(17):
        conversation = f"load-{batch}-{number}"
        common = {"occurred_at": at, "conversation_id": conversation}
        events += [
            {"id": f"{conversation}-c", "type": "conversation.created", **common,
             "channel": "chat", "inbox_id": "inbox-web-chat", "customer_id": f"c-{conversation}"},
            {"id": f"{conversation}-q", "type": "message.created", **common,
             "message_id": f"{conversation}-1", "direction": "inbound", "author_kind": "customer"},
            {"id": f"{conversation}-a", "type": "message.created", **common,
             "message_id": f"{conversation}-2", "direction": "outbound", "author_kind": "agent",
             "agent_id": agent},
        ]  # fmt: skip
    return events[:50]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="an existing data folder (default: generate)")
    parser.add_argument("--conversations", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    env = environment(DESKPULSE_SCHEDULER="off")
    env.pop("DESKPULSE_NOW", None)  # the server runs on the real clock
    data = args.data.resolve() if args.data else prepared_store(args.conversations, args.seed)
    email = f"bench-load-{int(time.time())}@deskpulse.test"
    run_cli(data, "user", "add", "--email", email, "--role", "owner", "--password", PASSWORD,
            env=env)  # fmt: skip
    created = run_cli(data, "token", "create", "--name", "bench_load", "--scope", "read",
                      "--scope", "ingest", "--user", email, env=env)  # fmt: skip
    token = created.strip().splitlines()[-1]
    day = _last_day(data, env) if args.data else END.date().isoformat()
    ingest_at = f"{day}T12:00:00+00:00"

    with serving(data, env=env) as (url, server):
        setup = Client(url, token=token)
        board = setup.get(f"/api/v1/leaderboard?period=30d&as_of={day}").json()
        agents = [row["agent_id"] for row in board["rows"] if row.get("kind") != "ai"][:10]
        window = f"period=30d&as_of={day}"
        endpoints = {
            "/analytics/": f"/analytics/?{window}",
            "/api/v1/dashboard": f"/api/v1/dashboard?{window}",
            "/api/v1/leaderboard": f"/api/v1/leaderboard?{window}",
            "/api/v1/agents/{id}": "/api/v1/agents/{agent}?" + window,
        }
        setup.sign_in(email)
        for path in endpoints.values():  # warm-up: compiled SQL, templates, caches
            setup.get(path.format(agent=agents[0]))

        tallies: dict[str, Tally] = defaultdict(Tally)
        record = threading.Lock()
        stop = threading.Event()
        rss: list[int] = []

        def client(seed: int) -> None:
            own = Client(url, token=token)
            own.sign_in(email)
            chooser = random.Random(seed)
            names = list(endpoints)
            while not stop.is_set():
                name = chooser.choice(names)
                path = endpoints[name].format(agent=chooser.choice(agents))
                started = time.perf_counter()
                try:
                    answer = own.get(path)
                    status, problem = answer.status, f"HTTP {answer.status}"
                except Exception as error:  # a refused or dropped connection is an error too
                    status, problem = 0, f"{type(error).__name__}: {error}"
                took = time.perf_counter() - started
                with record:
                    tally = tallies[name]
                    tally.latencies.append(took)
                    if status != 200:
                        tally.errors += 1
                        tally.first_error = tally.first_error or f"{path}: {problem}"

        def ingester() -> None:
            own = Client(url, token=token)
            batch = 0
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    answer = own.post_events(_events(batch, agents[0], ingest_at))
                    status, problem = answer.status, f"HTTP {answer.status}"
                except Exception as error:
                    status, problem = 0, f"{type(error).__name__}: {error}"
                took = time.perf_counter() - started
                with record:
                    tally = tallies["POST /api/v1/events"]
                    tally.latencies.append(took)
                    if status != 200:
                        tally.errors += 1
                        tally.first_error = tally.first_error or problem
                batch += 1
                stop.wait(max(0.0, 1.0 - took))

        def sampler() -> None:
            while not stop.is_set():
                rss.append(_rss_bytes(server.pid))
                stop.wait(1.0)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        threads += [threading.Thread(target=ingester), threading.Thread(target=sampler)]
        console.print(
            f"{args.clients} clients and one ingester for {args.seconds:.0f} s on {url} "
            f"({data}; reads up to {day})"
        )
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started

    table = Table(title=f"bench_load: {args.clients} clients, {elapsed:.0f} s")
    for column in ("endpoint", "requests", "req/s", "p50 ms", "p99 ms", "errors"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    total = errors = 0
    for name, tally in tallies.items():
        times = sorted(tally.latencies)
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))] if times else 0.0
        table.add_row(
            name,
            f"{len(times):,}",
            f"{len(times) / elapsed:.1f}",
            f"{1000 * statistics.median(times):.0f}" if times else "-",
            f"{1000 * p99:.0f}",
            f"{tally.errors:,}",
        )
        total += len(times)
        errors += tally.errors
    console.print(table)
    console.print(
        f"all: {total:,} requests, {total / elapsed:.1f} req/s, {errors:,} errors; "
        f"server RSS max {max(rss, default=0) / 2**20:.0f} MB, "
        f"at the end {rss[-1] / 2**20 if rss else 0:.0f} MB"
    )
    for name, tally in tallies.items():
        if tally.first_error:
            console.print(f"[red]first error on {name}:[/] {tally.first_error}")


if __name__ == "__main__":
    main()
