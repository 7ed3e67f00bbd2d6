"""The friction signals' pages, beside the dashboard they come from (/analytics/signals/)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from deskpulse.web.signals.views import signals_page, signals_panel

urlpatterns: list[URLPattern | URLResolver] = [
    path("analytics/signals/", signals_page, name="signals"),
    path("analytics/signals/panel/", signals_panel, name="signals-panel"),
]
