"""The /analytics pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from django.views.generic import RedirectView

from deskpulse.web.analytics import teams, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("analytics", RedirectView.as_view(url="/analytics/", query_string=True)),
    path("analytics/", views.analytics, name="analytics"),
    path("analytics/leaderboard.csv", views.leaderboard_export, name="leaderboard-csv"),
    path("analytics/teams/", teams.teams_page, name="teams"),
    path("analytics/teams.csv", teams.teams_export, name="teams-csv"),
    path("analytics/agents/<str:agent_id>/", views.agent_page, name="agent"),
    path(
        "analytics/agents/<str:agent_id>/one-on-one/",
        views.one_on_one_page,
        name="one-on-one",
    ),
    path("analytics/conversations/", views.conversations_page, name="conversations"),
    path("analytics/conversations.csv", views.conversations_export, name="conversations-csv"),
    path(
        "analytics/conversations/<str:conversation_id>/",
        views.conversation_page,
        name="conversation",
    ),
]
