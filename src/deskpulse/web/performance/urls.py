"""The /performance pages (namespace `performance`)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from deskpulse.web.performance import views

app_name = "performance"

urlpatterns: list[URLPattern | URLResolver] = [
    path("performance", RedirectView.as_view(url="/performance/", query_string=True)),
    path("performance/", views.home, name="home"),
    path("performance/agents/<str:agent_id>/", views.agent_page, name="agent"),
    # `path`: an inquiry's name may hold a slash ("Returns / exchanges").
    path(
        "performance/agents/<str:agent_id>/inquiries/<path:inquiry>/",
        views.inquiry_page,
        name="inquiry",
    ),
]
