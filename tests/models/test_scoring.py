"""effectiveness_facts on DuckDB, PostgreSQL and Spark: the exact schema, the measured
fallback values, each outcome's own source (a channel may predict satisfaction and
measure resolution), the agent's own handle time, and rescoring only when something
changed (an older table without today's columns included)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from deskpulse.events.store import Store
from deskpulse.facts.tables import EFFECTIVENESS_FACTS
from deskpulse.models.cards import ChannelCard, ModelCards, OutcomeCard
from deskpulse.models.scoring import (
    META_TABLE,
    TABLE,
    ensure_scored,
    score,
    signature,
    stored_signature,
)
from deskpulse.models.training import TrainingReport, train
from deskpulse.models.versions import save_version, version_name
from deskpulse.models.writer import arrow_schema, replace_table
from deskpulse.settings import Settings
from tests.conftest import make_settings
from tests.factories import Events, facts, ingest, ingest_and_build, refresh, scratch_store
from tests.models.helpers import trained_on_a_planted_signal

_KINDS = {
    "string": "is_string",
    "timestamp": "is_timestamp",
    "float64": "is_float64",
    "int64": "is_int64",
    "boolean": "is_boolean",
}


def _team() -> Events:
    """c1: alice, billing, 5 min logged, resolved, CSAT 5 (FCR).
    c2: alice and bob (a teammate), no inquiry, reopened after resolution, CSAT 2.
    c3: the AI agent answers, refund, still open, no survey.
    c4: assigned to bob who never replied: not handled, no row."""
    f = Events()
    f.agent("alice", name="Alice", teams=["t1"])
    f.agent("bob", name="Bob", teams=["t1"])
    f.agent("bot", name="Bot", kind="ai")
    c1 = f.conversation("c1", customer="u1", channel="chat", inquiry="billing", at=0)
    c1.customer(at=0, text="I was charged twice").assign("alice", team="t1", at=1)
    c1.reply("alice", at=3).work("alice", seconds=300, at=4).resolve(at=5)
    c1.survey("csat", 5, at=20)
    c2 = f.conversation("c2", customer="u2", channel="email", at=60)
    c2.customer(at=60, text="my export is empty").assign("alice", team="t1", at=61)
    c2.reply("alice", at=70).work("alice", seconds=120, at=71)
    c2.reply("bob", at=80).work("bob", seconds=60, at=81).resolve(at=90)
    c2.customer(at=200, text="still empty").reopen(at=200).reply("alice", at=210)
    c2.resolve(at=220).survey("csat", 2, at=230)
    c3 = f.conversation("c3", customer="u3", channel="chat", inquiry="refund", at=300)
    c3.customer(at=300, text="refund please").ai_reply("bot", at=301)
    c4 = f.conversation("c4", customer="u4", channel="chat", at=400)
    c4.customer(at=400, text="hello?").assign("bob", team="t1", at=401)
    return f


EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    ("c1", "alice"): {
        "channel": "chat",
        "inquiry": "billing",
        "inquiry_source": "event",
        "team_id": "t1",
        "handle_seconds": 300.0,
        "handle_time_estimated": False,
        "csat_score": 5,
        "fcr": True,
        "predicted_satisfaction": 1.0,
        "predicted_resolution": 1.0,
    },
    ("c2", "alice"): {
        "channel": "email",
        "inquiry": None,
        "inquiry_source": None,
        "handle_seconds": 120.0,
        "csat_score": 2,
        "fcr": False,
        "predicted_satisfaction": 0.0,
        "predicted_resolution": 0.0,
    },
    ("c2", "bob"): {
        "handle_seconds": 60.0,
        "csat_score": 2,
        "fcr": False,
        "predicted_satisfaction": 0.0,
        "predicted_resolution": 0.0,
    },
    ("c3", "bot"): {
        "inquiry": "refund",
        "inquiry_source": "event",
        "csat_score": None,
        "fcr": None,
        "predicted_satisfaction": None,
        "predicted_resolution": None,
    },
}


def _by_key(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["conversation_id"], r["agent_id"]): r for r in facts(store, TABLE)}


def _check_measured(store: Store) -> None:
    rows = _by_key(store)
    assert set(rows) == set(EXPECTED)
    agent_facts = {
        (r["conversation_id"], r["agent_id"]): r for r in facts(store, "agent_conversation_facts")
    }
    for key, expected in EXPECTED.items():
        row = rows[key]
        for column, value in expected.items():
            assert row[column] == value, (key, column, row[column])
        assert row["prediction_source"] == "measured"
        assert (row["satisfaction_source"], row["resolution_source"]) == ("measured", "measured")
        assert row["model_version"] is None
        # The agent's own handle time and flag, and the conversation's creation time.
        assert row["handle_seconds"] == agent_facts[key]["handle_seconds"]
        assert row["handle_time_estimated"] == agent_facts[key]["handle_time_estimated"]
        assert row["created_at"] == agent_facts[key]["created_at"]
    assert rows[("c3", "bot")]["handle_time_estimated"] is True


def _check_schema(store: Store) -> None:
    schema = store.con.table(TABLE).schema()
    assert list(schema.names) == list(EFFECTIVENESS_FACTS)
    for name, kind in EFFECTIVENESS_FACTS.items():
        assert getattr(schema[name], _KINDS[kind])(), (name, schema[name])


def test_measured_fallback_values_and_schema(store: Store) -> None:
    ingest_and_build(store, _team().events)
    summary = score(store, store.settings)
    assert summary.rows == 4
    assert summary.conversations == 3
    assert summary.model_version is None
    assert summary.predicted_rows == 0
    assert summary.satisfaction_predicted_rows == summary.resolution_predicted_rows == 0
    assert summary.measured_rows == 4
    assert summary.inquiry_sources == {"event": 2, "none": 2}
    _check_schema(store)
    _check_measured(store)


def test_rescores_only_when_the_facts_change(store: Store) -> None:
    f = _team()
    ingest_and_build(store, f.events)
    ensure_scored(store, store.settings)
    assert stored_signature(store) == signature(store, store.settings)
    # A row removed behind its back stays removed: nothing changed, so nothing is redone.
    store.execute(f"DELETE FROM {TABLE} WHERE conversation_id = 'c3'")
    ensure_scored(store, store.settings)
    assert ("c3", "bot") not in _by_key(store)
    # A survey answer arrives: the facts change, and the next call rescored everything.
    c3 = f.on("c3", customer="u3")
    c3.resolve(at=500).survey("csat", 4, at=510)
    ingest(store, f.events[-2:])
    refresh(store)
    assert stored_signature(store) != signature(store, store.settings)
    ensure_scored(store, store.settings)
    row = _by_key(store)[("c3", "bot")]
    assert row["csat_score"] == 4
    assert row["predicted_satisfaction"] == 1.0
    assert stored_signature(store) == signature(store, store.settings)


def test_an_older_table_without_the_outcome_sources_is_rescored(store: Store) -> None:
    """A table scored before each outcome had its own source (same facts, same models)
    counts as stale: pages would otherwise read columns that are not there."""
    ingest_and_build(store, _team().events)
    ensure_scored(store, store.settings)
    older = {k: v for k, v in EFFECTIVENESS_FACTS.items() if not k.endswith("tion_source")}
    older["prediction_source"] = "string"
    rows = [{k: r[k] for k in older} for r in facts(store, TABLE)]
    replace_table(store, TABLE, pa.Table.from_pylist(rows, schema=arrow_schema(older)))
    assert "satisfaction_source" not in store.con.table(TABLE).columns
    assert stored_signature(store) is None  # stale, although the signature row is there
    ensure_scored(store, store.settings)
    _check_schema(store)
    _check_measured(store)
    assert stored_signature(store) == signature(store, store.settings)


def test_ensure_scored_builds_missing_facts(store: Store) -> None:
    ensure_scored(store, store.settings)
    assert facts(store, TABLE) == []
    _check_schema(store)
    assert META_TABLE in store.con.list_tables()


def _check_outcomes_follow_the_cards(rows: list[dict[str, Any]], cards: ModelCards) -> None:
    """Each row's outcome is its model's probability exactly when that model passed the
    gate, and the measured outcome otherwise; the row's summary and version agree."""
    for row in rows:
        status = cards.status_of(row["channel"])
        sources = []
        for outcome, column in (
            ("satisfaction", "predicted_satisfaction"),
            ("resolution", "predicted_resolution"),
        ):
            source = row[f"{outcome}_source"]
            sources.append(source)
            if status.outcome(outcome).status == "ok":  # type: ignore[arg-type]
                assert source == "model", (row["conversation_id"], outcome)
                assert 0.0 < row[column] < 1.0
            else:
                assert source == "measured", (row["conversation_id"], outcome)
                if outcome == "satisfaction":
                    csat = row["csat_score"]
                    assert row[column] == (None if csat is None else float(csat >= 4))
                else:
                    fcr = row["fcr"]
                    assert row[column] == (None if fcr is None else float(fcr))
        summary = sources[0] if sources[0] == sources[1] else "mixed"
        assert row["prediction_source"] == summary
        assert row["model_version"] == (None if summary == "measured" else cards.version)


