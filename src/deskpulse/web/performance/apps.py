from __future__ import annotations

from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    name = "deskpulse.web.performance"
    label = "performance"
    verbose_name = "Performance by inquiry"
