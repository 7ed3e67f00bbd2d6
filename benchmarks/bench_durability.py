"""Nothing acknowledged is ever lost: events sent while the server is killed with SIGKILL.

    python benchmarks/bench_durability.py                 # 10 kills, 4 senders
    python benchmarks/bench_durability.py --kills 20 --senders 8

`deskpulse serve` on an empty data folder; several senders POST batches of 50 events to
/api/v1/events in a loop, each remembering the ids of every batch the server answered
200 for. At random moments the whole server (gunicorn's master and worker) is killed
with SIGKILL, and started again on the same folder; senders retry what was not
answered (the same ids: duplicates count once). At the end every acknowledged id must
be stored exactly once. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deskpulse.events.store import open_store
from deskpulse.settings import Settings
from tests.served import (
    Client,
    deskpulse_command,
    environment,
    free_port,
    run_cli,
    wait_for_health,
)

console = Console()


def _batch(sender: int, number: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    at = "2026-03-01T10:00:00+00:00"
    for index in range(25):
        conversation = f"d-{sender}-{number}-{index}"
        events += [
            {"id": f"{conversation}-c", "type": "conversation.created", "occurred_at": at,
             "conversation_id": conversation, "channel": "chat", "inbox_id": "inbox-d",
             "customer_id": f"cust-{conversation}"},
            {"id": f"{conversation}-m", "type": "message.created", "occurred_at": at,
             "message_id": f"{conversation}-1", "conversation_id": conversation,
             "direction": "inbound", "author_kind": "customer"},
        ]  # fmt: skip
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    chooser = random.Random(args.seed)
    env = environment(DESKPULSE_SCHEDULER="off")
    env.pop("DESKPULSE_NOW", None)
    folder = Path(tempfile.mkdtemp(prefix="deskpulse-durability-"))
    data = folder / "data"
    created = run_cli(data, "token", "create", "--name", "durability", "--scope", "ingest",
                      env=env)  # fmt: skip
    token = created.strip().splitlines()[-1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "serve.log"

    def start() -> subprocess.Popen[bytes]:
        with log.open("ab") as output:
            process = subprocess.Popen(
                [*deskpulse_command(), "--data", str(data), "serve", "--port", str(port)],
                cwd=folder,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: SIGKILL reaches the worker
            )
        wait_for_health(url, process, log)
        return process

    acknowledged: set[str] = set()
    record = threading.Lock()
    stop = threading.Event()
    sent = {"batches": 0, "failed": 0}

    def sender(number: int) -> None:
        client = Client(url, token=token)
        batch_number = 0
        pending: list[dict[str, Any]] | None = None
        while not stop.is_set():
            batch = pending or _batch(number, batch_number)
            try:
                answer = client.post_events(batch)
                ok = answer.status == 200
            except Exception:  # the server is down: send the same batch again
                ok = False
            with record:
                sent["batches"] += 1
                if ok:
                    acknowledged.update(event["id"] for event in batch)
                else:
                    sent["failed"] += 1
            if ok:
                pending = None
                batch_number += 1
            else:
                pending = batch
                time.sleep(0.2)

    server = start()
    threads = [threading.Thread(target=sender, args=(n,)) for n in range(args.senders)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    for kill in range(1, args.kills + 1):
        time.sleep(chooser.uniform(3.0, 8.0))
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=60)
        console.print(f"kill {kill}: {len(acknowledged):,} events acknowledged so far")
        server = start()
    time.sleep(2.0)
    stop.set()
    for thread in threads:
        thread.join()
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=60)
    elapsed = time.perf_counter() - started

    store = open_store(Settings(data_dir=data))
    try:
        stored = [row[0] for row in store.execute("SELECT id FROM events")]
    finally:
        store.close()
    stored_ids = set(stored)
    lost = acknowledged - stored_ids
    console.print(
        json.dumps(
            {
                "kills": args.kills,
                "seconds": round(elapsed, 1),
                "batches_sent": sent["batches"],
                "requests_failed_while_down": sent["failed"],
                "events_acknowledged": len(acknowledged),
                "events_stored": len(stored),
                "stored_twice": len(stored) - len(stored_ids),
                "acknowledged_but_lost": len(lost),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