def test_model_predictions_follow_the_cards(
    trained: tuple[Settings, Store, TrainingReport],
) -> None:
    _settings, store, report = trained
    rows = facts(store, TABLE)
    handled = [r for r in facts(store, "agent_conversation_facts") if r["handled"]]
    assert len(rows) == len(handled) == report.scored.rows
    _check_outcomes_follow_the_cards(rows, report.cards)
    # Chat's satisfaction model clears the AUC gate but not the held-out labels and
    # calibration (test_outcomes): its rows carry the measured outcome.
    chat = [r for r in rows if r["channel"] == "chat"]
    assert chat
    assert all(r["satisfaction_source"] == "measured" for r in chat)
    assert report.scored.satisfaction_predicted_rows == sum(
        1 for r in rows if r["satisfaction_source"] == "model"
    )


TRAINED_AT = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def _chat_predicts_satisfaction_only(settings: Settings) -> ModelCards:
    """A saved version whose chat satisfaction model (a real one, learned from a planted
    signal) passed and whose chat resolution model failed the gate."""
    satisfaction = trained_on_a_planted_signal()
    assert satisfaction.pipeline is not None
    resolution = OutcomeCard(
        outcome="resolution",
        passed=False,
        reason="the resolution model's held-out AUC is 0.571, below the 0.6 it needs",
        auc=0.571,
    )
    chat = ChannelCard(
        channel="chat",
        status="partial",
        reason="",
        satisfaction=satisfaction.card,
        resolution=resolution,
        conversations=3,
        trained_at=TRAINED_AT.isoformat(),
    )
    cards = ModelCards(
        version=version_name(TRAINED_AT),
        trained_at=TRAINED_AT.isoformat(),
        classifier=None,
        channels=[chat],
        inquiry_method="none",
    )
    save_version(
        settings, cards, classifier=None, channels={"chat": {"satisfaction": satisfaction.pipeline}}
    )
    return cards


