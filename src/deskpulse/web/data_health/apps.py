from __future__ import annotations

from django.apps import AppConfig


class DataHealthConfig(AppConfig):
    name = "deskpulse.web.data_health"
    label = "data_health"
    verbose_name = "Data health"
