"""Each conversation's inquiry, and where it came from.

In order: the inquiry the events carry ("event"); otherwise the classifier's answer from
the customer's text ("classifier"), when a classifier is trained; otherwise the name of
the conversation's strongest topic, when an admin named it ("topic"); otherwise none.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from deskpulse.models.classifier import predict_inquiries
from deskpulse.models.dataset import objects
from deskpulse.models.topics import TopicBook, TopicModel, assign

InquirySource = Literal["event", "classifier", "topic"]


def resolve_inquiries(
    frame: pd.DataFrame,
    *,
    classifier: Pipeline | None,
    topic_model: TopicModel | None,
    topic_book: TopicBook | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(inquiry, inquiry_source) per row of `frame`, as object arrays (None when unknown)."""
    inquiries = objects(frame["inquiry"])
    sources = np.full(len(frame), None, dtype=object)
    labelled = np.array([value is not None for value in inquiries], dtype=bool)
    sources[labelled] = "event"
    missing = np.flatnonzero(~labelled)
    texts = frame["text"].to_numpy(dtype=object)
    if len(missing) and classifier is not None:
        found = predict_inquiries(classifier, [str(texts[i]) for i in missing])
        for i, label in zip(missing, found, strict=True):
            if label is not None:
                inquiries[i], sources[i] = label, "classifier"
        missing = np.array([i for i in missing if sources[i] is None], dtype=np.int64)
    if len(missing) and topic_model is not None and topic_book is not None:
        found = assign(topic_model, topic_book, [str(texts[i]) for i in missing])
        for i, label in zip(missing, found, strict=True):
            if label is not None:
                inquiries[i], sources[i] = label, "topic"
    return inquiries, sources
