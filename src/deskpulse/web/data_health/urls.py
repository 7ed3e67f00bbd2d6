"""Settings → Data health (its JSON twin is data_health/api.py)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from deskpulse.web.data_health import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("settings/data-health/", views.data_health_page, name="settings_data_health"),
]
