"""Topic discovery finds planted themes; admins' decisions label conversations."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deskpulse.events.store import Store
from deskpulse.models.scoring import ensure_scored
from deskpulse.models.topics import (
    TopicBook,
    TopicError,
    assign,
    discover,
    ignore_topic,
    load_book,
    load_model,
    merge_topics,
    name_topic,
    save_topics,
)
from deskpulse.models.training import model_cards, train
from deskpulse.settings import Settings
from tests.factories import facts
from tests.models.helpers import THEME_WORDS, THEMES, themed_conversations

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _planted(per_theme: int = 40) -> tuple[list[str], list[str], dict[str, str]]:
    ids, texts, theme_of = [], [], {}
    for theme, phrasings in THEMES.items():
        for i in range(per_theme):
            conversation_id = f"{theme}-{i}"
            ids.append(conversation_id)
            texts.append(f"Hello, {phrasings[i % len(phrasings)]}. Thanks! Order {1000 + i}")
            theme_of[conversation_id] = theme
    return ids, texts, theme_of


def _theme_of_topic(book: TopicBook, theme_of: dict[str, str]) -> dict[int, str]:
    found = {}
    for topic in book.topics:
        themes = Counter(theme_of[e.conversation_id] for e in topic.examples)
        found[topic.topic_id] = themes.most_common(1)[0][0]
    return found


def test_finds_the_planted_themes() -> None:
    ids, texts, theme_of = _planted()
    model, book = discover(ids, texts, k=3, discovered_at=NOW)
    assert book.k == 3
    assert book.conversations == 120
    themes = _theme_of_topic(book, theme_of)
    assert sorted(themes.values()) == ["delivery", "password", "refund"]
    for topic in book.topics:
        theme = themes[topic.topic_id]
        # Every example is from the topic's theme, and its top terms are the theme's words.
        assert {theme_of[e.conversation_id] for e in topic.examples} == {theme}
        assert len(topic.examples) == 5
        assert set(topic.terms[:3]) & THEME_WORDS[theme], topic.terms
        assert topic.size == 40
        # Greetings and order numbers are not topics.
        assert not {"hello", "thanks", "order"} & set(topic.terms)
        assert all(not any(ch.isdigit() for ch in term) for term in topic.terms)
    assert all(topic.status == "proposed" and topic.name is None for topic in book.topics)
    # Unnamed topics label nothing.
    assert assign(model, book, texts) == [None] * len(texts)


def test_names_merges_and_ignores(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    ids, texts, theme_of = _planted()
    model, book = discover(ids, texts, k=3, discovered_at=NOW)
    save_topics(settings, model, book)
    themes = _theme_of_topic(book, theme_of)
    topic_of = {theme: topic_id for topic_id, theme in themes.items()}

    named = name_topic(settings, topic_of["refund"], "  Refund   request ")
    assert named.topic(topic_of["refund"]).name == "Refund request"
    assert named.revision == 1
    merged = merge_topics(settings, [topic_of["password"], topic_of["delivery"]], "Other")
    assert merged.revision == 2
    stored = load_book(settings)
    assert stored == merged
    loaded = load_model(settings)
    assert loaded is not None
    labels = assign(loaded, stored, texts)
    expected = {"refund": "Refund request", "password": "Other", "delivery": "Other"}
    assert labels == [expected[theme_of[i]] for i in ids]

    ignored = ignore_topic(settings, topic_of["delivery"])
    assert ignored.topic(topic_of["delivery"]).status == "ignored"
    labels = assign(loaded, ignored, texts)
    assert labels == [None if theme_of[i] == "delivery" else expected[theme_of[i]] for i in ids]
    # Naming an ignored topic brings it back.
    renamed = name_topic(settings, topic_of["delivery"], "Delivery")
    assert renamed.topic(topic_of["delivery"]).status == "named"


def test_bad_decisions_name_the_field(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(TopicError) as no_topics:
        name_topic(settings, 1, "Refunds")
    assert no_topics.value.field == "topics"
    ids, texts, _theme_of = _planted()
    model, book = discover(ids, texts, k=3, discovered_at=NOW)
    save_topics(settings, model, book)
    with pytest.raises(TopicError) as unknown:
        name_topic(settings, 9, "Refunds")
    assert unknown.value.field == "topic"
    assert unknown.value.message == "no topic 9; the topics are 1, 2, 3"
    with pytest.raises(TopicError) as blank:
        name_topic(settings, 1, "   ")
    assert blank.value.field == "name"
    with pytest.raises(TopicError) as long_name:
        name_topic(settings, 1, "x" * 81)
    assert long_name.value.field == "name"
    with pytest.raises(TopicError) as one:
        merge_topics(settings, [2, 2], "Same")
    assert one.value.field == "topics"
    assert load_book(settings) == book  # nothing half-done was saved


def test_too_few_texts_and_bad_k_are_refused() -> None:
    with pytest.raises(TopicError) as few:
        discover(["a", "b"], ["refund please", "password reset"], k=2, discovered_at=NOW)
    assert few.value.field == "conversations"
    assert "only 2 conversations" in few.value.message
    ids, texts, _ = _planted()
    with pytest.raises(TopicError) as bad_k:
        discover(ids, texts, k=1, discovered_at=NOW)
    assert bad_k.value.field == "k"


def test_an_install_without_labels_gets_topics_then_named_labels(
    duckdb_store: Store, settings: Settings
) -> None:
    themed_conversations(duckdb_store, per_theme=40)
    report = train(duckdb_store, settings, now=NOW, topics_k=3)
    classifier = report.cards.classifier
    assert classifier is not None
    assert classifier.status == "not_trained"
    assert report.cards.inquiry_method == "topics"
    assert report.topics_note is not None
    assert report.topics_note.startswith("discovered 3")
    rows = facts(duckdb_store, "effectiveness_facts")
    assert {row["inquiry_source"] for row in rows} == {None}  # nothing named yet

    book = load_book(settings)
    assert book is not None
    refund = next(t for t in book.topics if {"refund", "money"} & set(t.terms[:3]))
    name_topic(settings, refund.topic_id, "Refunds")
    assert model_cards(settings).topics is not None
    ensure_scored(duckdb_store, settings)  # the decision changed the signature
    rows = facts(duckdb_store, "effectiveness_facts")
    labelled = {row["conversation_id"] for row in rows if row["inquiry_source"] == "topic"}
    assert labelled == {f"refund-{i}" for i in range(40)}
    assert {row["inquiry"] for row in rows if row["inquiry_source"] == "topic"} == {"Refunds"}

    # Training again keeps the topics and their names.
    again = train(duckdb_store, settings, now=NOW, topics_k=3)
    assert again.topics_note is not None
    assert again.topics_note.startswith("kept the 3 topics")
    kept = load_book(settings)
    assert kept is not None
    assert kept.topic(refund.topic_id).name == "Refunds"
