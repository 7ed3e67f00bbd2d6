"""Data health in the JSON API: retracting an event, and what was refused or held back.

- POST /events/{event_id}/retract: an owner retracts an accepted event (a tombstone,
  events/retraction.py); the facts of its conversation are recomputed before the answer.
  An owner's session (with the CSRF token) or a `write` token of an owner; anyone else
  403 `owners_only`. Admins are refused too: a retraction changes every number that
  counted the event, for every team, and owners are the ones answerable for the data.
- GET /data-health: counts and the latest rejected events, quarantined conversations
  and retractions (owners and admins, like the page at Settings → Data health).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Query as NinjaQuery

from deskpulse.events.retraction import retract_event
from deskpulse.facts.data_health import health_summary
from deskpulse.web.accounts.models import Role
from deskpulse.web.api.auth import READ, WRITE, user_of
from deskpulse.web.api.errors import ApiError
from deskpulse.web.api.viewer import profile_of
from deskpulse.web.data_health.service import refresh_after_retraction
from deskpulse.web.runtime import get_store

router = Router(tags=["data health"])


class RetractIn(Schema):
    reason: str = Field(description="why the event should not count (1-1,000 characters)")


class RetractionOut(Schema):
    id: str
    event_id: str
    event_type: str | None
    conversation_id: str | None
    reason: str
    retracted_by: str
    retracted_at: str


class HealthParams(Schema):
    limit: int = Field(default=50, ge=1, le=500, description="rows of each list")


def _role(request: HttpRequest) -> str:
    profile = profile_of(user_of(request))
    if profile is None:
        raise ApiError(403, "no_profile", "this user has no role on the team; ask an owner")
    return str(profile.role)


@router.post(
    "/events/{path:event_id}/retract",
    auth=WRITE,
    response=RetractionOut,
    summary="Retract an accepted event (owners)",
    description=(
        "Stores an `event.retracted` tombstone (nothing is deleted) and recomputes the "
        "facts of the event's conversation without it. 404 for an unknown id, 409 when it "
        "is already retracted or is itself a retraction."
    ),
)
def retract(request: HttpRequest, event_id: str, payload: RetractIn) -> dict[str, Any]:
    if _role(request) != Role.OWNER:
        raise ApiError(403, "owners_only", "only an owner can retract an event")
    user = user_of(request)
    who = user.email or user.get_username()
    store = get_store()
    done = retract_event(store, event_id, reason=payload.reason, retracted_by=who)
    refresh_after_retraction(store)
    return done.as_json()


@router.get(
    "/data-health",
    auth=READ,
    response=dict[str, Any],
    summary="Rejected events, quarantined conversations and retractions (owners, admins)",
)
def data_health(request: HttpRequest, params: NinjaQuery[HealthParams]) -> dict[str, Any]:
    if _role(request) not in (Role.OWNER, Role.ADMIN):
        raise ApiError(403, "admins_only", "data health is for owners and admins")
    return health_summary(get_store(), limit=params.limit)
