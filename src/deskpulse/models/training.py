"""Training: the inquiry classifier (or topic discovery), every channel's two prediction
models, a new version in the data folder, then scoring.

`deskpulse train` runs this; so does the scheduled retraining. `model_cards` is what the
model page, the API and the performance pages read: the current version's cards with
the live topic decisions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
from sklearn.pipeline import Pipeline

from deskpulse import clock
from deskpulse.errors import DeskpulseError
from deskpulse.events.store import Store
from deskpulse.facts.build import facts_exist, refresh_facts
from deskpulse.models.cards import (
    NO_MODELS,
    ChannelCard,
    InquiryMethod,
    ModelCards,
    Outcome,
    OutcomeCard,
)
from deskpulse.models.classifier import train_classifier
from deskpulse.models.dataset import Conversations, load_conversations, objects
from deskpulse.models.inquiries import resolve_inquiries
from deskpulse.models.outcomes import outcome_features, outcome_labels, train_outcome
from deskpulse.models.scoring import ScoreSummary, facts_signature, score_loaded
from deskpulse.models.topics import (
    DEFAULT_TOPICS,
    TopicBook,
    TopicError,
    TopicModel,
    discover,
    load_book,
    load_model,
    save_topics,
)
from deskpulse.models.versions import (
    ModelVersionError,
    current_version,
    load_cards,
    load_version,
    save_version,
    version_name,
)
from deskpulse.settings import Settings

# (steps done, steps in all): reading, the classifier, one per channel, saving, scoring.
TrainingProgress = Callable[[int, int], None]
# What is happening now, in words ("training the chat models").
StepReporter = Callable[[str], None]

OUTCOMES: tuple[Outcome, ...] = ("satisfaction", "resolution")


class TrainingError(DeskpulseError, ValueError):
    """A training request that cannot be done; `field` names the option to fix."""

    field: str  # always named

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


@dataclass(frozen=True)
class TrainingReport:
    cards: ModelCards
    version: str
    scored: ScoreSummary
    seconds: float  # training and scoring together
    topics_note: str | None  # what happened with topic discovery, when it was tried

    def describe(self) -> str:
        """One line for logs and the scheduled-jobs list."""
        parts = [f"version {self.version}"]
        classifier = self.cards.classifier
        if classifier is not None and classifier.status == "ok":
            parts.append(
                f"inquiry classifier macro-F1 {classifier.macro_f1:.3f} "
                f"(majority baseline {classifier.baseline_macro_f1:.3f})"
            )
        elif classifier is not None:
            parts.append(f"inquiry classifier {classifier.reason}")
        if self.topics_note:
            parts.append(self.topics_note)
        for card in self.cards.channels:
            # ok, partial (one outcome predicted) or fallback (both measured).
            parts.append(f"{card.channel} {card.status}")
        parts.append(f"{self.scored.rows:,} rows scored in {self.seconds:.1f} s")
        return "; ".join(parts)


def train(
    store: Store,
    settings: Settings,
    *,
    channels: Sequence[str] | None = None,
    progress: TrainingProgress | None = None,
    on_step: StepReporter | None = None,
    topics_k: int = DEFAULT_TOPICS,
    now: datetime | None = None,
) -> TrainingReport:
    """Train everything on the store's history, save a new current version, then score.

    `channels` limits which channels' models are retrained; the others keep the current
    version's models and cards. The inquiry classifier is always retrained.
    """
    started = time.perf_counter()
    done = 0
    steps = 4  # reading, the classifier, saving, scoring; channels are added below

    def say(step: str, advance: int = 0) -> None:
        nonlocal done
        done += advance
        if on_step is not None:
            on_step(step)
        if progress is not None:
            progress(done, steps)

    trained_at = (now or clock.now()).astimezone(UTC)
    if not facts_exist(store):
        say("building facts")
        refresh_facts(store)
    say("reading conversations")
    facts = facts_signature(store)
    data = load_conversations(store)
    frame = data.frame
    known_channels = sorted(str(c) for c in frame["channel"].dropna().unique())
    wanted = _wanted_channels(channels, known_channels)
    steps += len(wanted)
    kept_cards, kept_models = _kept_channels(settings, wanted, channels is not None)

    say("training the inquiry classifier", 1)
    labels = objects(frame["inquiry"])
    texts = [str(text) for text in frame["text"].to_numpy(dtype=object)]
    classifier = train_classifier(texts, list(labels), trained_at=trained_at)
    topic_note = None
    topic_model, topic_book = None, None
    if classifier.pipeline is None:
        say("discovering topics")
        topic_model, topic_book, topic_note = _topics(settings, data, topics_k, trained_at)
    inquiries, _sources = resolve_inquiries(
        frame,
        classifier=classifier.pipeline,
        topic_model=topic_model,
        topic_book=topic_book,
    )

    cards: list[ChannelCard] = list(kept_cards)
    models: dict[str, dict[str, Pipeline]] = dict(kept_models)
    for channel in wanted:
        say(f"training the {channel} models", 1)
        card, pair = _train_channel(settings, data, inquiries, channel, trained_at)
        cards.append(card)
        if pair is not None:
            models[channel] = pair
    say("saving the models", 1)
    method: InquiryMethod = "classifier" if classifier.pipeline is not None else "none"
    if topic_book is not None and classifier.pipeline is None:
        method = "topics"
    model_cards_ = ModelCards(
        version=version_name(trained_at),
        trained_at=trained_at.isoformat(),
        classifier=classifier.card,
        channels=sorted(cards, key=lambda c: c.channel),
        inquiry_method=method,
        topics=topic_book.summary() if topic_book is not None else None,
        seconds=round(time.perf_counter() - started, 3),
    )
    version = save_version(settings, model_cards_, classifier=classifier.pipeline, channels=models)
    scored = score_loaded(
        store,
        settings,
        data,
        facts,
        progress=lambda rows, total: say(f"scoring conversations ({rows:,} of {total:,})"),
    )
    say("trained and scored", 2)
    return TrainingReport(
        cards=load_cards(settings, version),
        version=version,
        scored=scored,
        seconds=time.perf_counter() - started,
        topics_note=topic_note,
    )


def model_cards(settings: Settings) -> ModelCards:
    """The current version's cards (NO_MODELS before the first training), with the topic
    summary as it is now (admins name and ignore topics between trainings).

    A current version that cannot be read gives NO_MODELS with `error` set: pages then
    show measured rates and the model page says what is wrong.
    """
    try:
        cards = NO_MODELS if current_version(settings) is None else load_cards(settings)
    except ModelVersionError as error:
        cards = replace(NO_MODELS, error=str(error))
    try:
        book = load_book(settings)
    except TopicError:
        book = None  # the topics page says what is wrong with the file
    return replace(cards, topics=book.summary() if book is not None else None)


def _wanted_channels(channels: Sequence[str] | None, known: list[str]) -> list[str]:
    if channels is None:
        return known
    unknown = [c for c in channels if c not in known]
    if unknown:
        raise TrainingError(
            "channel",
            f"no conversations on {', '.join(repr(c) for c in unknown)}; the channels with "
            f"conversations are {', '.join(known) or 'none'}",
        )
    return sorted(set(channels))


def _kept_channels(
    settings: Settings, wanted: list[str], partial: bool
) -> tuple[list[ChannelCard], dict[str, dict[str, Pipeline]]]:
    """The current version's other channels, carried into the new version."""
    if not partial or current_version(settings) is None:
        return [], {}
    try:
        bundle = load_version(settings)
    except ModelVersionError as error:
        raise TrainingError(
            "channel", f"cannot keep the other channels' models ({error}); train all channels"
        ) from None
    cards = [card for card in bundle.cards.channels if card.channel not in wanted]
    models = {c: pair for c, pair in bundle.channels.items() if c not in wanted}
    return cards, models


