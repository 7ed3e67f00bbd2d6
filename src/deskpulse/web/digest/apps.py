from __future__ import annotations

from django.apps import AppConfig


class DigestConfig(AppConfig):
    name = "deskpulse.web.digest"
    label = "digest"
    verbose_name = "Weekly digest"
