"""query() on hand-built timelines: every expected number is worked out in a comment.

Runs on DuckDB and on PostgreSQL (the `store` fixture), so both backends must agree.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from deskpulse.events.store import Store
from deskpulse.metrics.query import (
    Filters,
    MetricValue,
    NotVisibleError,
    Query,
    QueryError,
    QueryTimeoutError,
    Viewer,
    execute_sql,
    query,
)
from deskpulse.metrics.registry import REGISTRY
from deskpulse.metrics.report import build_report
from tests.factories import Events, ingest_and_build, scratch_store

AS_OF = datetime(2026, 3, 9, tzinfo=UTC)  # 7d = [03-02 00:00, 03-09 00:00)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = 24 * 60


def team_timeline() -> Events:
    f = Events(start=START)
    f.agent("alice", name="Alice", teams=["t1"])
    f.agent("bob", name="Bob", teams=["t1"])
    # c1: customer 09:00, Alice replies 09:03 (FRT 180 s), resolved 09:10, CSAT 5.
    c1 = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    c1.customer(at=0).assign("alice", team="t1", at=0).reply("alice", at=3, ai_assist="draft_as_is")
    c1.resolve(at=10).survey("csat", 5, at=20)
    # c2: customer 10:00, Bob replies 10:10 (FRT 600 s), Alice adds a teammate reply,
    # resolved 10:40, CSAT 2.
    c2 = f.conversation("c2", customer="u2", inquiry="refund", at=60)
    c2.customer(at=60).assign("bob", team="t1", at=60).reply("bob", at=70)
    c2.reply("alice", at=75, ai_assist="draft_edited").resolve(at=100).survey("csat", 2, at=110)
    # c3: customer 11:00, never answered: no first-response sample.
    f.conversation("c3", customer="u3", inquiry="billing", at=120).customer(at=120)
    # c4: in the previous period (02-27 09:00): reply after 60 s, resolved.
    c4 = f.conversation("c4", customer="u4", inquiry="billing", at=-3 * DAY)
    c4.customer(at=-3 * DAY).reply("bob", at=-3 * DAY + 1).resolve(at=-3 * DAY + 5)
    return f


def seven_days(*metrics: str, **extra: object) -> Query:
    return Query(metrics=list(metrics), period="7d", as_of=AS_OF, **extra)  # type: ignore[arg-type]


def test_tiles_with_previous_period(store: Store) -> None:
    ingest_and_build(store, team_timeline().events)
    result = query(
        store,
        seven_days(
            "conversations",
            "first_response_median",
            "csat_mean",
            "csat_satisfied_rate",
            "resolution_rate",
            "resolved",
            "handled",
            compare=True,
        ),
    )
    now, before = result.single().metrics, result.single().previous
    assert before is not None
    assert now["conversations"].as_json() == {"value": 3, "n": 3}  # c1, c2, c3
    # median(180, 600) = 390; c3 has no reply, so n = 2
    assert now["first_response_median"].as_json() == {"value": 390.0, "n": 2}
    assert now["csat_mean"].as_json() == {"value": 3.5, "n": 2}  # (5 + 2) / 2
    assert now["csat_satisfied_rate"].as_json() == {"value": 0.5, "n": 2}  # only the 5
    assert now["resolution_rate"].value == pytest.approx(2 / 3)  # c1, c2 of 3
    assert now["resolved"].as_json() == {"value": 2, "n": 2}
    assert now["handled"].as_json() == {"value": 2, "n": 2}  # c1, c2 (distinct)
    assert before["conversations"].as_json() == {"value": 1, "n": 1}  # c4
    assert before["first_response_median"].as_json() == {"value": 60.0, "n": 1}
    assert result.period.as_json() == {
        "from": "2026-03-02T00:00:00+00:00",
        "to": "2026-03-09T00:00:00+00:00",
    }
    assert result.previous_period is not None
    assert result.previous_period.as_json()["from"] == "2026-02-23T00:00:00+00:00"


def test_empty_sample_is_null_never_zero(store: Store) -> None:
    ingest_and_build(store, team_timeline().events)
    empty = Query(
        metrics=["conversations", "csat_mean", "fcr_rate", "nps", "cost_total"],
        period="7d",
        as_of=datetime(2025, 1, 1, tzinfo=UTC),
    )
    values = query(store, empty).single().metrics
    for name in empty.metrics:
        # fcr_rate matures (docs/metrics.md): it also says how many rows are pending.
        expected = {"value": None, "n": 0} | ({"pending": 0} if name == "fcr_rate" else {})
        assert values[name].as_json() == expected, name


def test_leaderboard_counts_teammate_replies_and_assist_mix(store: Store) -> None:
    ingest_and_build(store, team_timeline().events)
    result = query(
        store,
        seven_days(
            "handled",
            "first_response_median",
            "ai_assist_as_is_rate",
            "ai_assist_edited_rate",
            "ai_assist_scratch_rate",
            "csat_mean",
            group_by=["agent"],
        ),
    )
    rows = {row.group["agent"]: row.metrics for row in result.rows}
    assert set(rows) == {"alice", "bob"}
    alice, bob = rows["alice"], rows["bob"]
    # Alice: owned c1 and replied as a teammate on c2.
    assert alice["handled"].as_json() == {"value": 2, "n": 2}
    assert alice["ai_assist_as_is_rate"].as_json() == {"value": 0.5, "n": 2}
    assert alice["ai_assist_edited_rate"].as_json() == {"value": 0.5, "n": 2}
    assert alice["ai_assist_scratch_rate"].as_json() == {"value": 0.0, "n": 2}
    # Alice's first response: c1 waits from 09:00 to 09:03 = 180 s. On c2 Bob had
    # already answered, so nobody was waiting for Alice: no sample.
    assert alice["first_response_median"].as_json() == {"value": 180.0, "n": 1}
    assert alice["csat_mean"].as_json() == {"value": 3.5, "n": 2}  # c1's 5 and c2's 2
    assert bob["handled"].as_json() == {"value": 1, "n": 1}  # c4 is in the previous period
    assert bob["first_response_median"].as_json() == {"value": 600.0, "n": 1}
    assert bob["csat_mean"].as_json() == {"value": 2.0, "n": 1}


def test_agent_viewer_sees_only_their_own_rows(store: Store) -> None:
    ingest_and_build(store, team_timeline().events)
    alice = Viewer(agent_id="alice")
    board = query(store, seven_days("handled", group_by=["agent"]), alice)
    assert [row.group["agent"] for row in board.rows] == ["alice"]
    with pytest.raises(NotVisibleError):
        query(store, seven_days("handled", filters=Filters(agent="bob")), alice)
    # Team-level aggregates name nobody and stay visible.
    team = query(store, seven_days("conversations"), alice).single()
    assert team.metrics["conversations"].value == 3


def test_agent_filter_scopes_conversation_metrics_to_handled(store: Store) -> None:
    ingest_and_build(store, team_timeline().events)
    bob = query(store, seven_days("conversations", "csat_mean", filters=Filters(agent="bob")))
    # Bob handled only c2 in the period (created 10:00, CSAT 2).
    assert bob.single().metrics["conversations"].as_json() == {"value": 1, "n": 1}
    assert bob.single().metrics["csat_mean"].as_json() == {"value": 2.0, "n": 1}


def test_resolved_counts_only_resolutions_still_standing_at_period_end(store: Store) -> None:
    f = Events(start=START)
    # r1 resolved and reopened inside the period: its last change in the period is a
    # reopen, so it does not count.
    f.conversation("r1", customer="u1", at=0).customer(at=0).resolve(at=10).reopen(at=DAY)
    # r2 resolved in the period, reopened only after it ended (03-10): counts.
    f.conversation("r2", customer="u2", at=0).customer(at=0).resolve(at=20).reopen(at=8 * DAY)
    # r3 resolved, reopened, resolved again, all inside: counts once.
    r3 = f.conversation("r3", customer="u3", at=0).customer(at=0)
    r3.resolve(at=30).reopen(at=40).resolve(at=50)
    ingest_and_build(store, f.events)
    values = query(store, seven_days("resolved", "reopen_rate")).single().metrics
    assert values["resolved"].as_json() == {"value": 2, "n": 2}
    # Reopen rate: 3 conversations first resolved in the period, all 3 reopened, but r2
    # only 8 days after its resolution: reopened within 7 days are r1 and r3.
    assert values["reopen_rate"].as_json() == {"value": 0.666666667, "n": 3, "pending": 0}


def test_nps_is_promoters_minus_detractors(store: Store) -> None:
    f = Events(start=START)
    for number, score in enumerate([10, 10, 7, 3]):
        c = f.conversation(f"n{number}", customer=f"u{number}", at=number)
        c.customer(at=number).resolve(at=number + 1).survey("nps", score, at=number + 2)
    ingest_and_build(store, f.events)
    # promoters 2/4 = 50 %, detractors 1/4 = 25 %: NPS = 25
    assert query(store, seven_days("nps")).single().metrics["nps"].as_json() == {
        "value": 25.0,
        "n": 4,
    }


def test_daily_buckets_add_up_to_the_tile(store: Store) -> None:
    f = team_timeline()
    f.conversation("c5", customer="u5", at=2 * DAY).customer(at=2 * DAY)
    ingest_and_build(store, f.events)
    daily = query(store, seven_days("conversations", group_by=["day"]))
    counts = {row.group["day"]: row.metrics["conversations"].value for row in daily.rows}
    assert counts == {"2026-03-02": 3, "2026-03-04": 1}
    tile = query(store, seven_days("conversations")).single().metrics["conversations"].value
    assert sum(v or 0 for v in counts.values()) == tile == 4


@pytest.mark.parametrize(
    "backend", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_day_buckets_follow_the_reporting_time_zone_across_dst(
    backend: str, tmp_path: Path
) -> None:
    # Berlin moves to summer time at 2026-03-29 01:00 UTC (+01:00 -> +02:00).
    f = Events(start=datetime(2026, 3, 28, 23, 30, tzinfo=UTC))
    f.conversation("before", customer="u1", at=0)  # 03-29 00:30 CET
    f.conversation("after", customer="u2", at=23 * 60)  # 03-29 22:30 UTC = 03-30 00:30 CEST
    f.conversation("late", customer="u3", at=22 * 60)  # 03-29 21:30 UTC = 03-29 23:30 CEST
    with scratch_store(backend, tmp_path, reporting_timezone="Europe/Berlin") as store:
        ingest_and_build(store, f.events)
        result = query(
            store,
            Query(
                metrics=["conversations"],
                period="7d",
                as_of=datetime(2026, 3, 31, tzinfo=UTC),
                group_by=["day"],
            ),
        )
        counts = {row.group["day"]: row.metrics["conversations"].value for row in result.rows}
        assert counts == {"2026-03-29": 2, "2026-03-30": 1}
        # The period starts at local midnight: 2026-03-25 00:00 CET = 03-24 23:00 UTC.
        assert result.period.start_utc == datetime(2026, 3, 24, 23, 0)


def test_bad_queries_name_the_problem(store: Store) -> None:
    with pytest.raises(ValidationError, match="unknown metric 'speed'"):
        Query(metrics=["speed"])
    with pytest.raises(ValidationError, match="custom period needs both"):
        Query(metrics=["conversations"], period="custom")
    ingest_and_build(store, team_timeline().events)
    with pytest.raises(QueryError, match="first_resolution_median has no per-agent reading"):
        query(store, seven_days("first_resolution_median", group_by=["agent"]))


def test_report_shape_matches_the_cli_contract(store: Store) -> None:
    ingest_and_build(store, team_timeline().events)
    report = build_report(store, period="7d", as_of=AS_OF)
    assert set(report) >= {"period", "team", "agents"}
    assert set(report["team"]) >= {"conversations", "first_response_median", "csat_mean"}
    assert report["team"]["conversations"] == {"value": 3, "n": 3}
    names = [agent["name"] for agent in report["agents"]]
    assert names == ["Alice", "Bob"]  # by conversations handled: 2, then 1
    assert report["agents"][0]["metrics"]["handled"] == {"value": 2, "n": 2}
    for metric in report["team"]:
        assert metric in REGISTRY


def test_a_fresh_install_answers_empty_samples(store: Store) -> None:
    values = query(store, seven_days("conversations", "csat_mean")).single().metrics
    assert values["conversations"].as_json() == {"value": None, "n": 0}
    assert values["csat_mean"].as_json() == {"value": None, "n": 0}


# A statement that cannot finish within any time limit, by construction: DuckDB streams
# a filtered count over 9e18 rows (centuries of work in constant memory); PostgreSQL
# sleeps. Neither depends on how fast the machine happens to be.
NEVER_FINISHES = {
    "duckdb": "SELECT count(*) AS n FROM range(9000000000000000000) AS t(i) WHERE i % 7 = 3",
    "postgres": "SELECT pg_sleep(3600) AS n",
}


def test_statements_past_the_time_limit_are_cancelled(store: Store) -> None:
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError, match=r"longer than 0\.3 s"):
        execute_sql(store, NEVER_FINISHES[store.backend], timeout=0.3)
    assert time.monotonic() - started < 60
    # The limit is lifted afterwards: the next statement runs to its end.
    assert execute_sql(store, "SELECT 1 AS one", timeout=30) == [{"one": 1}]


def test_cost_with_no_cost_recorded_is_no_value(store: Store) -> None:
    # team_timeline records no cost (people's time, as on the TWCS import): unknown, not $0.
    ingest_and_build(store, team_timeline().events)
    values = query(store, seven_days("cost_per_conversation", "cost_total")).single().metrics
    assert values["cost_per_conversation"] == MetricValue(None, 0)
    assert values["cost_total"] == MetricValue(None, 0)


def test_cost_per_conversation_is_over_the_conversations_with_a_cost(store: Store) -> None:
    # docs/metrics.md's example: c1 0.0125 + 0.0075, c2 0.05, c3 nothing recorded.
    f = Events(start=START)
    f.conversation("c1", customer="u1", at=0).customer(at=0).cost("0.0125", at=1).cost(
        "0.0075", at=2
    )
    f.conversation("c2", customer="u2", at=0).customer(at=0).cost("0.05", at=1)
    f.conversation("c3", customer="u3", at=0).customer(at=0)
    ingest_and_build(store, f.events)
    values = query(store, seven_days("cost_per_conversation", "cost_total")).single().metrics
    assert values["cost_per_conversation"] == MetricValue(0.035, 2)
    assert values["cost_total"] == MetricValue(0.07, 2)
