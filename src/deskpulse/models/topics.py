"""Topic discovery for installs whose events carry no inquiry labels.

TF-IDF of the customers' texts, factorised with NMF into k topics (default 8). Each
topic is proposed with its top terms, how many conversations it is the strongest topic
of, and example conversations. An admin then names a topic (the name becomes an inquiry
label), merges several under one name, or ignores it. Named topics label conversations
that have no inquiry at scoring time (`inquiry_source` "topic"); ignored and unnamed ones
label nothing.

Stored in the data folder beside the model versions: `models/topics.json` (the topics
and the admin's decisions, human-readable) and `models/topics.joblib` (the fitted
vectoriser and factorisation). Discovery runs on demand (`deskpulse topics discover`)
and on `deskpulse train` when the classifier cannot be trained and no topics exist yet;
training again keeps the topics and their names.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import joblib
import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from deskpulse.errors import ConflictError, DeskpulseError, NotFoundError
from deskpulse.models.cards import TopicsSummary
from deskpulse.settings import Settings

DEFAULT_TOPICS = 8
MIN_TOPICS = 2
MAX_TOPICS = 40
# Fewer texts than this give topics that are mostly noise.
MIN_CONVERSATIONS = 30
# A sample beyond this: NMF's time grows with the corpus, its topics do not change much.
MAX_CONVERSATIONS = 30_000
TOP_TERMS = 10
EXAMPLES = 5
SNIPPET_CHARS = 200
MAX_NAME_CHARS = 80
SEED = 7

# Words of greeting and politeness in every support message (and the generator's four
# languages): they would otherwise form a "hello thanks" topic of their own.
SUPPORT_STOP_WORDS = frozenset(
    {
        "hello", "hi", "hey", "thanks", "thank", "cheers", "regards", "best", "please",
        "team", "good", "morning", "afternoon", "evening", "help", "hola", "gracias",
        "buenos", "dias", "hallo", "danke", "bonjour", "merci", "guten", "tag", "ok",
        "okay", "sorry", "just", "know", "let", "need", "want", "like", "get", "got",
    }
)  # fmt: skip
_STOP_WORDS = sorted(ENGLISH_STOP_WORDS | SUPPORT_STOP_WORDS)

TopicStatus = Literal["proposed", "named", "ignored"]


class TopicError(DeskpulseError, ValueError):
    """A topic request that cannot be done; `field` names what to fix."""

    field: str  # always named

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


class TopicNotFoundError(TopicError, NotFoundError):
    """No topic has the id asked for."""

    code = "not_found"


class TopicsUnreadableError(TopicError, ConflictError):
    """The stored topics cannot be read; discovering them again replaces them."""

    code = "topics_unreadable"


@dataclass(frozen=True)
class TopicExample:
    conversation_id: str
    text: str  # the start of the customer's text


@dataclass(frozen=True)
class Topic:
    topic_id: int
    terms: list[str]
    size: int  # conversations whose strongest topic this is
    examples: list[TopicExample]
    status: TopicStatus = "proposed"
    name: str | None = None  # the inquiry label, once named (merged topics share one)


@dataclass(frozen=True)
class TopicBook:
    """The discovered topics and what admins decided about them."""

    discovered_at: str
    k: int
    conversations: int  # texts the topics were discovered on
    topics: list[Topic]
    revision: int = 0  # grows with every admin decision (scoring notices the change)

    def topic(self, topic_id: int) -> Topic:
        for topic in self.topics:
            if topic.topic_id == topic_id:
                return topic
        known = ", ".join(str(t.topic_id) for t in self.topics)
        raise TopicNotFoundError("topic", f"no topic {topic_id}; the topics are {known}")

    def summary(self) -> TopicsSummary:
        return TopicsSummary(
            discovered_at=self.discovered_at,
            topics=len(self.topics),
            named=sum(1 for t in self.topics if t.status == "named"),
            ignored=sum(1 for t in self.topics if t.status == "ignored"),
        )

    def names(self) -> dict[int, str]:
        """Topic id -> inquiry label, for named topics."""
        return {t.topic_id: t.name for t in self.topics if t.status == "named" and t.name}


@dataclass(frozen=True)
class TopicModel:
    vectorizer: TfidfVectorizer
    factors: NMF


# -- discovery ---------------------------------------------------------------------------


def discover(
    conversation_ids: Sequence[str],
    texts: Sequence[str],
    *,
    k: int = DEFAULT_TOPICS,
    discovered_at: datetime,
) -> tuple[TopicModel, TopicBook]:
    """Find k topics in the texts (empty texts are skipped)."""
    if not MIN_TOPICS <= k <= MAX_TOPICS:
        raise TopicError("k", f"{k} topics: choose between {MIN_TOPICS} and {MAX_TOPICS}")
    pairs = [(cid, text) for cid, text in zip(conversation_ids, texts, strict=True) if text]
    if len(pairs) < max(MIN_CONVERSATIONS, k):
        raise TopicError(
            "conversations",
            f"only {len(pairs):,} conversations without an inquiry have customer text; topic "
            f"discovery needs at least {max(MIN_CONVERSATIONS, k)}",
        )
    if len(pairs) > MAX_CONVERSATIONS:
        chosen = np.random.default_rng(SEED).choice(len(pairs), MAX_CONVERSATIONS, replace=False)
        pairs = [pairs[i] for i in sorted(chosen)]
    ids = [cid for cid, _text in pairs]
    corpus = [text for _cid, text in pairs]
    vectorizer = TfidfVectorizer(
        stop_words=_STOP_WORDS,
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
        ngram_range=(1, 2),
        min_df=2,
        max_df=0.5,
        max_features=5_000,
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(corpus)
    except ValueError as error:  # nothing but stop words and numbers
        raise TopicError("conversations", f"no usable words in the texts ({error})") from None
    k = min(k, matrix.shape[1])
    factors = NMF(n_components=k, init="nndsvda", random_state=SEED, max_iter=500)
    weights = factors.fit_transform(matrix)
    terms = vectorizer.get_feature_names_out()
    strongest = weights.argmax(axis=1)
    has_topic = weights.max(axis=1) > 0
    topics = []
    for topic_id in range(k):
        members = np.flatnonzero(has_topic & (strongest == topic_id))
        ranked = members[np.argsort(-weights[members, topic_id], kind="stable")][:EXAMPLES]
        top = np.argsort(-factors.components_[topic_id], kind="stable")[:TOP_TERMS]
        topics.append(
            Topic(
                topic_id=topic_id + 1,
                terms=[str(terms[i]) for i in top if factors.components_[topic_id, i] > 0],
                size=len(members),
                examples=[
                    TopicExample(conversation_id=ids[i], text=_snippet(corpus[i])) for i in ranked
                ],
            )
        )
    book = TopicBook(
        discovered_at=discovered_at.isoformat(),
        k=k,
        conversations=len(corpus),
        topics=topics,
    )
    return TopicModel(vectorizer=vectorizer, factors=factors), book


def assign(model: TopicModel, book: TopicBook, texts: Sequence[str]) -> list[str | None]:
    """The inquiry label each text gets from the named topics (None: no named topic is
    its strongest, or no text)."""
    names = book.names()
    found: list[str | None] = [None] * len(texts)
    present = [i for i, text in enumerate(texts) if text]
    if not names or not present:
        return found
    weights = model.factors.transform(model.vectorizer.transform([texts[i] for i in present]))
    strongest = weights.argmax(axis=1)
    has_topic = weights.max(axis=1) > 0
    for row, i in enumerate(present):
        if has_topic[row]:
            found[i] = names.get(int(strongest[row]) + 1)
    return found


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rstrip() + "\u2026"


# -- admin decisions -----------------------------------------------------------------------


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise TopicError("name", "give the topic a name (the inquiry label it becomes)")
    if len(cleaned) > MAX_NAME_CHARS:
        raise TopicError("name", f"at most {MAX_NAME_CHARS} characters ({len(cleaned)} given)")
    return cleaned


def name_topic(settings: Settings, topic_id: int, name: str) -> TopicBook:
    """Name one topic: its conversations get this inquiry label."""
    label = clean_name(name)
    with _editing(settings) as book:
        return _save_decisions(
            settings, book, {topic_id: replace(book.topic(topic_id), status="named", name=label)}
        )


def merge_topics(settings: Settings, topic_ids: Sequence[int], name: str) -> TopicBook:
    """Give several topics one name: together they become one inquiry label."""
    label = clean_name(name)
    unique = sorted(set(topic_ids))
    if len(unique) < 2:
        raise TopicError("topics", "merging needs at least two different topics")
    with _editing(settings) as book:
        changes = {
            topic_id: replace(book.topic(topic_id), status="named", name=label)
            for topic_id in unique
        }
        return _save_decisions(settings, book, changes)


def ignore_topic(settings: Settings, topic_id: int) -> TopicBook:
    """Ignore a topic: it labels nothing."""
    with _editing(settings) as book:
        return _save_decisions(
            settings, book, {topic_id: replace(book.topic(topic_id), status="ignored", name=None)}
        )


def _save_decisions(settings: Settings, book: TopicBook, changes: dict[int, Topic]) -> TopicBook:
    topics = [changes.get(t.topic_id, t) for t in book.topics]
    updated = replace(book, topics=topics, revision=book.revision + 1)
    _write_json(topics_json_path(settings), book_to_json(updated))
    return updated


@contextmanager
def _editing(settings: Settings) -> Iterator[TopicBook]:
    """The topic book under an exclusive lock, so two admins' decisions never overwrite
    each other (read, change and write happen inside the lock)."""
    folder = models_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "topics.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            book = load_book(settings)
            if book is None:
                raise TopicError(
                    "topics", "no topics discovered yet: run deskpulse topics discover"
                )
            yield book
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# -- storage -------------------------------------------------------------------------------


def models_dir(settings: Settings) -> Path:
    return settings.data_dir / "models"


def topics_json_path(settings: Settings) -> Path:
    return models_dir(settings) / "topics.json"


def topics_model_path(settings: Settings) -> Path:
    return models_dir(settings) / "topics.joblib"


def save_topics(settings: Settings, model: TopicModel, book: TopicBook) -> None:
    """Replace the topics (and every decision about them) with a new discovery."""
    folder = models_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f".topics-{os.getpid()}.joblib"
    joblib.dump({"vectorizer": model.vectorizer, "factors": model.factors}, staged)
    os.replace(staged, topics_model_path(settings))
    _write_json(topics_json_path(settings), book_to_json(book))


def load_book(settings: Settings) -> TopicBook | None:
    path = topics_json_path(settings)
    if not path.exists():
        return None
    try:
        return book_from_json(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError) as error:
        raise TopicsUnreadableError(
            "topics", f"{path} is unreadable ({error}); run deskpulse topics discover again"
        ) from None


def load_model(settings: Settings) -> TopicModel | None:
    path = topics_model_path(settings)
    if not path.exists():
        return None
    try:
        stored = joblib.load(path)
        return TopicModel(vectorizer=stored["vectorizer"], factors=stored["factors"])
    except Exception as error:
        raise TopicsUnreadableError(
            "topics", f"{path} is unreadable ({error}); run deskpulse topics discover again"
        ) from None


def book_to_json(book: TopicBook) -> dict[str, Any]:
    return {
        "discovered_at": book.discovered_at,
        "k": book.k,
        "conversations": book.conversations,
        "revision": book.revision,
        "topics": [
            {
                "topic_id": t.topic_id,
                "terms": t.terms,
                "size": t.size,
                "status": t.status,
                "name": t.name,
                "examples": [
                    {"conversation_id": e.conversation_id, "text": e.text} for e in t.examples
                ],
            }
            for t in book.topics
        ],
    }


def book_from_json(data: dict[str, Any]) -> TopicBook:
    topics = []
    for item in data["topics"]:
        status = item.get("status", "proposed")
        if status not in ("proposed", "named", "ignored"):
            raise ValueError(f"topic {item.get('topic_id')}: unknown status {status!r}")
        topics.append(
            Topic(
                topic_id=int(item["topic_id"]),
                terms=[str(term) for term in item["terms"]],
                size=int(item["size"]),
                examples=[
                    TopicExample(conversation_id=str(e["conversation_id"]), text=str(e["text"]))
                    for e in item.get("examples", [])
                ],
                status=status,
                name=item.get("name"),
            )
        )
    return TopicBook(
        discovered_at=str(data["discovered_at"]),
        k=int(data["k"]),
        conversations=int(data["conversations"]),
        topics=topics,
        revision=int(data.get("revision", 0)),
    )


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
    with os.fdopen(handle, "w") as out:
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
    os.replace(staged, path)