def _topics(
    settings: Settings, data: Conversations, k: int, trained_at: datetime
) -> tuple[TopicModel | None, TopicBook | None, str]:
    """The existing topics (names kept), or a first discovery when there are none."""
    book = load_book(settings)
    model = load_model(settings) if book is not None else None
    if book is not None and model is not None:
        return model, book, f"kept the {len(book.topics)} topics discovered {book.discovered_at}"
    try:
        model, book = discover_unlabelled(data, k=k, discovered_at=trained_at)
    except TopicError as error:
        return None, None, f"no topics: {error.message}"
    save_topics(settings, model, book)
    return model, book, f"discovered {len(book.topics)} topics: name them at /models/topics/"


def discover_unlabelled(
    data: Conversations, *, k: int, discovered_at: datetime
) -> tuple[TopicModel, TopicBook]:
    """Topics among the conversations whose events carry no inquiry."""
    frame = data.frame
    unlabelled = frame["inquiry"].isna().to_numpy()
    ids = [str(c) for c in frame["conversation_id"].to_numpy(dtype=object)[unlabelled]]
    texts = [str(t) for t in frame["text"].to_numpy(dtype=object)[unlabelled]]
    return discover(ids, texts, k=k, discovered_at=discovered_at)


def discover_topics(
    store: Store, settings: Settings, *, k: int = DEFAULT_TOPICS, now: datetime | None = None
) -> TopicBook:
    """`deskpulse topics discover`: replace the topics with a new discovery."""
    if not facts_exist(store):
        refresh_facts(store)
    moment = (now or clock.now()).astimezone(UTC)
    model, book = discover_unlabelled(load_conversations(store), k=k, discovered_at=moment)
    save_topics(settings, model, book)
    return book


def _train_channel(
    settings: Settings,
    data: Conversations,
    inquiries: np.ndarray,
    channel: str,
    trained_at: datetime,
) -> tuple[ChannelCard, dict[str, Pipeline] | None]:
    frame = data.frame
    mask = (frame["channel"] == channel).fillna(False).to_numpy(dtype=bool)
    rows = frame.loc[mask]
    outcome_cards: dict[str, OutcomeCard] = {}
    pipelines: dict[str, Pipeline] = {}
    for outcome in OUTCOMES:
        labels = outcome_labels(
            rows, outcome, data_end=data.data_end, fcr_window_days=settings.fcr_window_days
        )
        features = outcome_features(rows, outcome, inquiries[mask])
        trained = train_outcome(features, labels, rows["created_at"], outcome)
        outcome_cards[outcome] = trained.card
        if trained.pipeline is not None:
            pipelines[outcome] = trained.pipeline
    satisfaction, resolution = outcome_cards["satisfaction"], outcome_cards["resolution"]
    card = ChannelCard(
        channel=channel,
        status="fallback",
        reason="",
        satisfaction=satisfaction,
        resolution=resolution,
        conversations=int(mask.sum()),
        trained_at=trained_at.isoformat(),
    )
    # Each outcome on its own: a channel whose resolution is mostly chance still predicts
    # satisfaction (DESIGN.md: the fallback is per outcome).
    status = card.status_now()
    card = replace(card, status=status.status, reason=status.reason)
    return card, pipelines or None
