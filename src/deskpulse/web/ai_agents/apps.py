from __future__ import annotations

from django.apps import AppConfig


class AiAgentsConfig(AppConfig):
    name = "deskpulse.web.ai_agents"
    label = "ai_agents"
    verbose_name = "AI agents"
    default_auto_field = "django.db.models.BigAutoField"
