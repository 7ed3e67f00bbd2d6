"""Outcomes that mature: read at a fixed age, with the rows too young to know pending.

docs/metrics.md ("Outcomes that mature are read at a fixed age") has the rule and the
worked example checked here. The hand-built timelines run on DuckDB and PostgreSQL (the
`store` fixture); the generated organisation checks the rule's purpose: with nothing
planted, a recent period reads like an older one.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deskpulse import clock
from deskpulse.events.store import Store
from deskpulse.metrics.query import MetricValue, Query, measure_rows, query
from tests.factories import Events, ingest_and_build, scratch_store

START = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
DAY = 24 * 60
MATURING = [
    "resolution_rate",
    "escalation_rate",
    "fcr_rate",
    "reopen_rate",
    "ai_resolved_rate",
    "csat_response_rate",
]


def read_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setenv(clock.ENVIRONMENT_VARIABLE, moment.isoformat())


def january(store: Store, *metrics: str) -> dict[str, MetricValue]:
    q = Query(
        metrics=list(metrics),
        period="custom",
        **{"from": datetime(2027, 1, 1, tzinfo=UTC), "to": datetime(2027, 1, 14, tzinfo=UTC)},
    )
    return query(store, q).single().metrics


def docs_example() -> Events:
    """docs/metrics.md's worked example: c1 and c2 old enough, c3 and c4 too young."""
    f = Events(start=START)
    f.agent("alice", name="Alice", teams=["t1"])
    c1 = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    c1.customer(at=0).reply("alice", at=5).resolve(at=2 * DAY)
    c2 = f.conversation("c2", customer="u2", inquiry="billing", at=DAY)
    c2.customer(at=DAY).reply("alice", at=DAY + 5).resolve(at=11 * DAY)
    c3 = f.conversation("c3", customer="u3", inquiry="refund", at=7 * DAY)
    c3.customer(at=7 * DAY).reply("alice", at=7 * DAY + 5).resolve(at=7 * DAY + 60)
    f.conversation("c4", customer="u4", inquiry="refund", at=11 * DAY).customer(at=11 * DAY)
    return f


