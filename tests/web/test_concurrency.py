"""Many people at once: concurrent requests get exactly the answers they get one at a time.

The real server (`deskpulse serve`: gunicorn with 8 threads, the scheduler on) on a
generated organisation. Many client threads read the dashboard, the leaderboard and its
CSV, drill-downs, conversation lists and the /analytics page while others ingest events
(each ingest refreshes the facts inside the request). The workload cannot race: the
reads look at a period that ends before any ingested event, and the ingested
conversations belong to new customers, so no read answer may change. Every answer must
be a 200 equal, byte for byte (the page: apart from its CSRF token), to the answer to the
same request made alone.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.served import (
    Client,
    Organisation,
    generated_organisation,
    new_customer_conversations,
    serving,
)

pytestmark = pytest.mark.slow

END = "2027-01-10T00:00:00+00:00"  # the generated data ends here
AS_OF = "2027-01-09"  # every read ends with this day: before every ingested event
READERS = 12
ROUNDS = 2
INGEST_BATCHES = 12


@dataclass(frozen=True)
class Served:
    url: str
    organisation: Organisation


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("concurrency")
    organisation = generated_organisation(folder, conversations=2_000, days=60, end=END)
    with serving(organisation.data) as (url, _process):
        yield Served(url, organisation)


def read_paths(organisation: Organisation) -> list[str]:
    humans = [a["agent_id"] for a in organisation.agents if a["kind"] == "human"]
    window = f"as_of={AS_OF}"
    paths = [
        f"/api/v1/dashboard?period=30d&{window}",
        f"/api/v1/dashboard?period=7d&{window}",
        f"/api/v1/leaderboard?period=90d&{window}",
        f"/api/v1/leaderboard.csv?period=30d&{window}",
        f"/api/v1/load-balancing?period=30d&{window}",
        f"/api/v1/conversations?period=30d&{window}&limit=100",
        f"/api/v1/report?period=30d&{window}",
        f"/analytics/?period=30d&{window}",
        f"/analytics/?period=7d&{window}&sort=csat_shrunk&order=asc",
        # The dashboard's filters and the teams side by side (issue 16).
        f"/api/v1/dashboard?period=30d&{window}&team=team-billing&channel=email",
        f"/api/v1/teams?period=30d&{window}",
        f"/api/v1/signals?period=30d&{window}&team=team-tech",
        f"/analytics/?period=30d&{window}&team=team-billing",
    ]
    for agent in humans[:2]:
        paths.append(f"/api/v1/agents/{agent}?period=30d&{window}")
        paths.append(f"/analytics/agents/{agent}/?period=30d&{window}")
    return paths


def _comparable(path: str, body: bytes) -> bytes:
    if path.startswith("/api/"):
        return body
    # A page carries a fresh CSRF token in every response; nothing else may differ.
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", body)


def test_concurrent_requests_get_the_answers_of_sequential_ones(served: Served) -> None:
    organisation = served.organisation
    paths = read_paths(organisation)

    def client() -> Client:
        signed_in = Client(served.url, token=organisation.token)
        signed_in.sign_in(organisation.owner_email)
        return signed_in

    alone = client()
    expected: dict[str, bytes] = {}
    for path in paths:
        answer = alone.get(path)
        assert answer.status == 200, (path, answer.status, answer.body[:500])
        expected[path] = _comparable(path, answer.body)

    failures: list[str] = []
    record = threading.Lock()
    agent = next(a["agent_id"] for a in organisation.agents if a["kind"] == "human")

    def reader(seed: int) -> int:
        own = client()
        order = [path for _ in range(ROUNDS) for path in paths]
        random.Random(seed).shuffle(order)
        for path in order:
            answer = own.get(path)
            if answer.status != 200:
                problem = f"{path}: HTTP {answer.status} {answer.body[:300]!r}"
            elif _comparable(path, answer.body) != expected[path]:
                problem = f"{path}: a different answer than the same request made alone"
            else:
                continue
            with record:
                failures.append(problem)
        return len(order)

    def ingester(batch: int) -> int:
        own = Client(served.url, token=organisation.token)
        answer = own.post_events(new_customer_conversations(batch, agent))
        if answer.status != 200 or answer.json()["accepted"] != 30:
            with record:
                failures.append(f"ingest {batch}: HTTP {answer.status} {answer.body[:300]!r}")
        return 1

    with ThreadPoolExecutor(max_workers=READERS + 2) as pool:
        reads = [pool.submit(reader, seed) for seed in range(READERS)]
        writes = [pool.submit(ingester, batch) for batch in range(INGEST_BATCHES)]
        done = sum(f.result() for f in reads) + sum(f.result() for f in writes)

    assert done == READERS * ROUNDS * len(paths) + INGEST_BATCHES
    assert failures == [], f"{len(failures)} of {done} requests failed:\n" + "\n".join(
        failures[:20]
    )
    # Every ingested conversation arrived and is in the facts (after the reads' period).
    listing = alone.get("/api/v1/conversations?period=custom&from=2027-01-11&to=2027-01-11")
    assert listing.status == 200
    assert listing.json()["total"] == 10 * INGEST_BATCHES
    # And the reads still answer as they did before.
    for path in paths:
        assert _comparable(path, alone.get(path).body) == expected[path], path
