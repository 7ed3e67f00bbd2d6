"""Who may see what, for pages and the API alike.

The query layer confines an agent viewer to their own rows; this module turns a signed-in
person (or a token's user) into that viewer, and is the one place each kind of object a
view loads is fetched "for this user". Another agent's object answers 404, never 403, so
its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from deskpulse.metrics.query import Viewer
from deskpulse.web.accounts.models import Profile, Role

View = TypeVar("View", bound=Callable[..., HttpResponse])


class NoRoleError(PermissionError):
    """Signed in, but not on the team (no profile), or an agent not linked yet."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def profile_of(user: AbstractBaseUser | AnonymousUser | None) -> Profile | None:
    if user is None or not user.is_authenticated:
        return None
    cached: Profile | None = getattr(user, "_deskpulse_profile", None)
    if cached is None:
        cached = Profile.objects.filter(user_id=user.pk).first()
        if cached is not None:
            user._deskpulse_profile = cached  # type: ignore[union-attr]
    return cached


def viewer_for_user(user: AbstractBaseUser | AnonymousUser | None) -> Viewer:
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


def profile_context(request: HttpRequest) -> dict[str, Any]:
    """Template context: the signed-in person's profile (role, agent id) for the layout."""
    return {"profile": profile_of(getattr(request, "user", None))}


def is_owner(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    profile = profile_of(user)
    return profile is not None and profile.role == Role.OWNER


def member_required(view: View) -> View:
    """Signed in and on the team; `request.viewer` is set for the view.

    Anonymous people go to the sign-in page; an account without a role gets a 403 page
    that says why (there is nothing secret about one's own missing role).
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            request.viewer = viewer_for_user(request.user)  # type: ignore[attr-defined]
        except NoRoleError as error:
            return render(request, "deskpulse/no_role.html", {"message": error.message}, status=403)
        return view(request, *args, **kwargs)

    return cast(View, wrapped)


def owner_required(view: View) -> View:
    """Owners only. Others get 404: the settings pages are not theirs to know about."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_owner(request.user):
            raise Http404("no such page")
        return view(request, *args, **kwargs)

    return cast(View, wrapped)


def admin_required(view: View) -> View:
    """Owners and admins (the whole-team roles). Agents and people without a role get 404,
    like `owner_required`; anonymous people go to the sign-in page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        profile = profile_of(request.user)
        if profile is None or not profile.sees_whole_team:
            raise Http404("no such page")
        return view(request, *args, **kwargs)

    return cast(View, wrapped)


def viewer_of(request: HttpRequest) -> Viewer:
    viewer: Viewer = request.viewer  # type: ignore[attr-defined]
    return viewer


def agent_visible(viewer: Viewer, agent_id: str) -> bool:
    """May `viewer` open `agent_id`'s drill-down? Agents: only their own."""
    return not viewer.is_agent or viewer.agent_id == agent_id
