"""The install's AI quality targets: one row, edited at /settings/ai-targets/.

Stored in the units a support lead types (percentages as 15, not 0.15) and turned into
the analysis layer's `Targets` (fractions) by `targets()`. No row yet means seed 003's
defaults.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from deskpulse.analysis.ai_quality import Targets

_DEFAULTS = Targets()


class AiTargets(models.Model):
    csat_floor = models.FloatField(
        "CSAT issue below",
        default=_DEFAULTS.csat_floor,
        help_text="A mean CSAT under this is a high-severity issue (1-5).",
    )
    csat_target = models.FloatField(
        "CSAT target", default=_DEFAULTS.csat_target, help_text="What to aim for (1-5)."
    )
    escalation_ceiling = models.FloatField(
        "Escalation issue above (%)",
        default=100 * _DEFAULTS.escalation_ceiling,
        help_text="An escalation rate over this is a medium-severity issue.",
    )
    escalation_target = models.FloatField(
        "Escalation target (%)", default=100 * _DEFAULTS.escalation_target
    )
    cost_ceiling = models.FloatField(
        "Cost per conversation issue above",
        default=_DEFAULTS.cost_ceiling,
        help_text="An AI cost per conversation over this is a low-severity issue.",
    )
    cost_target = models.FloatField("Cost per conversation target", default=_DEFAULTS.cost_target)
    human_cost_per_conversation = models.FloatField(
        "Human cost per conversation",
        default=_DEFAULTS.human_cost_per_conversation,
        help_text="What a conversation costs when a person handles it; the savings estimate "
        "uses it.",
    )
    half_life_days = models.FloatField(
        "CSAT half-life (days)",
        default=_DEFAULTS.half_life_days,
        help_text="In the recency-weighted CSAT, a response this many days old counts half.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        db_table = "deskpulse_ai_targets"
        verbose_name = "AI quality targets"

    def __str__(self) -> str:
        return "AI quality targets"

    @classmethod
    def current(cls) -> AiTargets:
        """The saved targets, or an unsaved row holding the defaults."""
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls()

    def targets(self) -> Targets:
        return Targets(
            csat_floor=self.csat_floor,
            csat_target=self.csat_target,
            escalation_ceiling=self.escalation_ceiling / 100,
            escalation_target=self.escalation_target / 100,
            cost_ceiling=self.cost_ceiling,
            cost_target=self.cost_target,
            human_cost_per_conversation=self.human_cost_per_conversation,
            half_life_days=self.half_life_days,
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        # One row per install: saving always writes row 1.
        self.pk = 1
        super().save(*args, **kwargs)


def current_targets() -> Targets:
    return AiTargets.current().targets()
