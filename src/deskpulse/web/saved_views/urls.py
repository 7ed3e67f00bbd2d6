"""Saved views: the list, and the menu's actions."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from deskpulse.web.saved_views import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("saved-views/", views.view_list, name="saved_views"),
    path("saved-views/save/", views.save_view, name="saved_views_save"),
    path("saved-views/<int:view_id>/", views.open_view, name="saved_views_open"),
    path("saved-views/<int:view_id>/change/", views.change_view, name="saved_views_change"),
]
