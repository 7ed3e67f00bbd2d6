"""On PostgreSQL, several servers and CLIs work at once on one database.

Two `deskpulse serve` processes (each with its own gunicorn workers) share the events,
the facts and the app database; while clients read both and send events to both, a
`deskpulse import` and `deskpulse report` run from the command line against the same
database. Writers take turns through the store's advisory lock, so nothing is lost or
counted twice, and every read answers as it does alone (the workload cannot race: the
new conversations belong to new customers and come after the period every read looks at).
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import _postgres_database
from tests.served import (
    Client,
    environment,
    generated_organisation,
    new_customer_conversations,
    run_cli,
    serving,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

END = "2027-01-10T00:00:00+00:00"
AS_OF = "2027-01-09"


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """(events and facts, app database): two fresh databases on the test server."""
    events = _postgres_database()
    app = _postgres_database()
    try:
        yield next(events), next(app)
    finally:
        for generator in (events, app):
            generator.close()


def test_two_servers_and_the_cli_share_one_database(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    events_url, app_url = databases
    env = environment(DESKPULSE_BACKEND=events_url, DESKPULSE_APP_DATABASE_URL=app_url)
    organisation = generated_organisation(tmp_path, conversations=800, days=40, end=END, env=env)
    agent = next(a["agent_id"] for a in organisation.agents if a["kind"] == "human")
    paths = [
        f"/api/v1/dashboard?period=30d&as_of={AS_OF}",
        f"/api/v1/leaderboard?period=30d&as_of={AS_OF}",
        f"/api/v1/agents/{agent}?period=30d&as_of={AS_OF}",
        f"/api/v1/report?period=7d&as_of={AS_OF}",
    ]
    cli_batch = tmp_path / "cli-batch.jsonl"
    cli_batch.write_text(
        "\n".join(json.dumps(e) for e in new_customer_conversations(59, agent)) + "\n"
    )

    with ExitStack() as servers:
        urls = [
            servers.enter_context(serving(organisation.data, env=env))[0],
            servers.enter_context(serving(organisation.data, env=env))[0],
        ]
        clients = [Client(url, token=organisation.token) for url in urls]
        expected = {path: clients[0].get(path).body for path in paths}
        assert all(clients[1].get(path).body == expected[path] for path in paths)

        failures: list[str] = []
        record = threading.Lock()

        def reader(seed: int) -> None:
            client = clients[seed % 2]
            order = paths * 4
            random.Random(seed).shuffle(order)
            for path in order:
                answer = client.get(path)
                if answer.status != 200 or answer.body != expected[path]:
                    with record:
                        failures.append(f"{client.url}{path}: {answer.status}")

        def ingester(batch: int) -> None:
            answer = clients[batch % 2].post_events(new_customer_conversations(batch, agent))
            if answer.status != 200 or answer.json()["accepted"] != 30:
                with record:
                    failures.append(f"ingest {batch}: {answer.status} {answer.body[:200]!r}")

        def command_line() -> None:
            try:
                run_cli(organisation.data, "import", str(cli_batch), env=env)
                report = run_cli(organisation.data, "report", "--format", "json",
                                 "--period", "7d", "--as-of", AS_OF, env=env)  # fmt: skip
                json.loads(report)
            except RuntimeError as error:
                with record:
                    failures.append(f"cli: {error}")

        with ThreadPoolExecutor(max_workers=10) as pool:
            jobs = [pool.submit(reader, seed) for seed in range(6)]
            jobs += [pool.submit(ingester, batch) for batch in range(6)]
            jobs.append(pool.submit(command_line))
            for job in jobs:
                job.result()
        assert failures == [], "\n".join(failures[:20])

        # 6 batches through the servers and one through the CLI, each counted once.
        for client in clients:
            listing = client.get(
                "/api/v1/conversations?period=custom&from=2027-01-11&to=2027-01-11&limit=1"
            )
            assert listing.json()["total"] == 70
            assert all(client.get(path).body == expected[path] for path in paths)
