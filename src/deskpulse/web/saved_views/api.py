"""Saved views' JSON API, under /api/v1/saved-views.

- GET /saved-views: the views the person may open (their own and the shared ones);
  `?page=` keeps one page's.
- POST /saved-views: save one (`name`, `page`, `query`, `shared` for owners).
- PATCH /saved-views/{id}: rename or (owners) share/unshare one's own view.
- DELETE /saved-views/{id}: delete one's own view.

Any role may save views. Another person's private view answers 404 on every verb, and
a shared view is read-only to everyone but the person who saved it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query as NinjaQuery
from ninja import Router, Schema, Status

from deskpulse.web.api.auth import READ, WRITE, user_of, viewer_of
from deskpulse.web.api.contract import errors
from deskpulse.web.saved_views import service

router = Router(tags=["saved views"])


class ListParams(Schema):
    page: str | None = None


class SavedViewIn(Schema):
    name: str | None = None
    page: str | None = None
    query: str | None = None
    shared: bool | None = None


def _member(request: HttpRequest) -> Any:
    viewer_of(request)  # an account without a role: 403 no_profile
    return user_of(request)


@router.get("/saved-views", auth=READ, summary="The saved views you may open")
def list_views(request: HttpRequest, params: NinjaQuery[ListParams]) -> dict[str, Any]:
    user = _member(request)
    views = service.visible_views(user)
    if params.page is not None:
        views = views.filter(page=service.clean_page(params.page))
    return {"views": [service.view_json(view, user) for view in views]}


@router.post(
    "/saved-views",
    auth=WRITE,
    response={201: dict[str, Any]},
    summary="Save the current filters and period of a page",
    openapi_extra=errors(400, 401, 403),
)
def create_view(request: HttpRequest, payload: SavedViewIn) -> Status[dict[str, Any]]:
    user = _member(request)
    view = service.create_view(
        user,
        name=payload.name,
        page=payload.page,
        query=payload.query or "",
        shared=bool(payload.shared),
    )
    return Status(201, {"view": service.view_json(view, user)})


@router.get("/saved-views/{view_id}", auth=READ, summary="One saved view")
def get_view(request: HttpRequest, view_id: int) -> dict[str, Any]:
    user = _member(request)
    return {"view": service.view_json(service.view_for_user(user, view_id), user)}


@router.patch("/saved-views/{view_id}", auth=WRITE, summary="Rename or share your own view")
def update_view(request: HttpRequest, view_id: int, payload: SavedViewIn) -> dict[str, Any]:
    user = _member(request)
    if payload.page is not None or payload.query is not None:
        raise service.SavedViewError("query", "save a new view to change its page or filters")
    view = service.update_view(user, view_id, name=payload.name, shared=payload.shared)
    return {"view": service.view_json(view, user)}


@router.delete(
    "/saved-views/{view_id}", auth=WRITE, response={204: None}, summary="Delete your own view"
)
def delete_view(request: HttpRequest, view_id: int) -> Status[None]:
    user = _member(request)
    service.delete_view(user, view_id)
    return Status(204, None)
