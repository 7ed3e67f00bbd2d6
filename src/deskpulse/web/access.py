"""Who may open which page: the gates every view goes through.

The viewer itself (a person's role turned into what they may see) is api/viewer.py, the
same for pages and the API. Another agent's object answers 404, never 403, so its
existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from deskpulse.metrics.query import Viewer
from deskpulse.web.api.viewer import NoRoleError, is_owner, profile_of, viewer_for_user

View = TypeVar("View", bound=Callable[..., HttpResponse])


def profile_context(request: HttpRequest) -> dict[str, Any]:
    """Template context: the signed-in person's profile (role, agent id) for the layout."""
    return {"profile": profile_of(getattr(request, "user", None))}


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
