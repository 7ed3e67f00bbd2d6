"""The /ai-agents pages and their settings page (included at the site root)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from deskpulse.web.ai_agents import views

app_name = "ai_agents"

urlpatterns: list[URLPattern | URLResolver] = [
    path("ai-agents", RedirectView.as_view(url="/ai-agents/", query_string=True)),
    path("ai-agents/", views.overview, name="overview"),
    # Before <agent_id>: "quality" is the report, not an AI agent.
    path("ai-agents/quality/", views.quality_page, name="quality"),
    path("ai-agents/quality.csv", views.quality_export, name="quality_csv"),
    path("ai-agents/<str:agent_id>/", views.agent_page, name="agent"),
    path("settings/ai-targets/", views.targets_page, name="targets"),
]