def test_a_failed_outcome_is_measured_while_the_other_predicts(store: Store) -> None:
    ingest_and_build(store, _team().events)
    cards = _chat_predicts_satisfaction_only(store.settings)
    summary = score(store, store.settings)
    rows = _by_key(store)
    # Chat (c1, c3): satisfaction from the model, resolution measured; email (c2): no model.
    for key in (("c1", "alice"), ("c3", "bot")):
        assert (rows[key]["satisfaction_source"], rows[key]["resolution_source"]) == (
            "model",
            "measured",
        )
        assert rows[key]["prediction_source"] == "mixed"
    assert rows[("c1", "alice")]["predicted_resolution"] == 1.0  # resolved first time
    assert rows[("c3", "bot")]["predicted_resolution"] is None  # still open
    assert rows[("c2", "alice")]["prediction_source"] == "measured"
    _check_schema(store)
    _check_outcomes_follow_the_cards(list(rows.values()), cards)
    assert (summary.satisfaction_predicted_rows, summary.resolution_predicted_rows) == (2, 0)
    assert (summary.mixed_rows, summary.measured_rows, summary.predicted_rows) == (2, 2, 0)


def test_a_model_passed_by_the_older_auc_only_gate_is_measured(store: Store) -> None:
    """A version saved before the gate checked calibration and held-out labels: its
    satisfaction model is on disk and its card says passed, but with no calibration
    measured it is not trusted; the measured rate is used until deskpulse train."""
    ingest_and_build(store, _team().events)
    cards = _chat_predicts_satisfaction_only(store.settings)
    chat = cards.channel("chat")
    assert chat is not None
    older = replace(
        chat,
        satisfaction=replace(chat.satisfaction, test_mean_predicted=None, test_observed=None),
    )
    assert older.outcome_status("satisfaction").status == "fallback"
    assert "run deskpulse train" in older.outcome_status("satisfaction").reason
    # Saved as the newer version: scoring follows its cards, not the files on disk.
    later = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    satisfaction = trained_on_a_planted_signal()
    save_version(
        store.settings,
        replace(cards, version=version_name(later), trained_at=later.isoformat(), channels=[older]),
        classifier=None,
        channels={"chat": {"satisfaction": satisfaction.pipeline}},  # type: ignore[dict-item]
    )
    summary = score(store, store.settings)
    assert summary.satisfaction_predicted_rows == 0
    rows = _by_key(store)
    assert rows[("c1", "alice")]["satisfaction_source"] == "measured"


