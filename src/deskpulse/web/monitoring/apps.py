from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "deskpulse.web.monitoring"
    label = "monitoring"
    verbose_name = "Regression monitoring"
    default_auto_field = "django.db.models.BigAutoField"
