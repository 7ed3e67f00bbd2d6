"""The /coaching pages (namespace `coaching`)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from deskpulse.web.coaching import views

app_name = "coaching"

urlpatterns: list[URLPattern | URLResolver] = [
    path("coaching", RedirectView.as_view(url="/coaching/", query_string=True)),
    path("coaching/", views.plan_list, name="mine"),
    path("coaching/new/", views.wizard_start, name="new"),
    path("coaching/new/<slug:step>/", views.wizard_step, name="step"),
    path("coaching/team/", views.team, name="team"),
    path("coaching/<int:plan_id>/", views.plan_detail, name="plan"),
    path(
        "coaching/<int:plan_id>/actions/<int:action_id>/",
        views.plan_action,
        name="action",
    ),
]
