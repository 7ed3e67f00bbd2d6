"""The /alerts pages and /settings/notifications/ (namespace `alerts`)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from deskpulse.web.alerts import views

app_name = "alerts"

urlpatterns: list[URLPattern | URLResolver] = [
    path("alerts", RedirectView.as_view(url="/alerts/", query_string=True)),
    path("alerts/", views.rule_list, name="list"),
    path("alerts/new/", views.rule_new, name="new"),
    path("alerts/history/", views.history, name="history"),
    path("alerts/check/", views.check_now, name="check"),
    path("alerts/<int:rule_id>/", views.rule_detail, name="detail"),
    path("alerts/<int:rule_id>/edit/", views.rule_edit, name="edit"),
    path("alerts/<int:rule_id>/delete/", views.rule_delete, name="delete"),
    path("settings/notifications/", views.notification_settings, name="notifications"),
]
