from __future__ import annotations

from django.apps import AppConfig


class ModelsConfig(AppConfig):
    name = "deskpulse.web.models"
    label = "models"
    verbose_name = "Models"
