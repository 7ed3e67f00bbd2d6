"""Experiment definitions as stored in the app database.

The events say who saw which variant (`experiment.exposed`); a definition says what the
experiment compares and how to judge it. Its `key` is the events' `experiment` value.
Variants are a list, control first, with one planned share each, so an experiment with
several treatments needs no schema change; today the statistics compare two.
Percentages are stored as a support lead types them (5, not 0.05).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from deskpulse.analysis.experiments import Definition


class Experiment(models.Model):
    key = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    hypothesis = models.TextField(blank=True, default="")
    # [control, treatment, ...] and the planned share of each, in percent.
    variants = models.JSONField(default=list)
    planned_split = models.JSONField(default=list)
    primary_metric = models.CharField(max_length=64)
    guardrail_metrics = models.JSONField(default=list, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    alpha = models.FloatField(default=0.05)
    mde_percent = models.FloatField(default=5.0)
    sequential = models.BooleanField(default=False)
    mann_whitney = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "deskpulse_experiment"
        ordering = ("-start_date", "key")

    def __str__(self) -> str:
        return self.key

    @property
    def control(self) -> str:
        return str(self.variants[0]) if self.variants else ""

    @property
    def treatment(self) -> str:
        return str(self.variants[1]) if len(self.variants) > 1 else ""

    @property
    def treatment_percent(self) -> float:
        split = self.planned_split or [50.0, 50.0]
        return float(split[1]) / float(sum(split)) * 100

    def definition(self) -> Definition:
        """What the analysis layer needs to assign, measure and decide."""
        split = self.planned_split or [50.0] * len(self.variants)
        total = float(sum(split))
        return Definition(
            key=self.key,
            variants=tuple(str(v) for v in self.variants),
            primary=self.primary_metric,
            start=self.start_date,
            end=self.end_date,
            guardrails=tuple(str(g) for g in self.guardrail_metrics),
            alpha=self.alpha,
            mde_relative=self.mde_percent / 100,
            planned_split=tuple(float(s) / total for s in split),
            sequential=self.sequential,
            mann_whitney=self.mann_whitney,
            name=self.name,
            hypothesis=self.hypothesis,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "hypothesis": self.hypothesis,
            "control": self.control,
            "treatment": self.treatment,
            "variants": list(self.variants),
            "planned_split_percent": [float(s) for s in self.planned_split],
            "primary_metric": self.primary_metric,
            "guardrail_metrics": list(self.guardrail_metrics),
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "alpha": self.alpha,
            "mde_percent": self.mde_percent,
            "sequential": self.sequential,
            "mann_whitney": self.mann_whitney,
        }
