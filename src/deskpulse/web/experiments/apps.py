from __future__ import annotations

from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "deskpulse.web.experiments"
    label = "experiments"
    verbose_name = "Experiments"
    default_auto_field = "django.db.models.BigAutoField"
