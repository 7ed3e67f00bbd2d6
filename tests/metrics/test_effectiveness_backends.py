"""The effectiveness metrics give the same numbers on DuckDB, PostgreSQL and Spark.

One set of scored interactions (effectiveness_facts written by hand with the schema of
facts/tables.py) is read through query() with every grouping and filter the performance
pages and coaching plans use; each backend must give exactly the same values, and a few
of them are worked out here by hand.

Handle times are multiples of 1/4 s and probabilities multiples of 1/8, so every sum is
exact in binary floating point and no backend's summation order can change a digit.

Hand-checked ("cancel", chat, March): alice (100 s, .5, .75) and (200 s, 1, .25) ->
handle 150, satisfaction .75, resolution .5, AES 150 / .375 = 400; bob (50 s, 0, .5) ->
satisfaction 0: no AES (n 1), handle 50. Pooled: handle 350 / 3, satisfaction 1.5 / 3,
resolution 1.5 / 3 -> AES (350 / 3) / .25 = 466.666666667, n 3.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deskpulse.analysis.coaching import now_value
from deskpulse.analysis.effectiveness import (
    EFFECTIVENESS_METRICS,
    agent_performance,
    performance_window,
)
from deskpulse.events.store import Store
from deskpulse.metrics.query import TEAM_VIEWER, Filters, Query, query
from tests.analysis.test_effectiveness import interaction, write_effectiveness
from tests.factories import Events, ingest_and_build, scratch_store
from tests.metrics.test_spark import spark  # noqa: F401  (the module's Spark session)

AS_OF = datetime(2026, 4, 1, tzinfo=UTC)
METRICS = [*EFFECTIVENESS_METRICS, "aes_interactions"]
AGENTS = ("alice", "bob", "carol", "bot")
INQUIRIES = ("billing", "refund", None)


def directory() -> Events:
    f = Events(start=datetime(2026, 1, 1, tzinfo=UTC))
    f.agent("alice", teams=["t1"])
    f.agent("bob", teams=["t1"])
    f.agent("carol", teams=["t2"])
    f.agent("bot", kind="ai", teams=["t1"])
    return f


def rows() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    start = datetime(2026, 3, 1, 8, 0)
    for a, agent in enumerate(AGENTS):
        for q, inquiry in enumerate(INQUIRIES):
            for i in range(9):
                channel = "voice" if (i + a) % 3 == 0 else "chat"
                satisfaction = None if (i + q) % 7 == 3 else ((i + a) % 8) / 8
                resolution = None if (i * 2 + a) % 9 == 4 else ((i * 3 + q + a) % 8 + 1) / 8
                handle = None if (i + a + q) % 10 == 6 else 30 + 7.25 * ((i * 5 + a * 3 + q) % 11)
                row = interaction(
                    f"{agent}-{q}-{i}",
                    agent,
                    start + timedelta(hours=13 * i + 5 * a + q),
                    handle=handle,
                    satisfaction=satisfaction,
                    resolution=resolution,
                    inquiry=inquiry,
                    channel=channel,
                    source="model" if i % 4 else "measured",
                )
                row["team_id"] = "t1" if i % 2 else "t2"
                found.append(row)
    cancel = datetime(2026, 3, 20, 9, 0)
    found += [
        interaction("k1", "alice", cancel, handle=100, satisfaction=0.5, resolution=0.75,
                    inquiry="cancel"),
        interaction("k2", "alice", cancel + timedelta(hours=1), handle=200, satisfaction=1.0,
                    resolution=0.25, inquiry="cancel"),
        interaction("k3", "bob", cancel, handle=50, satisfaction=0.0, resolution=0.5,
                    inquiry="cancel"),
        # Outside the 30 days: counted nowhere below.
        interaction("x1", "alice", datetime(2026, 2, 1), handle=1000, satisfaction=0.125,
                    resolution=0.125, inquiry="cancel"),
    ]  # fmt: skip
    return found


FILTERS: dict[str, Filters] = {
    "all": Filters(),
    "voice": Filters(channel="voice"),
    "refund": Filters(inquiry="refund"),
    "alice": Filters(agent="alice"),
    "team t1": Filters(team="t1"),
    "people": Filters(agent_kind="human"),
    "ai": Filters(agent_kind="ai"),
    "alice and bob": Filters(agents=("alice", "bob")),
    "nobody": Filters(agents=()),
    "people on chat billing": Filters(channel="chat", inquiry="billing", agent_kind="human"),
}


# Spark answers each query in a few tenths of a second: it gets the shapes the pages use
# (every new filter and grouping once), not every combination.
SPARK_FILTERS = ("people on chat billing", "alice and bob", "nobody", "team t1", "ai")


def numbers(store: Store, *, full: bool = True) -> dict[str, Any]:
    """What the performance pages and plans read, as plain JSON-like values."""

    def ask(**fields: Any) -> list[dict[str, Any]]:
        q = Query(metrics=METRICS, period="30d", as_of=AS_OF, **fields)
        return [row.as_json() for row in query(store, q).rows]

    out: dict[str, Any] = {
        "by agent and inquiry": ask(group_by=["agent", "inquiry"]),
        "cancel": ask(group_by=["agent"], filters=Filters(inquiry="cancel")),
        "cancel pooled": ask(filters=Filters(inquiry="cancel")),
    }
    if full:
        out["by channel"] = ask(group_by=["channel"])
        out["by day"] = ask(group_by=["day"])
        out["compared"] = ask(compare=True)
    for name, filters in FILTERS.items():
        if full or name in SPARK_FILTERS:
            out[f"filter {name}"] = ask(filters=filters, group_by=["inquiry"])
    for metric in EFFECTIVENESS_METRICS if full else ("effectiveness_score",):
        # A plan begun before every interaction: Now is the 20 most recent of them all.
        reading, count = now_value(
            store,
            "alice",
            channel="chat",
            inquiry="billing",
            metric=metric,
            began_at=AS_OF - timedelta(days=3650),
            as_of=AS_OF,
        )
        out[f"now {metric}"] = (reading.value, reading.n, count)
    window = performance_window("1m", as_of=AS_OF)
    for agent in AGENTS if full else ("alice",):
        found = agent_performance(store, TEAM_VIEWER, agent, channel="chat", window=window)
        out[f"performance {agent}"] = asdict(found)
    return out


def build(store: Store) -> None:
    ingest_and_build(store, directory().events)
    write_effectiveness(store, rows())


def duckdb_numbers(tmp_path: Path, *, full: bool = True) -> dict[str, Any]:
    with scratch_store("duckdb", tmp_path / "reference") as reference:
        build(reference)
        return numbers(reference, full=full)


def test_hand_checked_values(store: Store) -> None:
    build(store)
    got = numbers(store)
    cancel = {row["group"]["agent"]: row["metrics"] for row in got["cancel"]}
    assert cancel["alice"] == {
        "effectiveness_score": {"value": 400.0, "n": 2},
        "aes_handle_time": {"value": 150.0, "n": 2},
        "predicted_satisfaction": {"value": 0.75, "n": 2},
        "predicted_resolution": {"value": 0.5, "n": 2},
        "aes_interactions": {"value": 2, "n": 2},
    }
    assert cancel["bob"]["effectiveness_score"] == {"value": None, "n": 1}  # satisfaction 0
    assert cancel["bob"]["aes_handle_time"] == {"value": 50.0, "n": 1}
    pooled = got["cancel pooled"][0]["metrics"]
    assert pooled["effectiveness_score"] == {"value": 466.666666667, "n": 3}
    assert pooled["aes_interactions"] == {"value": 3, "n": 3}
    nobody = got["filter nobody"]
    assert nobody == []  # an empty agent list matches no rows, not every row
    assert len(got["by agent and inquiry"]) == 4 * 3 + 2  # + alice and bob on cancel


def test_every_backend_agrees_with_duckdb(store: Store, tmp_path: Path) -> None:
    # On the DuckDB half this checks that two builds agree; the PostgreSQL half is the test.
    build(store)
    assert numbers(store) == duckdb_numbers(tmp_path)


@pytest.mark.spark
def test_duckdb_and_spark_agree(spark: None, tmp_path: Path) -> None:  # noqa: F811
    reference = duckdb_numbers(tmp_path, full=False)
    with scratch_store("spark", tmp_path / "spark") as other:
        build(other)
        got = numbers(other, full=False)
    assert got["cancel pooled"][0]["metrics"]["effectiveness_score"] == {
        "value": 466.666666667,
        "n": 3,
    }
    assert got == reference
