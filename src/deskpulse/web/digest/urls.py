"""The weekly digest's pages under Settings."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from deskpulse.web.digest.views import digest_preview, digest_settings

urlpatterns: list[URLPattern | URLResolver] = [
    path("settings/digest/", digest_settings, name="settings_digest"),
    path("settings/digest/preview/", digest_preview, name="settings_digest_preview"),
]
