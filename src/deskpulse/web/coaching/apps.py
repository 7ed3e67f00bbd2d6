from __future__ import annotations

from django.apps import AppConfig


class CoachingConfig(AppConfig):
    name = "deskpulse.web.coaching"
    label = "coaching"
    verbose_name = "Coaching"
    default_auto_field = "django.db.models.BigAutoField"
