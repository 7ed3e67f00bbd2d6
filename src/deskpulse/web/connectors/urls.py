"""Settings → Connectors (the webhook receivers themselves are connectors/api.py)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from deskpulse.web.connectors import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("settings/connectors/", views.connector_list, name="settings_connectors"),
    path(
        "settings/connectors/<int:pk>/",
        views.connector_signing,
        name="settings_connector_signing",
    ),
]
