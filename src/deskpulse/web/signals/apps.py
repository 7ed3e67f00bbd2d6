from __future__ import annotations

from django.apps import AppConfig


class SignalsConfig(AppConfig):
    name = "deskpulse.web.signals"
    label = "signals"
    verbose_name = "Friction signals"
