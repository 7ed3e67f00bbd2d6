"""Scoring: the `effectiveness_facts` table the Agent Effectiveness Score is read from.

One row per (conversation, agent) the agent handled (agent_conversation_facts.handled),
with the conversation's resolved inquiry and where it came from, the agent's own handle
time, the measured outcomes, and the two outcome columns, each on its own: the
probability from the channel's model for that outcome when the model passed the quality
gate (`satisfaction_source` / `resolution_source` "model"), otherwise the measured
outcome itself, 1.0 / 0.0 / null ("measured"). A channel whose resolution model fails
still predicts satisfaction. `prediction_source` sums the row up: "model" (both
predicted), "measured" (neither) or "mixed". The exact schema is EFFECTIVENESS_FACTS in
facts/tables.py.

The table is rewritten whole by `score` (after each training, by `deskpulse score`, or
by `ensure_scored`). `ensure_scored` is what pages and the API call before reading: it
compares a small signature of the facts, the current model version and the topic
decisions with the one stored beside the table, and scores only when they differ. A
table written before its present columns (an older deskpulse) counts as stale too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist, refresh_facts
from deskpulse.facts.tables import EFFECTIVENESS_FACTS
from deskpulse.models.dataset import Conversations, load_conversations, objects
from deskpulse.models.inquiries import resolve_inquiries
from deskpulse.models.outcomes import outcome_features, predict_outcome
from deskpulse.models.topics import TopicBook, TopicError, TopicModel, load_book, load_model
from deskpulse.models.versions import ModelBundle, ModelVersionError, current_version, load_version
from deskpulse.models.writer import arrow_schema, replace_table
from deskpulse.settings import Settings

logger = logging.getLogger("deskpulse.models")

TABLE = "effectiveness_facts"
META_TABLE = "effectiveness_meta"
SCHEMA = arrow_schema(EFFECTIVENESS_FACTS)
# Conversations predicted per step (a step of the progress bar).
BATCH = 20_000

Progress = Callable[[int, int], None]

_scoring = threading.Lock()


@dataclass(frozen=True)
class ScoreSummary:
    rows: int  # (conversation, agent) rows written
    conversations: int
    model_version: str | None
    predicted_rows: int  # prediction_source "model": both outcomes predicted
    measured_rows: int  # prediction_source "measured": both outcomes measured
    mixed_rows: int  # prediction_source "mixed": one predicted, one measured
    satisfaction_predicted_rows: int  # satisfaction_source "model"
    resolution_predicted_rows: int  # resolution_source "model"
    inquiry_sources: dict[str, int]  # rows by inquiry_source ("none" for no inquiry)
    seconds: float


def score(store: Store, settings: Settings, *, progress: Progress | None = None) -> ScoreSummary:
    """(Re)write effectiveness_facts with the current models (measured values when none
    are trained, or a channel's models failed the gate)."""
    with _scoring:
        if not facts_exist(store):
            refresh_facts(store)
        # Taken before reading: facts that change meanwhile make the next check rescore.
        facts = facts_signature(store)
        return _score(
            store, settings, progress, _load_bundle(settings), facts, load_conversations(store)
        )


def score_loaded(
    store: Store,
    settings: Settings,
    data: Conversations,
    facts: str,
    *,
    progress: Progress | None = None,
) -> ScoreSummary:
    """`score` on conversations already read (training reads them once for both), with
    the facts signature taken before they were read."""
    with _scoring:
        return _score(store, settings, progress, _load_bundle(settings), facts, data)


def ensure_scored(store: Store, settings: Settings) -> None:
    """Score when the table is missing or older than the facts, models or topics.

    Cheap when nothing changed: two aggregate queries and a one-row read.
    """
    if not facts_exist(store):
        refresh_facts(store)
    if signature(store, settings) == stored_signature(store):
        return
    with _scoring:
        facts = facts_signature(store)
        if signature(store, settings, facts) == stored_signature(store):
            return  # another thread scored while this one waited
        try:
            bundle = _load_bundle(settings)
        except ModelVersionError:
            # The model page shows this error; the numbers meanwhile fall back to the
            # measured outcomes rather than failing every page that reads them.
            logger.exception("model version unreadable: scoring with measured outcomes")
            bundle = None
        _score(store, settings, None, bundle, facts, load_conversations(store))


def _load_bundle(settings: Settings) -> ModelBundle | None:
    return load_version(settings) if current_version(settings) is not None else None


def signature(store: Store, settings: Settings, facts: str | None = None) -> str:
    """What the scores depend on, in a few dozen characters: the facts (`facts`, when
    already taken), the current model version and the topic decisions."""
    try:
        book = load_book(settings)
    except TopicError:
        book = None  # scored without topics (see _topics)
    topics = "-" if book is None else f"{book.discovered_at}#{book.revision}"
    facts = facts if facts is not None else facts_signature(store)
    return f"v={current_version(settings)};t={topics};{facts}"


def facts_signature(store: Store) -> str:
    """Counts and sums of the fact columns scoring reads: any new event, survey answer or
    status change moves at least one of them."""
    facts = store.con.table("conversation_facts")
    summary = (
        facts.aggregate(
            conversations=facts.count(),
            last=facts.last_event_at.max(),
            csat=facts.csat_score.count(),
            csat_sum=facts.csat_score.sum(),
            fcr=facts.fcr.count(),
            fcr_true=facts.fcr.ifelse(1, 0).sum(),
            turns=facts.turns.sum(),
            inquiries=facts.inquiry.count(),
        )
        .to_pyarrow()
        .to_pylist()[0]
    )
    agents = store.con.table("agent_conversation_facts")
    handled = agents.filter(agents.handled)
    handled = handled.aggregate(rows=handled.count(), handle=handled.handle_seconds.sum())
    handled_row = handled.to_pyarrow().to_pylist()[0]
    facts_part = "|".join(str(summary[key]) for key in sorted(summary))
    agents_part = f"{handled_row['rows']}|{_rounded(handled_row['handle'])}"
    return f"f={facts_part};a={agents_part}"


def _rounded(value: Any) -> str:
    # Float sums may differ in the last bits between runs; a change of a second counts.
    return "-" if value is None else f"{float(value):.0f}"


def stored_signature(store: Store) -> str | None:
    """The signature the table was scored with; None when there is no table, or it lacks
    a column of EFFECTIVENESS_FACTS (scored by an older deskpulse: rescore it)."""
    existing = set(store.con.list_tables())
    if TABLE not in existing or META_TABLE not in existing:
        return None
    if list(store.con.table(TABLE).columns) != list(EFFECTIVENESS_FACTS):
        return None
    rows = store.execute(f"SELECT signature FROM {META_TABLE}")
    return str(rows[0][0]) if rows else None


def _topics(settings: Settings) -> tuple[TopicModel | None, TopicBook | None]:
    """The named topics to label with, or none when the topic files cannot be read (the
    topics page shows why; the conversations keep no inquiry meanwhile)."""
    try:
        book = load_book(settings)
        model = load_model(settings) if book is not None else None
    except TopicError:
        logger.exception("topic files unreadable: scoring without topics")
        return None, None
    return (model, book) if model is not None else (None, None)


def _record_signature(store: Store, value: str) -> None:
    table = pa.table({"signature": pa.array([value], pa.string())})
    replace_table(store, META_TABLE, table)


def _score(
    store: Store,
    settings: Settings,
    progress: Progress | None,
    bundle: ModelBundle | None,
    facts: str,
    data: Conversations,
) -> ScoreSummary:
    started = time.perf_counter()
    wanted = signature(store, settings, facts)
    frame = data.frame
    topic_model, topic_book = _topics(settings)
    inquiries, sources = resolve_inquiries(
        frame,
        classifier=bundle.classifier if bundle is not None else None,
        topic_model=topic_model,
        topic_book=topic_book,
    )
    satisfied, resolved, satisfied_by_model, resolved_by_model = _predictions(
        frame, inquiries, bundle, progress
    )
    version = bundle.version if bundle is not None else None
    any_model = satisfied_by_model | resolved_by_model
    by_conversation = pd.DataFrame(
        {
            "conversation_id": frame["conversation_id"].to_numpy(dtype=object),
            "inquiry": inquiries,
            "inquiry_source": sources,
            "fcr": objects(frame["fcr"]),
            "predicted_satisfaction": satisfied,
            "predicted_resolution": resolved,
            "satisfaction_source": _sources(satisfied_by_model),
            "resolution_source": _sources(resolved_by_model),
            "prediction_source": np.where(
                satisfied_by_model & resolved_by_model,
                "model",
                np.where(any_model, "mixed", "measured"),
            ).astype(object),
            "model_version": np.array([version if p else None for p in any_model], dtype=object),
        }
    )
    handled = _handled_rows(store)
    rows = handled.merge(by_conversation, on="conversation_id", how="inner")
    table = _as_arrow(rows)
    # The table and the signature it was scored with change together, or not at all.
    with store.writing():
        replace_table(store, TABLE, table)
        _record_signature(store, wanted)
    counts = Counter("none" if v is None else str(v) for v in objects(rows["inquiry_source"]))
    summary = Counter(str(v) for v in objects(rows["prediction_source"]))
    return ScoreSummary(
        rows=len(rows),
        conversations=int(rows["conversation_id"].nunique()),
        model_version=bundle.version if bundle is not None else None,
        predicted_rows=summary["model"],
        measured_rows=summary["measured"],
        mixed_rows=summary["mixed"],
        satisfaction_predicted_rows=int((rows["satisfaction_source"] == "model").sum()),
        resolution_predicted_rows=int((rows["resolution_source"] == "model").sum()),
        inquiry_sources=dict(sorted(counts.items())),
        seconds=time.perf_counter() - started,
    )


def _sources(by_model: np.ndarray) -> np.ndarray:
    return np.where(by_model, "model", "measured").astype(object)


def _predictions(
    frame: pd.DataFrame,
    inquiries: np.ndarray,
    bundle: ModelBundle | None,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(satisfaction, resolution, satisfaction from a model, resolution from a model) per
    conversation: each outcome's model probability where that model passed the gate (a
    version holds only those), else the measured outcome."""
    satisfied = measured_satisfaction(frame["csat_score"])
    resolved = measured_resolution(frame["fcr"])
    satisfied_by_model = np.zeros(len(frame), dtype=bool)
    resolved_by_model = np.zeros(len(frame), dtype=bool)
    channels = objects(frame["channel"])
    models = bundle.channels if bundle is not None else {}
    rows = np.flatnonzero(np.isin(channels, list(models))) if models else np.array([], int)
    total = len(rows)
    if progress is not None:
        progress(0, total)
    for start in range(0, total, BATCH):
        batch = rows[start : start + BATCH]
        for channel in pd.unique(channels[batch]):
            chosen = batch[channels[batch] == channel]
            part = frame.iloc[chosen]
            passed = models[str(channel)]
            # Only the outcomes the cards let predict today: a model saved under an older,
            # looser gate stays on disk but is not used (ChannelCard.outcome_status).
            card = bundle.cards.channel(str(channel)) if bundle is not None else None
            allowed = set(card.predicted) if card is not None else set()
            if "satisfaction" in passed and "satisfaction" in allowed:
                satisfied[chosen] = predict_outcome(
                    passed["satisfaction"],
                    outcome_features(part, "satisfaction", inquiries[chosen]),
                )
                satisfied_by_model[chosen] = True
            if "resolution" in passed and "resolution" in allowed:
                resolved[chosen] = predict_outcome(
                    passed["resolution"],
                    outcome_features(part, "resolution", inquiries[chosen]),
                )
                resolved_by_model[chosen] = True
        if progress is not None:
            progress(min(start + BATCH, total), total)
    return satisfied, resolved, satisfied_by_model, resolved_by_model


def measured_satisfaction(csat: pd.Series) -> np.ndarray:
    """1.0 for a CSAT of 4-5, 0.0 for 1-3, NaN (null) without an answer."""
    scores = pd.to_numeric(csat, errors="coerce").to_numpy(dtype=np.float64)
    return np.where(np.isnan(scores), np.nan, (scores >= 4).astype(np.float64))


def measured_resolution(fcr: pd.Series) -> np.ndarray:
    """1.0 / 0.0 for first-contact resolution, NaN (null) while unresolved."""
    values = objects(fcr)
    return np.array(
        [np.nan if v is None else 1.0 if bool(v) else 0.0 for v in values], dtype=np.float64
    )


def _handled_rows(store: Store) -> pd.DataFrame:
    agents = store.con.table("agent_conversation_facts")
    picked = agents.filter(agents.handled).select(
        "conversation_id",
        "agent_id",
        "created_at",
        "channel",
        "inbox_id",
        "customer_tier",
        "language",
        "team_id",
        "handle_seconds",
        "handle_time_estimated",
        "csat_score",
    )
    table = picked.to_pyarrow()
    frame: pd.DataFrame = table.to_pandas()
    return frame


def _as_arrow(rows: pd.DataFrame) -> pa.Table:
    """The rows in EFFECTIVENESS_FACTS order and types, nulls as nulls."""
    rows = rows.sort_values(["conversation_id", "agent_id"], kind="stable")
    arrays = []
    for field in SCHEMA:
        values = objects(rows[field.name])
        if pa.types.is_floating(field.type):
            cleaned = [None if v is None or v != v else float(v) for v in values]
        elif pa.types.is_integer(field.type):
            cleaned = [None if v is None or v != v else int(v) for v in values]
        elif pa.types.is_boolean(field.type):
            cleaned = [None if v is None or v != v else bool(v) for v in values]
        else:
            cleaned = list(values)
        arrays.append(pa.array(cleaned, type=field.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)
