"""Agent performance by inquiry on a hand-built set of scored interactions.

Runs on DuckDB and on PostgreSQL. The agents come from agent.upserted events (the facts
build writes the `agents` table); effectiveness_facts is written here row by row with
exactly the schema of facts/tables.py, as deskpulse.models.scoring would write it.

Window: 3m ending `as_of` 2026-04-01 00:00 UTC = [2026-01-02 00:00, 2026-04-01 00:00).
Every row below is created in March on chat unless it says otherwise; "10 x (300, .8,
.75)" means 10 interactions with handle 300 s, predicted satisfaction .8 and predicted
resolution .75. AES = mean handle / (mean satisfaction x mean resolution).

Directory: alice, bob, erin on t1; carol, dave on t2; bot (AI) on t1; frank on t3 with
no interactions.

    billing    alice 10 x (300, .8, .75)   AES 300 / .6    = 500
               bob   10 x (240, .9, .8)    AES 240 / .72   = 333.333333333
               carol 10 x (400, .5, .5)    AES 400 / .25   = 1600
               dave  10 x (200, 1, .8)     AES 200 / .8    = 250
               erin   4 x (100, 1, 1)      AES 100 (4 < N = 10: not eligible for bands)
               bot   10 x (10, .9, .9)     an AI agent: not among the people compared
    refund     alice  8 x (100, .75, .75) model + 2 x (100, 1, 1) measured
                                           -> means 100, .8, .8: AES 156.25; "mixed"
               bob   10 x (200, .8, .8)    AES 312.5
    shipping   alice  2 x (600, .5, .5)    AES 2400 (n 2: never ranked)
               bob   10 x (300, .5, .5)    AES 1200
    warranty   alice  2 x (120, -, -) measured, no survey, unresolved: no AES
    (none)     alice  1 x (50, 1, 1)       no inquiry: in her totals, in no inquiry row
    voice      alice  4 interactions on "returns" (see test_poor_interactions_...)
    December   alice  1 x billing on 2025-12-01: before the window, counted nowhere

Alice on chat: 25 interactions (10 + 10 + 2 + 2 + 1): shares billing .4, refund .4,
shipping .08, warranty .08.

All people on billing (pooled, erin included, the bot not): handle (3000 + 2400 + 4000 +
2000 + 400) / 44 = 11800 / 44; satisfaction (8 + 9 + 5 + 10 + 4) / 44 = 36 / 44;
resolution (7.5 + 8 + 5 + 8 + 4) / 44 = 32.5 / 44; AES = 11800 x 44 / (36 x 32.5)
= 443.760683761. Alice's team t1 (alice, bob, erin; not the bot): handle 5800 / 24,
satisfaction 21 / 24, resolution 19.5 / 24 -> AES 5800 x 24 / (21 x 19.5) = 339.926739927.

Impacts for alice: billing .4 x (500 - 443.760683761) = 22.495726496 (raises her score);
refund: all people = alice + bob pooled = (150, .8, .8) -> 234.375, .4 x (156.25 - 234.375)
= -31.25 (lowers it); shipping: pooled (1200 + 3000) / 12 = 350 at (.5, .5) -> 1400,
.08 x (2400 - 1400) = 80, but on 2 interactions, so in neither list.

Quartiles on billing among alice, bob, carol, dave (numpy linear percentiles):
    AES          250, 333.33, 500, 1600  -> q25 = 250 + .75 x 83.33 = 312.5,
                                            q75 = 500 + .25 x 1100 = 775
    handle time  200, 240, 300, 400      -> q25 = 230, q75 = 325
    satisfaction .5, .8, .9, 1           -> q25 = .725, q75 = .925
    resolution   .5, .75, .8, .8         -> q25 = .6875, q75 = .8 (bob and dave on the edge)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa
import pytest

from deskpulse.analysis.effectiveness import (
    BAND_LABELS,
    EFFECTIVENESS_METRICS,
    AgentPerformance,
    InquiryPerformance,
    MetricComparison,
    Reading,
    agent_performance,
    inquiry_detail,
    performance_window,
    poor_interactions,
    recommend,
    sort_inquiries,
)
from deskpulse.events.store import Store
from deskpulse.facts.tables import EFFECTIVENESS_FACTS
from deskpulse.metrics.query import (
    TEAM_VIEWER,
    Filters,
    NotVisibleError,
    Query,
    QueryError,
    Viewer,
    query,
)
from deskpulse.metrics.registry import EFFECTIVENESS
from deskpulse.metrics.window import Window
from tests.conftest import BACKENDS, POSTGRES_URL
from tests.factories import Events, ingest_and_build, scratch_store

AS_OF = datetime(2026, 4, 1, tzinfo=UTC)
THREE_MONTHS = performance_window("3m", as_of=AS_OF)
MARCH = datetime(2026, 3, 2, 9, 0)  # naive UTC, as the facts store times
OTHERS = ("bob", "carol", "dave", "erin", "bot", "frank")

# -- writing effectiveness_facts by hand (shared with test_coaching and the backend test) --

_BLANK: dict[str, Any] = dict.fromkeys(EFFECTIVENESS_FACTS)


def interaction(
    conversation_id: str,
    agent: str,
    at: datetime,
    *,
    handle: float | None,
    satisfaction: float | None,
    resolution: float | None,
    inquiry: str | None = "billing",
    channel: str = "chat",
    source: str = "model",
    satisfaction_source: str | None = None,
    resolution_source: str | None = None,
    csat: int | None = None,
    fcr: bool | None = None,
    estimated: bool = False,
) -> dict[str, Any]:
    """One effectiveness_facts row; `at` is naive UTC. `source` is both outcomes' source
    unless `satisfaction_source` / `resolution_source` say otherwise."""
    satisfied_by = satisfaction_source or source
    resolved_by = resolution_source or source
    summary = satisfied_by if satisfied_by == resolved_by else "mixed"
    return {
        **_BLANK,
        "conversation_id": conversation_id,
        "agent_id": agent,
        "created_at": at,
        "channel": channel,
        "inbox_id": "web",
        "inquiry": inquiry,
        "inquiry_source": None if inquiry is None else "event",
        "handle_seconds": handle,
        "handle_time_estimated": estimated,
        "csat_score": csat,
        "fcr": fcr,
        "predicted_satisfaction": satisfaction,
        "predicted_resolution": resolution,
        "satisfaction_source": satisfied_by,
        "resolution_source": resolved_by,
        "prediction_source": summary,
        "model_version": None if summary == "measured" else "v1",
    }


def repeated(
    agent: str,
    inquiry: str | None,
    count: int,
    handle: float | None,
    satisfaction: float | None,
    resolution: float | None,
    *,
    start: datetime = MARCH,
    **fields: Any,
) -> list[dict[str, Any]]:
    """`count` alike interactions an hour apart, ids `agent-inquiry-i`."""
    return [
        interaction(
            f"{agent}-{inquiry or 'none'}-{start:%m%d}-{i}",
            agent,
            start + timedelta(hours=i),
            handle=handle,
            satisfaction=satisfaction,
            resolution=resolution,
            inquiry=inquiry,
            **fields,
        )
        for i in range(count)
    ]


_SPARK_TYPES = {
    "string": "StringType",
    "timestamp": "TimestampNTZType",
    "float64": "DoubleType",
    "int64": "LongType",
    "boolean": "BooleanType",
}


def write_effectiveness(store: Store, rows: list[dict[str, Any]]) -> None:
    """(Re)write effectiveness_facts with exactly the schema of facts/tables.py."""
    schema = ibis.schema(EFFECTIVENESS_FACTS)
    table = pa.Table.from_pylist(rows, schema=schema.to_pyarrow())
    with store.writing():
        if store.backend != "spark":
            store.con.create_table(EFFECTIVENESS, obj=table, schema=schema, overwrite=True)
            return
        # Ibis goes through pandas on Spark, which turns null strings into "NaN" and
        # nullable numbers into nulls: a DataFrame with the exact schema instead.
        from pyspark.sql import types as st

        struct = st.StructType(
            [
                st.StructField(name, getattr(st, _SPARK_TYPES[kind])())
                for name, kind in EFFECTIVENESS_FACTS.items()
            ]
        )
        frame = store.raw.createDataFrame(table.to_pylist(), schema=struct)
        frame.write.mode("overwrite").saveAsTable(EFFECTIVENESS)


def directory_events() -> Events:
    f = Events(start=datetime(2026, 1, 1, tzinfo=UTC))
    f.agent("alice", name="Alice", teams=["t1"])
    f.agent("bob", name="Bob", teams=["t1"])
    f.agent("erin", name="Erin", teams=["t1"])
    f.agent("carol", name="Carol", teams=["t2"])
    f.agent("dave", name="Dave", teams=["t2"])
    f.agent("bot", name="Bot", kind="ai", teams=["t1"])
    f.agent("frank", name="Frank", teams=["t3"])
    return f


def org_rows() -> list[dict[str, Any]]:
    voice = datetime(2026, 3, 10, 10, 0)
    return [
        *repeated("alice", "billing", 10, 300, 0.8, 0.75),
        *repeated("bob", "billing", 10, 240, 0.9, 0.8),
        *repeated("carol", "billing", 10, 400, 0.5, 0.5),
        *repeated("dave", "billing", 10, 200, 1.0, 0.8),
        *repeated("erin", "billing", 4, 100, 1.0, 1.0),
        *repeated("bot", "billing", 10, 10, 0.9, 0.9),
        *repeated("alice", "refund", 8, 100, 0.75, 0.75),
        *repeated(
            "alice", "refund", 2, 100, 1.0, 1.0, start=MARCH + timedelta(days=1), source="measured"
        ),
        *repeated("bob", "refund", 10, 200, 0.8, 0.8),
        *repeated("alice", "shipping", 2, 600, 0.5, 0.5),
        *repeated("bob", "shipping", 10, 300, 0.5, 0.5),
        *repeated("alice", "warranty", 2, 120, None, None, source="measured"),
        *repeated("alice", None, 1, 50, 1.0, 1.0),
        # Voice: four interactions on "returns", for the examples and the worst lists.
        interaction(
            "r1", "alice", voice, handle=300, satisfaction=0.9, resolution=0.5, inquiry="returns",
            channel="voice", csat=5, fcr=False,
        ),
        interaction(
            "r2", "alice", voice + timedelta(days=1), handle=600, satisfaction=0.6,
            resolution=0.9, inquiry="returns", channel="voice",
        ),
        interaction(
            "r3", "alice", voice + timedelta(days=2), handle=200, satisfaction=0.0,
            resolution=1.0, inquiry="returns", channel="voice", source="measured", csat=2,
            fcr=True, estimated=True,
        ),
        interaction(
            "r4", "alice", voice + timedelta(days=3), handle=None, satisfaction=0.7,
            resolution=0.7, inquiry="returns", channel="voice",
        ),
        # Before the window.
        interaction(
            "old", "alice", datetime(2025, 12, 1, 9, 0), handle=9999, satisfaction=0.1,
            resolution=0.1,
        ),
    ]  # fmt: skip


@pytest.fixture(scope="module", params=BACKENDS)
def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """The organisation above, built once per backend for the whole module (read only)."""
    if request.param == "postgres" and not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("DESKPULSE_TEST_POSTGRES_URL is not set: run the suite with scripts/test")
        pytest.skip("no PostgreSQL server: run the suite with scripts/test to include it")
    with scratch_store(request.param, tmp_path_factory.mktemp("org")) as store:
        ingest_and_build(store, directory_events().events)
        write_effectiveness(store, org_rows())
        yield store


def alice(store: Store, viewer: Viewer = TEAM_VIEWER, **kwargs: Any) -> AgentPerformance:
    options: dict[str, Any] = {"channel": "chat", "window": THREE_MONTHS, **kwargs}
    return agent_performance(store, viewer, "alice", **options)


def by_name(performance: AgentPerformance) -> dict[str, InquiryPerformance]:
    return {p.inquiry: p for p in performance.inquiries}


# -- the registry metrics --------------------------------------------------------------------


def test_registry_metrics_per_agent_and_inquiry(org: Store) -> None:
    result = query(
        org,
        Query(
            metrics=[*EFFECTIVENESS_METRICS, "aes_interactions"],
            group_by=["agent", "inquiry"],
            filters=Filters(channel="chat", inquiry="billing"),
            period="90d",
            as_of=AS_OF,
        ),
    )
    got = {
        row.group["agent"]: {name: row.metrics[name].as_json() for name in row.metrics}
        for row in result.rows
    }
    assert got["alice"] == {
        "effectiveness_score": {"value": 500.0, "n": 10},  # 300 / (.8 x .75)
        "aes_handle_time": {"value": 300.0, "n": 10},
        "predicted_satisfaction": {"value": 0.8, "n": 10},
        "predicted_resolution": {"value": 0.75, "n": 10},
        "aes_interactions": {"value": 10, "n": 10},  # December's row is outside the window
    }
    assert got["bob"]["effectiveness_score"] == {"value": 333.333333333, "n": 10}  # 240 / .72
    assert got["erin"]["effectiveness_score"] == {"value": 100.0, "n": 4}
    assert set(got) == {"alice", "bob", "carol", "dave", "erin", "bot"}


def test_effectiveness_is_empty_without_a_factor(org: Store) -> None:
    # warranty: handle times but no satisfaction or resolution -> no AES, yet an AHT.
    row = query(
        org,
        Query(
            metrics=["effectiveness_score", "aes_handle_time", "predicted_satisfaction"],
            filters=Filters(agent="alice", inquiry="warranty"),
            period="90d",
            as_of=AS_OF,
        ),
    ).single()
    assert row.metrics["effectiveness_score"].as_json() == {"value": None, "n": 2}
    assert row.metrics["aes_handle_time"].as_json() == {"value": 120.0, "n": 2}
    assert row.metrics["predicted_satisfaction"].as_json() == {"value": None, "n": 0}


# -- comparisons, bands, impact ----------------------------------------------------------------


def test_billing_compares_alice_with_team_all_people_and_top_performer(org: Store) -> None:
    billing = by_name(alice(org))["billing"]
    aes = billing.metrics["effectiveness_score"]
    assert aes.agent == Reading(500.0, 10)
    assert aes.team == Reading(339.926739927, 24)  # alice + bob + erin, not the bot
    assert aes.all_agents == Reading(443.760683761, 44)  # every person, not the bot
    assert aes.top_performer == 250.0  # dave, never named
    assert aes.top_quartile == 312.5
    assert aes.band == "good"  # 312.5 < 500 < 775
    handle = billing.metrics["aes_handle_time"]
    assert (handle.agent, handle.top_quartile, handle.top_performer) == (
        Reading(300.0, 10),
        230.0,
        200.0,
    )
    assert handle.team == Reading(round(5800 / 24, 9), 24)
    assert billing.metrics["predicted_satisfaction"].top_quartile == 0.925
    assert billing.metrics["predicted_satisfaction"].top_performer == 1.0
    assert billing.metrics["predicted_resolution"].top_quartile == 0.8
    assert billing.volume == 10
    assert billing.volume_share == 0.4
    assert billing.prediction_source == "model"


def test_bands_of_every_agent_on_billing(org: Store) -> None:
    def bands(agent_id: str) -> dict[str, str]:
        found = agent_performance(org, TEAM_VIEWER, agent_id, channel="chat", window=THREE_MONTHS)
        billing = by_name(found)["billing"]
        return {name: billing.metrics[name].band for name in EFFECTIVENESS_METRICS}

    assert bands("dave") == {
        "effectiveness_score": "great",  # 250 <= 312.5
        "aes_handle_time": "great",  # 200 <= 230
        "predicted_satisfaction": "great",  # 1 >= .925
        "predicted_resolution": "great",  # .8 on the q75 edge: the better band
    }
    assert bands("bob") == {
        "effectiveness_score": "good",
        "aes_handle_time": "good",  # 230 < 240 < 325
        "predicted_satisfaction": "good",  # .725 < .9 < .925
        "predicted_resolution": "great",  # .8 on the edge, like dave
    }
    assert bands("carol") == dict.fromkeys(EFFECTIVENESS_METRICS, "needs_work")
    # erin has 4 interactions, fewer than N = 10: no band, though her numbers are the best.
    assert bands("erin") == dict.fromkeys(EFFECTIVENESS_METRICS, "not_enough_data")
    assert BAND_LABELS["not_enough_data"] == "Not enough data"


def test_a_lower_threshold_lets_erin_in(org: Store) -> None:
    # N = 4: five eligible people; AES 100, 250, 333.33, 500, 1600 -> q25 = 250, and
    # erin's 100 is great. The threshold is the page's to choose.
    found = agent_performance(
        org, TEAM_VIEWER, "erin", channel="chat", window=THREE_MONTHS, min_interactions=4
    )
    aes = by_name(found)["billing"].metrics["effectiveness_score"]
    assert (aes.band, aes.top_quartile, aes.top_performer) == ("great", 250.0, 100.0)


def test_impact_and_the_two_lists(org: Store) -> None:
    found = alice(org)
    rows = by_name(found)
    assert rows["billing"].impact == 22.495726496  # .4 x (500 - 443.760683761)
    assert rows["refund"].impact == -31.25  # .4 x (156.25 - 234.375)
    assert rows["shipping"].impact == 80.0  # .08 x (2400 - 1400)
    assert rows["warranty"].impact is None  # no AES of her own
    assert [p.inquiry for p in found.top_performing] == ["refund"]
    # shipping raises her score more, but on 2 interactions it is not ranked.
    assert [p.inquiry for p in found.to_work_on] == ["billing"]


def test_inquiries_by_volume_and_overall(org: Store) -> None:
    found = alice(org)
    assert [(p.inquiry, p.volume, p.volume_share) for p in found.inquiries] == [
        ("billing", 10, 0.4),
        ("refund", 10, 0.4),
        ("shipping", 2, 0.08),
        ("warranty", 2, 0.08),
    ]  # equal volumes by name; the interaction without an inquiry is in no row
    # Overall: handle (3000 + 1000 + 1200 + 240 + 50) / 25 = 219.6; satisfaction 18 / 23 and
    # resolution 17.5 / 23 (warranty has none) -> 219.6 x 529 / 315 = 368.788571429.
    assert found.overall["effectiveness_score"] == Reading(368.788571429, 25)
    assert found.overall["aes_handle_time"] == Reading(219.6, 25)
    assert found.overall["predicted_satisfaction"] == Reading(0.782608696, 23)
    assert (found.channel, found.channels) == ("chat", ["chat", "voice"])


def test_prediction_sources(org: Store) -> None:
    rows = by_name(alice(org))
    assert rows["billing"].prediction_source == "model"
    assert rows["refund"].prediction_source == "mixed"  # 8 model rows, 2 measured
    assert rows["warranty"].prediction_source == "measured"


def test_refund_team_and_everyone(org: Store) -> None:
    refund = by_name(alice(org))["refund"]
    aes = refund.metrics["effectiveness_score"]
    assert aes.agent == Reading(156.25, 10)  # 100 / (.8 x .8)
    assert aes.all_agents == Reading(234.375, 20)  # 150 / .64
    assert aes.team == Reading(234.375, 20)  # bob is on her team too
    # Two eligible people: no quartiles, no top performer (it would be bob's own number).
    assert (aes.band, aes.top_quartile, aes.top_performer) == ("not_enough_data", None, None)


def test_busiest_channel_by_default_and_quiet_windows(org: Store) -> None:
    found = agent_performance(org, TEAM_VIEWER, "alice", channel=None, window=THREE_MONTHS)
    assert found.channel == "chat"  # 25 interactions against voice's 4
    week = performance_window("1w", as_of=AS_OF)  # [03-26, 04-01): nothing of hers
    quiet = agent_performance(org, TEAM_VIEWER, "alice", channel=None, window=week)
    # The channels of the 3 months before still list, so the page can offer them.
    assert (quiet.channel, quiet.channels, quiet.inquiries) == ("chat", ["chat", "voice"], [])
    assert quiet.overall["effectiveness_score"] == Reading(None, 0)
    nobody = agent_performance(org, TEAM_VIEWER, "frank", channel=None, window=THREE_MONTHS)
    assert (nobody.channel, nobody.channels, nobody.inquiries) == ("", [], [])


def test_an_ai_agent_is_compared_with_ai_agents(org: Store) -> None:
    found = agent_performance(org, TEAM_VIEWER, "bot", channel="chat", window=THREE_MONTHS)
    aes = by_name(found)["billing"].metrics["effectiveness_score"]
    assert aes.agent == Reading(round(10 / 0.81, 9), 10)
    assert aes.all_agents == aes.agent  # the only AI agent
    assert aes.team == aes.agent  # team t1's AI agents: the bot alone
    assert aes.band == "not_enough_data"  # one AI agent: nothing to rank


# -- recommendation ---------------------------------------------------------------------------


def test_recommendation_for_alice_on_billing(org: Store) -> None:
    detail = inquiry_detail(
        org, TEAM_VIEWER, "alice", channel="chat", inquiry="billing", window=THREE_MONTHS
    )
    gaps = detail.recommendation.gaps
    # ln(300 / 230) = .2657 > ln(.925 / .8) = .1452 > ln(.8 / .75) = .0645
    assert gaps == {
        "aes_handle_time": round(math.log(300 / 230), 9),
        "predicted_satisfaction": round(math.log(0.925 / 0.8), 9),
        "predicted_resolution": round(math.log(0.8 / 0.75), 9),
    }
    assert detail.recommendation.metric == "aes_handle_time"
    # The gaps add up to ln(her AES / the AES made of the three edges).
    edges = 230 / (0.925 * 0.8)
    assert math.isclose(sum(v for v in gaps.values() if v), math.log(500 / edges), abs_tol=1e-8)
    text = detail.recommendation.explanation
    assert "Focus on average handle time" in text
    assert "5m 00s" in text  # her 300 s
    assert "3m 50s" in text  # the top quarter's 230 s
    assert "about 23%" in text  # 1 - 230 / 300


def comparison(
    metric: str, agent: float | None, edge: float | None, n: int = 20
) -> MetricComparison:
    return MetricComparison(
        metric=metric,
        agent=Reading(agent, n if agent is not None else 0),
        team=Reading(None, 0),
        all_agents=Reading(None, 0),
        top_performer=None,
        top_quartile=edge,
        band="good",
    )


def performance(
    handle: tuple[float | None, float | None],
    satisfaction: tuple[float | None, float | None],
    resolution: tuple[float | None, float | None],
    n: int = 20,
) -> InquiryPerformance:
    metrics = {
        "effectiveness_score": comparison("effectiveness_score", None, None, n),
        "aes_handle_time": comparison("aes_handle_time", *handle, n=n),
        "predicted_satisfaction": comparison("predicted_satisfaction", *satisfaction, n=n),
        "predicted_resolution": comparison("predicted_resolution", *resolution, n=n),
    }
    return InquiryPerformance(
        inquiry="billing",
        volume=n,
        volume_share=1.0,
        impact=None,
        metrics=metrics,
        prediction_source="model",
        satisfaction_source="model",
        resolution_source="model",
    )


def test_recommendation_picks_the_largest_log_gap() -> None:
    # handle 330 vs 300: ln 1.1 = .0953; satisfaction .6 vs .9: ln 1.5 = .4055;
    # resolution .7 vs .77: ln 1.1 = .0953 -> satisfaction.
    found = recommend(performance((330, 300), (0.6, 0.9), (0.7, 0.77)))
    assert found.metric == "predicted_satisfaction"
    assert found.gaps["predicted_satisfaction"] == round(math.log(1.5), 9)
    assert "Focus on average predicted satisfaction" in found.explanation
    assert "60.0%" in found.explanation
    assert "90.0%" in found.explanation


def test_recommendation_when_already_in_the_top_quarter() -> None:
    # Every gap <= 0: the smallest lead is recommended, and the text says so.
    # handle 200 vs 300: ln(2/3) = -.405; satisfaction .95 vs .9: ln(.947) = -.054;
    # resolution .8 vs .8: 0 -> resolution (its lead is nil).
    found = recommend(performance((200, 300), (0.95, 0.9), (0.8, 0.8)))
    assert found.metric == "predicted_resolution"
    assert found.gaps["predicted_resolution"] == 0.0
    assert "already level with or ahead of the top quarter" in found.explanation
    assert "keep an eye on" in found.explanation


def test_recommendation_without_edges_or_with_equal_gaps() -> None:
    nothing = recommend(performance((200, None), (0.9, None), (0.8, None)))
    assert nothing.metric is None
    assert set(nothing.gaps.values()) == {None}
    assert "at least 4 agents" in nothing.explanation
    # Equal gaps: handle time, then satisfaction, then resolution. ln 1.25 each.
    tie = recommend(performance((250, 200), (0.8, 1.0), (0.8, 1.0)))
    assert tie.metric == "aes_handle_time"
    # A zero probability has no log-gap; the others still count.
    zero = recommend(performance((210, 200), (0.0, 0.9), (0.5, 0.8)))
    assert zero.gaps["predicted_satisfaction"] is None
    assert zero.metric == "predicted_resolution"
    small = recommend(performance((300, 200), (0.9, 0.9), (0.8, 0.8), n=3))
    assert "only 3 interactions" in small.explanation


# -- sorting -------------------------------------------------------------------------------


def test_sort_inquiries_by_any_metric_with_empty_values_last(org: Store) -> None:
    rows = alice(org).inquiries

    def order(key: str, descending: bool) -> list[str]:
        return [p.inquiry for p in sort_inquiries(rows, key, descending)]

    assert order("volume", True) == ["billing", "refund", "shipping", "warranty"]
    assert order("volume", False) == ["shipping", "warranty", "billing", "refund"]
    # AES: refund 156.25, billing 500, shipping 2400, warranty none (last both ways).
    assert order("effectiveness_score", False) == ["refund", "billing", "shipping", "warranty"]
    assert order("effectiveness_score", True) == ["shipping", "billing", "refund", "warranty"]
    assert order("predicted_satisfaction", True) == ["billing", "refund", "shipping", "warranty"]
    with pytest.raises(QueryError, match="sort"):
        sort_inquiries(rows, "name", True)


# -- interactions ----------------------------------------------------------------------------


def test_inquiry_detail_examples_newest_first(org: Store) -> None:
    detail = inquiry_detail(
        org, TEAM_VIEWER, "alice", channel="voice", inquiry="returns", window=THREE_MONTHS
    )
    assert [i.conversation_id for i in detail.examples] == ["r4", "r3", "r2", "r1"]
    r3 = detail.examples[1]
    assert r3.created_at == datetime(2026, 3, 12, 10, 0, tzinfo=UTC)
    assert (r3.handle_seconds, r3.handle_time_estimated, r3.prediction_source) == (
        200.0,
        True,
        "measured",
    )
    assert (r3.csat_score, r3.fcr, r3.effectiveness) == (2, True, None)  # satisfaction 0
    assert detail.examples[3].effectiveness == round(300 / 0.45, 9)  # r1
    limited = inquiry_detail(
        org,
        TEAM_VIEWER,
        "alice",
        channel="voice",
        inquiry="returns",
        window=THREE_MONTHS,
        examples=2,
    )
    assert [i.conversation_id for i in limited.examples] == ["r4", "r3"]
    # An inquiry she never handled: empty readings, the others' numbers still shown.
    unknown = inquiry_detail(
        org, TEAM_VIEWER, "alice", channel="chat", inquiry="cancel", window=THREE_MONTHS
    )
    assert (unknown.performance.volume, unknown.examples) == (0, [])
    assert unknown.recommendation.metric is None


@pytest.mark.parametrize(
    ("metric", "worst_first"),
    [
        ("aes_handle_time", ["r2", "r1", "r3"]),  # 600, 300, 200 s; r4 has no handle time
        ("predicted_satisfaction", ["r3", "r2", "r4", "r1"]),  # 0, .6, .7, .9
        ("predicted_resolution", ["r1", "r4", "r2", "r3"]),  # .5, .7, .9, 1
        # r3: satisfaction 0, no finite score, the worst; r2 600 / .54 = 1111; r1 300 / .45 = 667
        ("effectiveness_score", ["r3", "r2", "r1"]),
    ],
)
def test_poor_interactions_worst_first(org: Store, metric: str, worst_first: list[str]) -> None:
    found = poor_interactions(
        org,
        TEAM_VIEWER,
        "alice",
        channel="voice",
        inquiry="returns",
        metric=metric,
        window=THREE_MONTHS,
    )
    assert [i.conversation_id for i in found] == worst_first


def test_poor_interactions_limit_and_unknown_metric(org: Store) -> None:
    found = poor_interactions(
        org,
        TEAM_VIEWER,
        "alice",
        channel="voice",
        inquiry="returns",
        metric="predicted_satisfaction",
        window=THREE_MONTHS,
        limit=1,
    )
    assert [i.conversation_id for i in found] == ["r3"]
    with pytest.raises(QueryError, match="metric"):
        poor_interactions(
            org,
            TEAM_VIEWER,
            "alice",
            channel="voice",
            inquiry="returns",
            metric="csat_mean",
            window=THREE_MONTHS,
        )


# -- access ----------------------------------------------------------------------------------


def test_an_agent_cannot_open_another_agent(org: Store) -> None:
    bob = Viewer(agent_id="bob")
    with pytest.raises(NotVisibleError):
        agent_performance(org, bob, "alice", channel="chat", window=THREE_MONTHS)
    with pytest.raises(NotVisibleError):
        inquiry_detail(org, bob, "alice", channel="chat", inquiry="billing", window=THREE_MONTHS)
    with pytest.raises(NotVisibleError):
        poor_interactions(
            org,
            bob,
            "alice",
            channel="chat",
            inquiry="billing",
            metric="aes_handle_time",
            window=THREE_MONTHS,
        )
    with pytest.raises(NotVisibleError):  # never seen: answered the same way
        agent_performance(org, TEAM_VIEWER, "nobody", channel="chat", window=THREE_MONTHS)


def test_an_agent_sees_the_same_numbers_and_no_one_else(org: Store) -> None:
    own = Viewer(agent_id="alice")
    mine = alice(org, own)
    assert mine == alice(org)  # the comparisons do not depend on who asks
    detail = inquiry_detail(
        org, own, "alice", channel="chat", inquiry="billing", window=THREE_MONTHS
    )
    worst = poor_interactions(
        org,
        own,
        "alice",
        channel="chat",
        inquiry="billing",
        metric="effectiveness_score",
        window=THREE_MONTHS,
    )
    text = repr((mine, detail, worst))
    for other in OTHERS:
        assert f"'{other}'" not in text
    assert {i.conversation_id.split("-")[0] for i in (*detail.examples, *worst)} == {"alice"}


def test_the_query_layer_refuses_an_agent_list_naming_others(org: Store) -> None:
    asked = Query(
        metrics=["effectiveness_score"],
        filters=Filters(agents=("alice", "bob")),
        period="90d",
        as_of=AS_OF,
    )
    with pytest.raises(NotVisibleError):
        query(org, asked, Viewer(agent_id="alice"))
    own = asked.model_copy(update={"filters": Filters(agents=("alice",), channel="chat")})
    value = query(org, own, Viewer(agent_id="alice")).single().metrics["effectiveness_score"]
    assert value.as_json() == {"value": 368.788571429, "n": 25}


# -- windows -----------------------------------------------------------------------------------


def test_performance_windows() -> None:
    assert performance_window("3m", as_of=AS_OF) == Window(period="90d", as_of=AS_OF)
    assert performance_window("1m", as_of=AS_OF) == Window(period="30d", as_of=AS_OF)
    assert performance_window("1w", as_of=AS_OF) == Window(period="7d", as_of=AS_OF)
    day = performance_window("24h", as_of=AS_OF)
    assert (day.period, day.start, day.end) == ("custom", AS_OF - timedelta(hours=24), AS_OF)
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC)
    custom = performance_window("custom", as_of=None, start=start, end=end)
    assert (custom.period, custom.start, custom.end) == ("custom", start, end)
    with pytest.raises(QueryError, match="from"):
        performance_window("custom", as_of=None, end=end)
    with pytest.raises(QueryError, match="to"):
        performance_window("custom", as_of=None, start=end, end=start)


def test_the_24_hour_window_counts_exactly_a_day(org: Store) -> None:
    # r4 at 03-13 10:00: the 24 h up to 03-14 10:00 start exactly at it (in, r3 a day
    # earlier is out); starting a minute later leaves it out.
    day = performance_window("24h", as_of=datetime(2026, 3, 14, 10, 0, tzinfo=UTC))
    found = agent_performance(org, TEAM_VIEWER, "alice", channel="voice", window=day)
    assert [(p.inquiry, p.volume) for p in found.inquiries] == [("returns", 1)]
    later = replace(day, start=day.start + timedelta(minutes=1) if day.start else None)
    assert (
        agent_performance(org, TEAM_VIEWER, "alice", channel="voice", window=later).inquiries == []
    )


# -- an outcome measured while the other is predicted ----------------------------------------
# On "sms" satisfaction comes from the model and resolution is measured (its model failed
# the gate), as effectiveness_facts holds it per outcome. Four people on "billing":
#     alice 10 x (300, .8, 5 of 10 resolved)  -> resolution .5
#     bob, carol, dave 10 x (300, .8, every one resolved) -> resolution 1
# Handle time and satisfaction are equal, so resolution is the gap to work on.


def split_rows() -> list[dict[str, Any]]:
    rows = []
    for agent in ("alice", "bob", "carol", "dave"):
        for i in range(10):
            resolved = agent != "alice" or i % 2 == 0
            rows.append(
                interaction(
                    f"sms-{agent}-{i}",
                    agent,
                    MARCH + timedelta(hours=i),
                    handle=300,
                    satisfaction=0.8,
                    resolution=1.0 if resolved else 0.0,
                    channel="sms",
                    satisfaction_source="model",
                    resolution_source="measured",
                    fcr=resolved,
                )
            )
    return rows


@pytest.fixture(scope="module", params=BACKENDS)
def split(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    if request.param == "postgres" and not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("DESKPULSE_TEST_POSTGRES_URL is not set: run the suite with scripts/test")
        pytest.skip("no PostgreSQL server: run the suite with scripts/test to include it")
    with scratch_store(request.param, tmp_path_factory.mktemp("split")) as store:
        ingest_and_build(store, directory_events().events)
        write_effectiveness(store, split_rows())
        yield store


def test_each_outcome_keeps_its_own_source(split: Store) -> None:
    found = agent_performance(split, TEAM_VIEWER, "alice", channel="sms", window=THREE_MONTHS)
    assert (found.satisfaction_source, found.resolution_source) == ("model", "measured")
    billing = by_name(found)["billing"]
    assert (billing.satisfaction_source, billing.resolution_source) == ("model", "measured")
    assert billing.prediction_source == "mixed"
    assert billing.metrics["predicted_resolution"].agent == Reading(0.5, 10)
    # A measured rate is never called a prediction; a predicted one is.
    assert billing.label("predicted_resolution") == "Measured resolution rate"
    assert billing.label("predicted_satisfaction") == "Average predicted satisfaction"
    assert found.label("predicted_resolution") == "Measured resolution rate"
    assert billing.label("effectiveness_score") == "Agent Effectiveness Score"


def test_a_measured_outcome_is_recommended_as_measured(split: Store) -> None:
    detail = inquiry_detail(
        split, TEAM_VIEWER, "alice", channel="sms", inquiry="billing", window=THREE_MONTHS
    )
    assert detail.recommendation.metric == "predicted_resolution"
    text = detail.recommendation.explanation
    assert "Focus on measured resolution rate" in text
    assert "predicted resolution" not in text
    example = detail.examples[0]
    assert (example.satisfaction_source, example.resolution_source) == ("model", "measured")
    assert example.prediction_source == "mixed"


def test_no_rows_count_as_measured(split: Store) -> None:
    found = agent_performance(split, TEAM_VIEWER, "frank", channel="sms", window=THREE_MONTHS)
    assert (found.satisfaction_source, found.resolution_source) == ("measured", "measured")
    assert found.label("predicted_satisfaction") == "Measured satisfaction rate"
