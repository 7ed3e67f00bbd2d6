"""The saved-views menu's context: the views of the page being shown, read only when the
menu partial (saved_views/_menu.html) is on the page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

# The page a URL path shows, as saved views name it. The leaderboard is part of
# /analytics/: the menu there saves either (the form has a choice).
PATH_PAGES = {"/analytics/": "analytics", "/analytics/conversations/": "conversations"}


def _menu(request: HttpRequest) -> dict[str, Any]:
    from deskpulse.web.api.viewer import is_owner
    from deskpulse.web.saved_views import service

    user = getattr(request, "user", None)
    page = PATH_PAGES.get(request.path)
    if page is None or not isinstance(user, User) or not user.is_authenticated:
        return {"page": None, "views": []}
    pages = ("analytics", "leaderboard") if page == "analytics" else (page,)
    views = service.visible_views(user).filter(page__in=pages)
    # Only what the page takes goes into the form: tracking parameters and the like stay out.
    allowed = service.PAGE_PARAMS[page]
    kept = request.GET.copy()
    for key in list(kept):
        if key not in allowed:
            del kept[key]
    return {
        "page": page,
        "query": kept.urlencode(),
        "views": [service.view_json(view, user) for view in views],
        "can_share": is_owner(user),
    }


def saved_views_context(request: HttpRequest) -> dict[str, Any]:
    return {"saved_views_menu": SimpleLazyObject(lambda: _menu(request))}