# -- Spark -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One local Spark for this module's stores (as in tests/metrics/test_spark.py)."""
    missing = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing = "pyspark is not installed: pip install -e '.[spark]'"
    if missing is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing = "no Java runtime for Spark: apt-get install openjdk-17-jre-headless"
    if missing is not None:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    from deskpulse.events import spark as spark_backend

    spark_backend.session(make_settings(tmp_path_factory.mktemp("spark")), "local[2]")
    yield
    spark_backend.release()


@pytest.mark.spark
def test_spark_writes_the_same_table(spark: None, tmp_path: Path) -> None:
    with scratch_store("spark", tmp_path / "spark") as store:
        f = _team()
        ingest_and_build(store, f.events)
        summary = score(store, store.settings)
        assert summary.rows == 4
        _check_schema(store)
        _check_measured(store)
        ensure_scored(store, store.settings)
        assert stored_signature(store) == signature(store, store.settings)
        c3 = f.on("c3", customer="u3")
        c3.resolve(at=500).survey("csat", 4, at=510)
        ingest(store, f.events[-2:])
        refresh(store)
        ensure_scored(store, store.settings)
        assert _by_key(store)[("c3", "bot")]["predicted_satisfaction"] == 1.0
        # Scoring twice leaves no staging tables behind.
        tables = set(store.con.list_tables())
        assert not {t for t in tables if t.endswith(("__next", "__old"))}


def test_training_an_empty_store_says_why(store: Store) -> None:
    report = train(store, store.settings)
    classifier = report.cards.classifier
    assert classifier is not None
    assert classifier.reason.startswith("not trained: too few labels")
    assert report.cards.channels == []
    assert report.topics_note is not None
    assert "topic discovery needs at least 30" in report.topics_note
    assert report.scored.rows == 0
    assert facts(store, TABLE) == []
    # The line the scheduled-jobs list shows.
    line = report.describe()
    assert line.startswith(f"version {report.version}; inquiry classifier not trained")
    assert line.endswith(f"0 rows scored in {report.seconds:.1f} s")


def test_unreadable_topic_files_do_not_stop_scoring(store: Store) -> None:
    ingest_and_build(store, _team().events)
    folder = store.settings.data_dir / "models"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "topics.json").write_text("{broken")
    ensure_scored(store, store.settings)
    _check_measured(store)
