"""The model page and topic review.

/models/ is for every signed-in member: it shows how good the models behind the Agent
Effectiveness Score are and names no agent. /models/topics/ is for admins and owners
only; an agent gets 403 (the page exists, it is just not theirs to use): the topic
examples quote customers from conversations the agent did not handle, which agents
cannot otherwise read. Changes are POSTs with Django's CSRF token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render

from deskpulse.models.cards import ChannelCard, ClassifierCard, ModelCards, OutcomeCard
from deskpulse.models.outcomes import MIN_AUC, MIN_LABELS, MIN_PER_CLASS
from deskpulse.models.topics import (
    TopicBook,
    TopicError,
    ignore_topic,
    load_book,
    merge_topics,
    name_topic,
)
from deskpulse.models.training import model_cards
from deskpulse.web.access import member_required, viewer_of
from deskpulse.web.models import charts
from deskpulse.web.runtime import install_settings

_CLASS_WORDS = {
    "satisfaction": ("satisfied (CSAT 4\u20135)", "not satisfied (1\u20133)"),
    "resolution": ("resolved on first contact", "not resolved on first contact"),
}
_MEASURED_WORDS = {
    "satisfaction": "satisfaction rate (CSAT 4\u20135)",
    "resolution": "first-contact resolution rate",
}
_OUTCOME_TITLES = {
    "satisfaction": "Predicted satisfaction \u00b7 P(CSAT \u2265 4)",
    "resolution": "Predicted resolution \u00b7 P(first-contact resolution)",
}


@member_required
def models_page(request: HttpRequest) -> HttpResponse:
    cards = model_cards(install_settings())
    channels = [_channel(card, index) for index, card in enumerate(cards.channels)]
    figures = {
        f"calibration-{index}": charts.calibration(card)
        for index, card in enumerate(cards.channels)
        if card.satisfaction.calibration or card.resolution.calibration
    }
    return render(
        request,
        "models/models.html",
        {
            "nav": "models",
            "cards": cards,
            "trained_text": _moment(cards.trained_at),
            "seconds_text": None if cards.seconds is None else f"{cards.seconds:.0f} s",
            "classifier": _classifier(cards.classifier),
            "channels": channels,
            "figures": figures,
            "can_review_topics": not viewer_of(request).is_agent,
            "gate": {"auc": MIN_AUC, "labels": MIN_LABELS, "per_class": MIN_PER_CLASS},
            "method_text": _method(cards),
        },
    )


@member_required
def topics_page(request: HttpRequest) -> HttpResponse:
    if viewer_of(request).is_agent:
        return render(
            request,
            "models/forbidden.html",
            {
                "nav": "models",
                "message": "Topic review is for admins and owners: its examples quote "
                "customers from conversations across the whole team.",
            },
            status=403,
        )
    settings = install_settings()
    status = 200
    problem = None
    if request.method == "POST":
        try:
            messages.success(request, _decide(settings, request.POST))
            return redirect("models:topics")
        except TopicError as error:
            problem, status = error.message, 400
    try:
        book = load_book(settings)
    except TopicError as error:
        book, problem = None, error.message
    return render(
        request,
        "models/topics.html",
        {
            "nav": "models",
            "book": book,
            "topics": _topics(book),
            "problem": problem,
            "discovered_text": _moment(book.discovered_at) if book else None,
            "conversations_text": f"{book.conversations:,}" if book else None,
        },
        status=status,
    )


def _decide(settings: Any, form: QueryDict) -> str:
    """Apply one admin decision from the form; the message to show."""
    action = form.get("action", "")
    name = form.get("name", "")
    if action == "merge":
        ids = [_topic_id(value) for value in form.getlist("topics")]
        book = merge_topics(settings, ids, name)
        label = book.topic(ids[0]).name
        return (
            f"Topics {', '.join(str(i) for i in sorted(set(ids)))} are now the inquiry {label!r}."
        )
    topic = _topic_id(form.get("topic", ""))
    if action == "name":
        book = name_topic(settings, topic, name)
        return f"Topic {topic} is now the inquiry {book.topic(topic).name!r}."
    if action == "ignore":
        ignore_topic(settings, topic)
        return f"Topic {topic} is ignored: it labels no conversation."
    raise TopicError("action", f"{action!r} is not one of name, merge, ignore")


def _topic_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise TopicError("topic", f"{value!r} is not a topic number") from None


# -- presentation --------------------------------------------------------------------------


def _moment(value: str | None) -> str | None:
    if not value:
        return None
    return datetime.fromisoformat(value).strftime("%b %-d, %Y %H:%M UTC")


def _day(value: str | None) -> str:
    return "\u2013" if not value else datetime.fromisoformat(value).strftime("%b %-d, %Y")


def _number(value: float | None, digits: int = 3) -> str:
    return "\u2013" if value is None else f"{value:.{digits}f}"


def _method(cards: ModelCards) -> str:
    if cards.inquiry_method == "classifier":
        return "Conversations without an inquiry get one from the inquiry classifier."
    if cards.inquiry_method == "topics":
        return (
            "No inquiry labels to learn from: conversations get the inquiry of their topic "
            "once an admin names it."
        )
    return "Conversations without an inquiry keep none."


def _classifier(card: ClassifierCard | None) -> dict[str, Any] | None:
    if card is None:
        return None
    beats = (
        card.macro_f1 is not None
        and card.baseline_macro_f1 is not None
        and card.macro_f1 > card.baseline_macro_f1
    )
    return {
        "card": card,
        "ok": card.status == "ok",
        "macro_f1": _number(card.macro_f1),
        "baseline": _number(card.baseline_macro_f1),
        "accuracy": _number(card.accuracy),
        "beats": beats,
        "per_class": [
            {
                "label": row.label,
                "precision": _number(row.precision),
                "recall": _number(row.recall),
                "f1": _number(row.f1),
                "support": f"{row.support:,}",
            }
            for row in card.per_class
        ],
        "left_out": ", ".join(f"{label} ({n})" for label, n in card.left_out.items()),
        "train_size": f"{card.train_size:,}",
        "test_size": f"{card.test_size:,}",
        "labelled": f"{card.labelled:,}",
    }


_BADGES = {
    "ok": "Predicting",
    "partial": "Partly predicting",
    "fallback": "Measured rates",
}


def _channel(card: ChannelCard, index: int) -> dict[str, Any]:
    status = card.status_now()
    return {
        "card": card,
        "name": charts.channel_name(card.channel),
        "ok": card.status == "ok",
        "status": status.status,
        "badge": _BADGES[status.status],
        "reason": status.reason,
        "chart_id": f"calibration-{index}",
        "trained_text": _moment(card.trained_at),
        "outcomes": [
            _outcome(card.satisfaction, card.outcome_status("satisfaction").status == "ok"),
            _outcome(card.resolution, card.outcome_status("resolution").status == "ok"),
        ],
        "has_calibration": bool(card.satisfaction.calibration or card.resolution.calibration),
        "conversations": f"{card.conversations:,}",
    }


def _outcome(card: OutcomeCard, predicts: bool) -> dict[str, Any]:
    positive, negative = _CLASS_WORDS[card.outcome]
    if card.auc is None:
        auc_verdict, auc_css = "not measured", "same"
    elif card.auc >= MIN_AUC:
        auc_verdict, auc_css = f"passes the {MIN_AUC} gate", "better"
    else:
        auc_verdict, auc_css = f"below the {MIN_AUC} gate", "worse"
    brier_verdict, brier_css = "not measured", "same"
    if card.brier is not None and card.baseline_brier is not None:
        if card.brier < card.baseline_brier:
            brier_verdict, brier_css = "better than the constant guess", "better"
        else:
            brier_verdict, brier_css = "no better than the constant guess", "worse"
    return {
        "card": card,
        "title": _OUTCOME_TITLES[card.outcome],
        "predicts": predicts,
        "use_text": "Predicts"
        if predicts
        else f"Not used: the page shows the measured {_MEASURED_WORDS[card.outcome]} instead",
        "auc": _number(card.auc),
        "auc_verdict": auc_verdict,
        "auc_css": auc_css,
        "brier": _number(card.brier),
        "baseline_brier": _number(card.baseline_brier),
        "prevalence": "\u2013" if card.prevalence is None else f"{card.prevalence:.0%}",
        "brier_verdict": brier_verdict,
        "brier_css": brier_css,
        "positive_words": positive,
        "negative_words": negative,
        "positives": f"{card.positives:,}",
        "negatives": f"{card.negatives:,}",
        "train_split": f"{card.train_positives:,} / {card.train_negatives:,}",
        "test_split": f"{card.test_positives:,} / {card.test_negatives:,}",
        "data_range": f"{_day(card.data_from)} \u2013 {_day(card.data_to)}",
        "test_from": _day(card.test_from),
    }


def _topics(book: TopicBook | None) -> list[dict[str, Any]]:
    if book is None:
        return []
    return [
        {
            "topic": topic,
            "terms": ", ".join(topic.terms),
            "size": f"{topic.size:,}",
            "status_text": {
                "proposed": "Proposed",
                "named": f"Named \u201c{topic.name}\u201d",
                "ignored": "Ignored",
            }[topic.status],
        }
        for topic in book.topics
    ]
