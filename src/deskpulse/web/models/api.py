"""The model page's JSON twin, under /api/v1/models.

- GET /api/v1/models: the current version's cards (any member; they name no agent).
- GET /api/v1/models/topics: the proposed topics (admins and owners; agents get 403,
  as on /models/topics/: the examples quote customers across the whole team).
- POST /api/v1/models/topics/{topic_id}: name, merge or ignore (admins and owners).

Reads accept a signed-in session or a bearer token with the `read` scope. The POST
accepts a signed-in session with Django's CSRF token (header X-CSRFToken), or a bearer
token with the `write` scope whose user is an admin or an owner.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from deskpulse.models.cards import to_json
from deskpulse.models.topics import (
    TopicBook,
    book_to_json,
    ignore_topic,
    load_book,
    merge_topics,
    name_topic,
)
from deskpulse.models.training import model_cards
from deskpulse.web.api.auth import READ, WRITE
from deskpulse.web.api.auth import viewer_of as _viewer
from deskpulse.web.api.contract import errors
from deskpulse.web.api.errors import ApiError
from deskpulse.web.runtime import install_settings

router = Router(tags=["models"])


def _admin(request: HttpRequest) -> None:
    if _viewer(request).is_agent:
        raise ApiError(
            403,
            "admins_only",
            "topic review is for admins and owners: its examples quote customers from "
            "conversations across the whole team",
        )


@router.get(
    "/models",
    auth=READ,
    summary="The model page: classifier and per-channel prediction model cards",
)
def get_models(request: HttpRequest) -> dict[str, Any]:
    """The cards; each channel also says per outcome whether it is predicted ("ok") or
    measured ("fallback"), with the reason, under `outcomes`."""
    _viewer(request)
    found = model_cards(install_settings())
    cards: dict[str, Any] = to_json(found)
    for channel, card in zip(cards["channels"], found.channels, strict=True):
        status = card.status_now()
        channel["status"] = status.status
        channel["reason"] = status.reason
        channel["outcomes"] = {
            part.outcome: to_json(part) for part in (status.satisfaction, status.resolution)
        }
    return cards


def _book(request: HttpRequest) -> TopicBook:
    book = load_book(install_settings())
    if book is None:
        raise ApiError(
            404,
            "no_topics",
            "no topics yet: deskpulse topics discover proposes some (and deskpulse train "
            "does when no conversation carries an inquiry)",
        )
    return book


@router.get(
    "/models/topics",
    auth=READ,
    summary="Proposed topics with top terms, sizes, examples and admins' decisions",
    openapi_extra=errors(404, 409),
)
def get_topics(request: HttpRequest) -> dict[str, Any]:
    _admin(request)
    return book_to_json(_book(request))


class TopicDecision(Schema):
    action: Literal["name", "merge", "ignore"]
    name: str | None = Field(default=None, description="the inquiry label (name, merge)")
    merge_with: list[int] = Field(
        default_factory=list, description="merge: the other topics to merge with this one"
    )


@router.post(
    "/models/topics/{topic_id}",
    auth=WRITE,
    summary="Name, merge or ignore a topic (admins and owners)",
    openapi_extra=errors(409),
)
def post_topic(request: HttpRequest, topic_id: int, payload: TopicDecision) -> dict[str, Any]:
    _admin(request)
    settings = install_settings()
    _book(request)
    if payload.action == "ignore":
        book = ignore_topic(settings, topic_id)
    elif payload.action == "name":
        book = name_topic(settings, topic_id, payload.name or "")
    else:
        book = merge_topics(settings, [topic_id, *payload.merge_with], payload.name or "")
    return book_to_json(book)
