from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "deskpulse.web.alerts"
    # The app was called monitoring: its label stays, so existing installs keep their
    # tables (monitoring_alertrule, ...) and their migration history.
    label = "monitoring"
    verbose_name = "Alerts"
    default_auto_field = "django.db.models.BigAutoField"
