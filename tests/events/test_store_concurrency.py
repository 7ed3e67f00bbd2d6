"""The store's concurrency design: a connection per thread, one writer at a time.

Reader threads run the dashboard, the leaderboard, a drill-down and the conversation
list while writer threads ingest events and refresh the facts. The ingested
conversations belong to new customers and come after the period every reader looks at,
so no answer may change: each must equal the answer computed alone, on DuckDB and on
PostgreSQL. Before the store had a connection per thread, this failed with DuckDB's
"KeyError: Field ... does not exist" and answers with n = 0.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deskpulse.analysis.conversations import ConversationFilters, list_conversations
from deskpulse.analysis.drilldown import agent_dashboard_payload
from deskpulse.analysis.leaderboard import leaderboard
from deskpulse.events.bulk import import_sources
from deskpulse.events.ingest import ingest_objects
from deskpulse.events.store import Store
from deskpulse.facts.build import refresh_facts
from deskpulse.generator import generate
from deskpulse.metrics.dashboard import dashboard_payload
from deskpulse.metrics.query import TEAM_VIEWER, Viewer
from deskpulse.metrics.window import Window
from tests.served import new_customer_conversations

END = datetime(2027, 1, 10, tzinfo=UTC)
AS_OF = END - timedelta(days=1)
READERS = 6
ROUNDS = 3
BATCHES = 6


def _as_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _reads(store: Store, agent: str) -> dict[str, Callable[[], str]]:
    window = Window(period="30d", as_of=AS_OF)
    return {
        "dashboard 30d": lambda: _as_text(dashboard_payload(store, period="30d", as_of=AS_OF)),
        "dashboard 7d": lambda: _as_text(dashboard_payload(store, period="7d", as_of=AS_OF)),
        "leaderboard": lambda: _as_text(leaderboard(store, window, TEAM_VIEWER)),
        "drill-down": lambda: _as_text(
            agent_dashboard_payload(store, window, agent, Viewer(agent_id=agent))
        ),
        "conversations": lambda: _as_text(
            list_conversations(store, window, TEAM_VIEWER, ConversationFilters(), limit=50)
        ),
    }


def test_readers_and_writers_at_once_get_the_sequential_answers(
    store: Store, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    generate(buffer, seed=3, conversations=600, days=40, end=END)
    events = tmp_path / "events.jsonl"
    events.write_bytes(buffer.getvalue())
    assert import_sources(store, [events]).rejected == 0
    refresh_facts(store)
    agent = next(
        row.agent_id
        for row in leaderboard(store, Window(period="30d", as_of=AS_OF), TEAM_VIEWER).rows
    )
    reads = _reads(store, agent)
    expected = {name: read() for name, read in reads.items()}

    failures: list[str] = []
    record = threading.Lock()

    def reader(_: int) -> int:
        for _round in range(ROUNDS):
            for name, read in reads.items():
                try:
                    answer = read()
                except Exception as error:  # the failure to report, whatever it is
                    problem = f"{name}: {type(error).__name__}: {error}"
                else:
                    if answer == expected[name]:
                        continue
                    problem = f"{name}: a different answer than alone"
                with record:
                    failures.append(problem)
        return ROUNDS * len(reads)

    def writer(batch: int) -> int:
        try:
            result = ingest_objects(store, new_customer_conversations(batch, agent), "concurrency")
            assert result.accepted == 30, result
            refresh_facts(store)
        except Exception as error:
            with record:
                failures.append(f"ingest {batch}: {type(error).__name__}: {error}")
        return 1

    with ThreadPoolExecutor(max_workers=READERS + 2) as pool:
        done = [pool.submit(reader, n) for n in range(READERS)]
        done += [pool.submit(writer, n) for n in range(BATCHES)]
        total = sum(f.result() for f in done)

    assert failures == [], f"{len(failures)} of {total} calls failed:\n" + "\n".join(failures[:20])
    # Everything ingested is in the facts, and the reads still answer as before.
    assert store.count("dirty_conversations") == 0
    created = store.execute(
        "SELECT count(*) FROM conversation_facts WHERE conversation_id LIKE 'concurrent-%'"
    )
    assert created[0][0] == 10 * BATCHES
    assert {name: read() for name, read in reads.items()} == expected
