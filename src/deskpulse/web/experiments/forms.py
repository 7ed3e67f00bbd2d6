"""The experiment definition form, used by the pages, the API and `deskpulse experiments
define` alike, so a definition is validated the same way wherever it comes from. Every
error names its field."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.models import User

from deskpulse.analysis.experiments import EXPERIMENT_METRICS, KEY_PATTERN, metric_choices
from deskpulse.web.experiments.models import Experiment
from deskpulse.web.form_errors import ReadableErrors

# Paths a key would shadow: /experiments/new/ and /api/v1/experiments/metrics.
RESERVED_KEYS = frozenset({"new", "metrics"})
# (field, lowest, highest) a number may take.
_RANGES: dict[str, tuple[float, float]] = {
    # Above 0.2 a "significant" result is too often noise to act on.
    "alpha": (0.001, 0.2),
    "mde_percent": (0.1, 100.0),
    "treatment_percent": (1.0, 99.0),
}


class ExperimentForm(ReadableErrors, forms.Form):
    errors_about = "Experiment"
    wide_fields = ("hypothesis", "guardrail_metrics")
    key = forms.CharField(
        label="Key",
        max_length=100,
        help_text="The experiment value your experiment.exposed events carry.",
    )
    name = forms.CharField(label="Name", max_length=200)
    hypothesis = forms.CharField(
        label="Hypothesis",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you expect the treatment to change, and why.",
    )
    control = forms.CharField(label="Control variant", max_length=256, initial="control")
    treatment = forms.CharField(label="Treatment variant", max_length=256)
    primary_metric = forms.ChoiceField(
        label="Primary metric",
        choices=metric_choices,
        help_text="The one metric the decision rests on.",
    )
    guardrail_metrics = forms.MultipleChoiceField(
        label="Guardrail metrics",
        choices=metric_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Must not get significantly worse. Each one costs the primary a little "
        "power (Holm), so pick only what could stop a launch.",
    )
    start_date = forms.DateField(
        label="Start date",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="First day (YYYY-MM-DD).",
    )
    end_date = forms.DateField(
        label="End date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Last day; empty while open-ended.",
    )
    alpha = forms.FloatField(
        label="Alpha", initial=0.05, help_text="Significance level; 0.05 gives 95% intervals."
    )
    mde_percent = forms.FloatField(
        label="Minimum detectable lift (%)",
        initial=5.0,
        help_text="The smallest relative change of the primary metric worth acting on; "
        "sets the sample to wait for.",
    )
    treatment_percent = forms.FloatField(
        label="Planned treatment share (%)",
        initial=50.0,
        help_text="Share of units the assignment sends to the treatment (the SRM check "
        "compares against it).",
    )
    sequential = forms.BooleanField(
        label="Always-valid (sequential) intervals",
        required=False,
        help_text="Safe to read every day and stop early, at the price of wider intervals.",
    )
    mann_whitney = forms.BooleanField(
        label="Mann-Whitney for mean metrics",
        required=False,
        help_text="A rank test instead of Welch's t-test, for skewed numbers such as cost.",
    )

    def __init__(self, *args: Any, instance: Experiment | None = None, **kwargs: Any) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(instance)
        super().__init__(*args, **kwargs)
        self.instance = instance
        if instance is not None:
            # The key is in URLs and in the events: it cannot change after creation.
            self.fields["key"].disabled = True
        for name, (low, high) in _RANGES.items():
            self.fields[name].widget.attrs.update({"min": low, "max": high, "step": "any"})

    def clean_key(self) -> str:
        key = str(self.cleaned_data.get("key") or "").strip()
        if self.instance is not None:
            return str(self.instance.key)
        if not KEY_PATTERN.match(key):
            raise forms.ValidationError(
                "use letters, digits, '.', '_' and '-' (up to 100), starting with a letter or digit"
            )
        if key in RESERVED_KEYS:
            raise forms.ValidationError(f"{key!r} is reserved; choose another key")
        if Experiment.objects.filter(key=key).exists():
            raise forms.ValidationError(f"an experiment with the key {key!r} exists already")
        return key

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        for name, (low, high) in _RANGES.items():
            value = data.get(name)
            if value is not None and not low <= value <= high:
                self.add_error(name, f"must be between {low:g} and {high:g}")
        control = str(data.get("control") or "").strip()
        treatment = str(data.get("treatment") or "").strip()
        if control and treatment and control == treatment:
            self.add_error("treatment", "must differ from the control variant")
        primary = data.get("primary_metric")
        guardrails = list(data.get("guardrail_metrics") or [])
        if primary and primary in guardrails:
            self.add_error("guardrail_metrics", "the primary metric cannot be a guardrail too")
        start: date | None = data.get("start_date")
        end: date | None = data.get("end_date")
        if start is not None and end is not None and end < start:
            self.add_error("end_date", "must not be before the start date")
        return data

    def save(self, user: User | None) -> Experiment:
        data = self.cleaned_data
        experiment = self.instance or Experiment(key=data["key"], created_by=user)
        treatment_share = float(data["treatment_percent"])
        # Keep the stored metric order the registry's, whatever order they were ticked in.
        chosen = set(data.get("guardrail_metrics") or [])
        experiment.name = data["name"].strip()
        experiment.hypothesis = (data.get("hypothesis") or "").strip()
        experiment.variants = [data["control"].strip(), data["treatment"].strip()]
        experiment.planned_split = [100.0 - treatment_share, treatment_share]
        experiment.primary_metric = data["primary_metric"]
        experiment.guardrail_metrics = [name for name in EXPERIMENT_METRICS if name in chosen]
        experiment.start_date = data["start_date"]
        experiment.end_date = data.get("end_date")
        experiment.alpha = float(data["alpha"])
        experiment.mde_percent = float(data["mde_percent"])
        experiment.sequential = bool(data.get("sequential"))
        experiment.mann_whitney = bool(data.get("mann_whitney"))
        experiment.updated_by = user
        experiment.save()
        return experiment


def initial_of(experiment: Experiment) -> dict[str, Any]:
    """The form's values for a stored experiment (the edit page, the API's partial update)."""
    return {
        "key": experiment.key,
        "name": experiment.name,
        "hypothesis": experiment.hypothesis,
        "control": experiment.control,
        "treatment": experiment.treatment,
        "primary_metric": experiment.primary_metric,
        "guardrail_metrics": list(experiment.guardrail_metrics),
        "start_date": experiment.start_date,
        "end_date": experiment.end_date,
        "alpha": experiment.alpha,
        "mde_percent": experiment.mde_percent,
        "treatment_percent": round(experiment.treatment_percent, 6),
        "sequential": experiment.sequential,
        "mann_whitney": experiment.mann_whitney,
    }
