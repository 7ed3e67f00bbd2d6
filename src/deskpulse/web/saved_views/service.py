"""Saving, listing and opening saved views, and who may touch which.

A saved view keeps a page's query string, checked against the parameters that page
takes: the period (`period`, `from`, `to`, `as_of`, `time`) and its filters. Anything
else is refused naming the parameter, never stored, so a saved view can only ever open
one of three known pages with parameters they read.

One helper opens a view for a person (`view_for_user`): their own views, and views an
owner shared. Anyone else's private view is "not found" (404), its existence not
revealed; only the person who saved a view may rename or delete it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from deskpulse import clock
from deskpulse.errors import DeskpulseError, NotFoundError
from deskpulse.web.api.viewer import is_owner
from deskpulse.web.params import ParameterError, read_window
from deskpulse.web.runtime import install_settings
from deskpulse.web.saved_views.models import SavedPage, SavedView

PERIOD_PARAMS = ("period", "from", "to", "as_of", "time")
FILTER_PARAMS = ("team", "channel", "inbox", "inquiry", "customer_tier", "language")
# /analytics/ reads the leaderboard's sort too (the leaderboard is its last card), so a
# dashboard view and a leaderboard view keep the same parameters and differ in where
# they open.
PAGE_PARAMS: dict[str, tuple[str, ...]] = {
    SavedPage.ANALYTICS: (*PERIOD_PARAMS, *FILTER_PARAMS, "sort", "order"),
    SavedPage.CONVERSATIONS: (
        *PERIOD_PARAMS,
        *FILTER_PARAMS,
        "status",
        "agent",
        "metric",
        "escalated",
        "ai_handled",
        "max_csat",
        "q",
    ),
    SavedPage.LEADERBOARD: (*PERIOD_PARAMS, *FILTER_PARAMS, "sort", "order"),
}
PAGE_PATHS: dict[str, str] = {
    SavedPage.ANALYTICS: "/analytics/",
    SavedPage.CONVERSATIONS: "/analytics/conversations/",
    SavedPage.LEADERBOARD: "/analytics/",
}
# The leaderboard is the last card of /analytics/: its view opens there.
PAGE_ANCHORS: dict[str, str] = {SavedPage.LEADERBOARD: "#leaderboard"}
MAX_VALUE_CHARS = 200
MAX_NAME_CHARS = 100
MAX_VIEWS_PER_PERSON = 100


class SavedViewError(DeskpulseError, ValueError):
    """A saved view that cannot be stored as asked; `field` names the culprit."""

    code = "invalid_saved_view"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


class SavedViewNotFoundError(NotFoundError):
    """No saved view with this id that this person may open."""

    def __init__(self) -> None:
        super().__init__("no such saved view")


def _printable(field: str, value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise SavedViewError(field, "control characters (such as NUL) are not allowed")
    return value


def clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise SavedViewError("name", "give the view a name")
    text = " ".join(_printable("name", name).split())
    if len(text) > MAX_NAME_CHARS:
        raise SavedViewError("name", f"at most {MAX_NAME_CHARS} characters")
    return text


def clean_page(page: object) -> str:
    if page not in PAGE_PARAMS:
        known = ", ".join(PAGE_PARAMS)
        raise SavedViewError("page", f"{page!r} is not a page that can be saved ({known})")
    return str(page)


def clean_query(page: str, query: object) -> str:
    """The query string re-encoded with only the page's parameters, or SavedViewError
    naming the first it does not take. The period is read as the page would read it."""
    if not isinstance(query, str):
        raise SavedViewError("query", "must be a query string")
    text = query.lstrip("?")
    allowed = PAGE_PARAMS[page]
    pairs: list[tuple[str, str]] = []
    for key, value in parse_qsl(text, keep_blank_values=False):
        if key not in allowed:
            raise SavedViewError(
                "query", f"{key!r} is not a parameter of this page; it takes {', '.join(allowed)}"
            )
        _printable(key, value)
        if len(value) > MAX_VALUE_CHARS:
            raise SavedViewError(key, f"at most {MAX_VALUE_CHARS} characters")
        pairs.append((key, value.strip()))
    values: Mapping[str, str] = dict(pairs)
    if values.get("period") not in (None, "7d", "14d", "30d", "90d", "custom"):
        raise SavedViewError("period", f"{values['period']!r} is not 7d, 14d, 30d, 90d or custom")
    try:
        read_window(values, install_settings().tz)
    except ParameterError as error:
        raise SavedViewError(error.field or "query", error.message) from None
    return urlencode(pairs)


def visible_views(user: User) -> QuerySet[SavedView]:
    """The views `user` may open: their own and the shared ones."""
    return SavedView.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def view_for_user(user: User, view_id: int | str) -> SavedView:
    """The view, when `user` may open it; otherwise not found (404, never 403)."""
    try:
        pk = int(view_id)
    except (TypeError, ValueError):
        raise SavedViewNotFoundError() from None
    found = visible_views(user).filter(pk=pk).first()
    if found is None:
        raise SavedViewNotFoundError()
    return found


def own_view(user: User, view_id: int | str) -> SavedView:
    """The view, when `user` saved it (to rename, share or delete); otherwise 404."""
    found = view_for_user(user, view_id)
    if found.owner_id != user.pk:
        raise SavedViewNotFoundError()
    return found


def _check_share(user: User, shared: object) -> bool:
    if not isinstance(shared, bool):
        raise SavedViewError("shared", "true or false")
    if shared and not is_owner(user):
        raise SavedViewError("shared", "only owners can share a view with everyone")
    return shared


def create_view(
    user: User, *, name: object, page: object, query: object, shared: object = False
) -> SavedView:
    clean = clean_name(name)
    page_name = clean_page(page)
    query_text = clean_query(page_name, query)
    share = _check_share(user, shared)
    if SavedView.objects.filter(owner=user).count() >= MAX_VIEWS_PER_PERSON:
        raise SavedViewError("name", f"at most {MAX_VIEWS_PER_PERSON} saved views each")
    try:
        with transaction.atomic():
            return SavedView.objects.create(
                owner=user, name=clean, page=page_name, query=query_text, shared=share
            )
    except IntegrityError:
        raise SavedViewError("name", f"you already have a view named {clean!r}") from None


def update_view(
    user: User, view_id: int | str, *, name: object = None, shared: object = None
) -> SavedView:
    view = own_view(user, view_id)
    if name is not None:
        view.name = clean_name(name)
    if shared is not None:
        view.shared = _check_share(user, shared)
    view.updated_at = clock.now()
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError:
        raise SavedViewError("name", f"you already have a view named {view.name!r}") from None
    return view


def delete_view(user: User, view_id: int | str) -> None:
    own_view(user, view_id).delete()


def view_url(view: SavedView) -> str:
    path = PAGE_PATHS[view.page]
    return f"{path}{'?' + view.query if view.query else ''}{PAGE_ANCHORS.get(view.page, '')}"


def view_json(view: SavedView, user: User) -> dict[str, object]:
    return {
        "id": view.pk,
        "name": view.name,
        "page": view.page,
        "query": view.query,
        "url": view_url(view),
        "shared": view.shared,
        "mine": view.owner_id == user.pk,
        "owner": view.owner.email or view.owner.username,
    }
