"""Sign-in, sign-out and the owners' settings pages (users, teams, API tokens, business hours).

Included at the site root, so the paths here are the full paths.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from deskpulse.web.accounts import business_hours_views, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("settings/users/", views.users_page, name="settings_users"),
    path("settings/users/<int:pk>/", views.user_update, name="settings_user_update"),
    path("settings/users/<int:pk>/active/", views.user_active, name="settings_user_active"),
    path("settings/users/<int:pk>/password/", views.user_password, name="settings_user_password"),
    path("settings/users/<int:pk>/unlock/", views.user_unlock, name="settings_user_unlock"),
    path("settings/teams/", views.teams_page, name="settings_teams"),
    path("settings/tokens/", views.tokens_page, name="settings_tokens"),
    path("settings/tokens/<int:pk>/revoke/", views.token_revoke, name="settings_token_revoke"),
    path(
        "settings/business-hours/",
        business_hours_views.business_hours_page,
        name="settings_business_hours",
    ),
]
