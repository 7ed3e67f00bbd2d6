"""The saved-views menu's actions: save, open, rename, share, delete (pages)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from deskpulse.web.access import member_required
from deskpulse.web.api.problems import errors_as_page
from deskpulse.web.api.viewer import is_owner
from deskpulse.web.saved_views import service


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _back(request: HttpRequest, fallback: str = "/saved-views/") -> HttpResponseRedirect:
    target = request.POST.get("next") or fallback
    if not url_has_allowed_host_and_scheme(target, allowed_hosts=None) or not target.startswith(
        "/"
    ):
        target = fallback
    return HttpResponseRedirect(target)


@member_required
@errors_as_page
@require_http_methods(["GET"])
def view_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    views = [service.view_json(view, user) for view in service.visible_views(user)]
    return render(
        request,
        "saved_views/list.html",
        {"nav": "analytics", "views": views, "can_share": is_owner(user)},
    )


@member_required
@errors_as_page
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    view = service.create_view(
        user,
        name=request.POST.get("name", ""),
        page=request.POST.get("page", ""),
        query=request.POST.get("query", ""),
        shared=request.POST.get("shared") == "on",
    )
    messages.success(request, f"Saved the view {view.name!r}.")
    return HttpResponseRedirect(service.view_url(view))


@member_required
@errors_as_page
@require_http_methods(["GET"])
def open_view(request: HttpRequest, view_id: int) -> HttpResponse:
    return HttpResponseRedirect(service.view_url(service.view_for_user(_user(request), view_id)))


@member_required
@errors_as_page
@require_POST
def change_view(request: HttpRequest, view_id: int) -> HttpResponse:
    user = _user(request)
    action = request.POST.get("action", "")
    if action == "delete":
        service.delete_view(user, view_id)
        messages.success(request, "Deleted the view.")
    elif action == "rename":
        service.update_view(user, view_id, name=request.POST.get("name", ""))
        messages.success(request, "Renamed the view.")
    elif action in ("share", "unshare"):
        service.update_view(user, view_id, shared=action == "share")
        messages.success(request, "Shared the view." if action == "share" else "Stopped sharing.")
    else:
        raise service.SavedViewError(
            "action", f"{action!r} is not rename, share, unshare or delete"
        )
    return _back(request)
