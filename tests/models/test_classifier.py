"""The inquiry classifier: better than always answering the most common inquiry, on
generated data and on the real Bitext customer-support intents, and honest about
having too few labels."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deskpulse.events.store import Store
from deskpulse.models.classifier import MIN_EXAMPLES, train_classifier
from deskpulse.models.training import TrainingReport, train
from deskpulse.settings import Settings
from tests.factories import Events, facts, ingest_and_build

NOW = datetime(2026, 3, 1, tzinfo=UTC)
BITEXT = Path(__file__).parent / "data" / "bitext_intents_sample.csv"
# Of the Bitext rows, every this many-th keeps no inquiry in its events: the classifier
# must fill it in, and its answer is checked against the held-back intent.
UNLABELLED_EVERY = 10


def test_beats_the_majority_baseline_on_generated_data(
    trained: tuple[Settings, Store, TrainingReport],
) -> None:
    _settings, _store, report = trained
    card = report.cards.classifier
    assert card is not None
    assert card.status == "ok"
    assert card.macro_f1 is not None
    assert card.baseline_macro_f1 is not None
    # 20 inquiries: always answering the most common one scores about 0.01.
    assert card.baseline_macro_f1 < 0.05
    assert card.macro_f1 > 0.9
    assert card.classes == 20
    assert len(card.per_class) == 20
    assert sum(row.support for row in card.per_class) == card.test_size
    # Stratified 20%: every inquiry is held out in proportion.
    assert card.test_size == pytest.approx(0.2 * (card.train_size + card.test_size), abs=20)
    assert all(row.support >= 2 for row in card.per_class)


def test_fills_in_the_inquiry_of_unlabelled_conversations(
    trained: tuple[Settings, Store, TrainingReport],
) -> None:
    _settings, store, _report = trained
    rows = facts(store, "effectiveness_facts")
    sources = Counter(row["inquiry_source"] for row in rows)
    assert sources["event"] > 0
    assert sources["classifier"] > 0
    by_source = {row["inquiry_source"] for row in rows if row["inquiry"] is None}
    assert by_source <= {None}  # no inquiry means no source, and the other way round
    labelled = {row["conversation_id"]: row["inquiry"] for row in rows}
    events_inquiry = {
        row["conversation_id"]: row["inquiry"] for row in facts(store, "conversation_facts")
    }
    for conversation_id, inquiry in labelled.items():
        if events_inquiry[conversation_id] is not None:
            assert inquiry == events_inquiry[conversation_id]


def test_not_trained_with_too_few_labels() -> None:
    texts = [f"please refund order {i}" for i in range(50)]
    one_label = train_classifier(texts, ["refund"] * 50, trained_at=NOW)
    assert one_label.pipeline is None
    assert one_label.card.status == "not_trained"
    assert one_label.card.reason.startswith("not trained: too few labels")

    texts = [f"refund my order {i}" for i in range(10)] + [f"reset password {i}" for i in range(9)]
    labels = ["refund"] * 10 + ["password"] * (MIN_EXAMPLES - 1)
    short = train_classifier(texts, labels, trained_at=NOW)
    assert short.pipeline is None
    assert short.card.left_out == {"password": 9}

    texts.append("reset password again")
    labels.append("password")
    enough = train_classifier(texts, labels, trained_at=NOW)
    assert enough.pipeline is not None
    assert enough.card.status == "ok"
    assert enough.card.classes == 2


def test_unlabelled_and_empty_texts_are_not_learned_from() -> None:
    texts = ["refund please"] * 12 + ["reset password"] * 12 + ["", "   "] + ["refund"] * 5
    labels: list[str | None] = ["refund"] * 12 + ["password"] * 12 + ["refund", "refund"]
    labels += [None] * 5
    result = train_classifier(texts, labels, trained_at=NOW)
    assert result.card.labelled == 24


def _bitext_rows() -> list[dict[str, str]]:
    with BITEXT.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_bitext_sample_covers_every_intent() -> None:
    rows = _bitext_rows()
    intents = Counter(row["intent"] for row in rows)
    assert 2_500 <= len(rows) <= 3_500
    assert len(intents) == 27
    assert min(intents.values()) >= 50


def test_bitext_end_to_end(tmp_path: Path, duckdb_store: Store, settings: Settings) -> None:
    """The real labelled set through the whole path: events in, facts, `train`, scoring."""
    rows = _bitext_rows()
    f = Events()
    f.agent("alice", name="Alice", teams=["t1"])
    held_back: dict[str, str] = {}
    for i, row in enumerate(rows):
        conversation_id = f"bitext-{i}"
        keep_label = i % UNLABELLED_EVERY != 0
        if not keep_label:
            held_back[conversation_id] = row["intent"]
        c = f.conversation(
            conversation_id,
            customer=f"customer-{i}",
            at=i * 2.0,
            inquiry=row["intent"] if keep_label else None,
        )
        c.customer(at=i * 2.0, text=row["instruction"]).reply("alice", at=i * 2.0 + 1)
    ingest_and_build(duckdb_store, f.events)
    report = train(duckdb_store, settings, now=NOW)
    card = report.cards.classifier
    assert card is not None
    assert card.status == "ok"
    assert card.classes == 27
    assert card.macro_f1 is not None
    assert card.baseline_macro_f1 is not None
    assert card.baseline_macro_f1 < 0.01
    assert card.macro_f1 > 0.9
    # The conversations whose events carried no intent got the classifier's.
    scored = {row["conversation_id"]: row for row in facts(duckdb_store, "effectiveness_facts")}
    right = 0
    for conversation_id, intent in held_back.items():
        assert scored[conversation_id]["inquiry_source"] == "classifier"
        right += scored[conversation_id]["inquiry"] == intent
    assert right / len(held_back) > 0.9
    # No CSAT or FCR in this data: every channel falls back, saying why.
    assert [c.status for c in report.cards.channels] == ["fallback"]
    assert "only 0 CSAT answers, 200 needed" in report.cards.channels[0].reason
