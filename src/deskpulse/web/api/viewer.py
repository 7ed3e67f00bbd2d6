"""Who is asking, and what they may see: for the API and the pages alike.

The query layer confines an agent viewer to their own rows; this module turns a signed-in
person (or a token's user) into that viewer. Owners and admins see the whole team, an
agent their own numbers; an account without a role, or an agent not linked to an agent
id yet, sees nothing (NoRoleError: the API answers 403, pages a 403 page that says why).
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.http import HttpRequest

from deskpulse.metrics.query import Viewer
from deskpulse.web.accounts.models import Profile, Role

Person = AbstractBaseUser | AnonymousUser | None


class NoRoleError(PermissionError):
    """Signed in, but not on the team (no profile), or an agent not linked yet."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def profile_of(user: Person) -> Profile | None:
    if user is None or not user.is_authenticated:
        return None
    cached: Profile | None = getattr(user, "_deskpulse_profile", None)
    if cached is None:
        cached = Profile.objects.filter(user_id=user.pk).first()
        if cached is not None:
            user._deskpulse_profile = cached  # type: ignore[union-attr,attr-defined,unused-ignore]
    return cached


def viewer_for_user(user: Person) -> Viewer:
    """The whole team for owners and admins, one agent id for an agent."""
    profile = profile_of(user)
    if profile is None:
        raise NoRoleError("no_profile", "this account has no role on the team; ask an owner")
    if profile.sees_whole_team:
        return Viewer(agent_id=None)
    if not profile.agent_id:
        # Never fall back to team-wide: an agent sees their own numbers or nothing.
        raise NoRoleError("no_agent_id", "this agent is not linked to an agent id yet")
    return Viewer(agent_id=profile.agent_id)


def is_owner(user: Person) -> bool:
    profile = profile_of(user)
    return profile is not None and profile.role == Role.OWNER


def signed_in_user(request: HttpRequest) -> User:
    """The person behind a page request; only for views whose decorators
    (member_required and the like) have already turned away anyone not signed in."""
    return cast(User, request.user)