def test_resolution_rate_leaves_young_conversations_pending(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_and_build(store, docs_example().events)
    read_at(monkeypatch, datetime(2027, 1, 13, 12, tzinfo=UTC))
    found = january(store, "resolution_rate", "conversations", "resolved")
    # c1 resolved within 7 days, c2 ten days later; c3 (resolved in an hour) and c4
    # (open) are younger than 7 days: counting c3 but not c4 would favour quick outcomes.
    assert found["resolution_rate"] == MetricValue(0.5, 2, pending=2)
    assert found["conversations"] == MetricValue(4, 4)  # a count: never pending
    assert found["resolved"].pending is None

    # Three weeks later every conversation has had its 7 days: c1 and c3 count.
    read_at(monkeypatch, datetime(2027, 2, 4, tzinfo=UTC))
    assert january(store, "resolution_rate")["resolution_rate"] == MetricValue(0.5, 4, pending=0)


def test_fcr_reopen_and_escalation_wait_for_their_windows(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = Events(start=START)
    f.agent("alice", name="Alice", teams=["t1"])
    f.agent("bot", name="Bot", kind="ai")
    # c1: resolved on day 0, reopened on day 5 (within 7 days), resolved again on day 5.
    c1 = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    c1.customer(at=0).reply("alice", at=5).resolve(at=10)
    c1.reopen(at=5 * DAY).reply("alice", at=5 * DAY + 5).resolve(at=5 * DAY + 10)
    # c2: resolved on day 0, reopened on day 9: too late for the reopen rate.
    c2 = f.conversation("c2", customer="u2", inquiry="refund", at=0)
    c2.customer(at=0).reply("alice", at=5).resolve(at=10)
    c2.reopen(at=9 * DAY).resolve(at=9 * DAY + 10)
    # c3: bot answers, escalates after 10 minutes, alice resolves: day 10.
    c3 = f.conversation("c3", customer="u3", inquiry="login", at=10 * DAY)
    c3.customer(at=10 * DAY).ai_reply("bot", at=10 * DAY + 1)
    c3.escalate(from_agent="bot", at=10 * DAY + 10, reason="refund")
    c3.reply("alice", at=10 * DAY + 20).resolve(at=10 * DAY + 30)
    ingest_and_build(store, f.events)

    read_at(monkeypatch, datetime(2027, 1, 13, 12, tzinfo=UTC))
    found = january(store, *MATURING, "escalations")
    # Reopen: the first resolutions of c1 and c2 (1 January) are 12 days old, c1 was
    # reopened within 7 days of it, c2 after 9; c3's (the 11th) is pending.
    assert found["reopen_rate"] == MetricValue(0.5, 2, pending=1)
    # FCR: c1 fully resolved on 6 January (pending until the 13th, 09:10: settled by
    # now), c2 on the 10th (pending); c3 on the 11th (pending).
    assert found["fcr_rate"] == MetricValue(0.0, 1, pending=2)
    # Escalation: c3 is 3 days old only after 14 January 09:00.
    assert found["escalation_rate"] == MetricValue(0.0, 2, pending=1)
    assert found["escalations"] == MetricValue(1, 3)  # what happened, counted at once
    # AI-resolved: c3 is AI-involved and 8 days old only on the 19th.
    assert found["ai_resolved_rate"] == MetricValue(None, 0, pending=1)

    read_at(monkeypatch, datetime(2027, 2, 1, tzinfo=UTC))
    found = january(store, *MATURING)
    # c1 and c2 were reopened; c3 was resolved once, and u3 never came back.
    assert found["fcr_rate"] == MetricValue(pytest.approx(1 / 3), 3, pending=0)
    assert found["escalation_rate"] == MetricValue(pytest.approx(1 / 3), 3, pending=0)
    assert found["ai_resolved_rate"] == MetricValue(0.0, 1, pending=0)


def test_rows_read_outside_a_period_leave_pending_rows_out(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Coaching reads metrics over chosen rows (measure_rows): the same rule applies."""
    ingest_and_build(store, docs_example().events)
    read_at(monkeypatch, datetime(2027, 1, 13, 12, tzinfo=UTC))
    found = measure_rows(store, "conversation_facts", lambda t: t, ["resolution_rate"])
    assert found["resolution_rate"] == MetricValue(0.5, 2, pending=2)


# -- a generated organisation with nothing planted -----------------------------------------

GENERATED_END = datetime(2027, 1, 13, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def stable_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """40,000 conversations over 60 days (the demo's daily volume), no planted story."""
    from deskpulse.events.bulk import import_sources
    from deskpulse.facts.build import refresh_facts
    from deskpulse.generator import generate

    folder = tmp_path_factory.mktemp("stable")
    buffer = io.BytesIO()
    generate(buffer, seed=11, conversations=40_000, days=60, end=GENERATED_END, planted=False)
    events = folder / "events.jsonl"
    events.write_bytes(buffer.getvalue())
    with scratch_store("duckdb", Path(folder) / "store") as store:
        assert import_sources(store, [events]).rejected == 0
        refresh_facts(store)
        yield store


def change_in_points(
    store: Store, period: str, metric: str
) -> tuple[MetricValue, float | None, float | None]:
    """(this period's value, its change against the previous period in points, the
    standard error of that change in points)."""
    row = query(store, Query(metrics=[metric], period=period, compare=True)).single()
    now, before = row.metrics[metric], (row.previous or {})[metric]
    if now.value is None or before.value is None:
        return now, None, None
    pooled = (now.value * now.n + before.value * before.n) / (now.n + before.n)
    error = math.sqrt(pooled * (1 - pooled) * (1 / now.n + 1 / before.n))
    return now, 100 * (float(now.value) - float(before.value)), 100 * error


@pytest.mark.parametrize("metric", ["resolution_rate", "fcr_rate"])
def test_recent_periods_read_like_older_ones(
    stable_site: Store, monkeypatch: pytest.MonkeyPatch, metric: str
) -> None:
    read_at(monkeypatch, GENERATED_END)
    # 7 days: every outcome is still maturing, so there is no number to misread.
    seven, change, _ = change_in_points(stable_site, "7d", metric)
    assert seven.value is None
    assert seven.n == 0
    assert (seven.pending or 0) > 3_000
    assert change is None
    for period in ("14d", "30d"):
        value, change, error = change_in_points(stable_site, period, metric)
        assert value.n > 3_000, (period, value)
        assert change is not None
        assert error is not None
        # Within noise: under a point, and under 2 standard errors of the difference
        # (unsettled outcomes gave -11.5 points at 7 days, shrinking as windows grew).
        assert abs(change) < 1.0, (period, metric, change)
        assert abs(change) < 2 * error, (period, metric, change, error)


def test_read_as_of_now_the_same_data_looked_worse(
    stable_site: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the rule fixes: "resolved now" over the last 7 days against the 7 before."""
    read_at(monkeypatch, GENERATED_END)
    end = GENERATED_END.replace(tzinfo=None)
    week = timedelta(days=7)
    facts = stable_site.con.table("conversation_facts")

    def resolved_now(start: datetime, stop: datetime) -> float:
        rows = facts.filter((facts.created_at >= start) & (facts.created_at < stop))
        share = (rows.status == "resolved").ifelse(1.0, 0.0).mean()
        return float(share.to_pyarrow().as_py())

    drop = 100 * (resolved_now(end - week, end) - resolved_now(end - 2 * week, end - week))
    assert drop < -5, drop
