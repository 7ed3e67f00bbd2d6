"""The AI targets form: every error names its field, so the page can say which to fix."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms

from deskpulse.web.ai_agents.models import AiTargets
from deskpulse.web.form_errors import ReadableErrors

# (field, lowest, highest) a value may take.
_RANGES: dict[str, tuple[float, float]] = {
    "csat_floor": (1.0, 5.0),
    "csat_target": (1.0, 5.0),
    "escalation_ceiling": (0.0, 100.0),
    "escalation_target": (0.0, 100.0),
    "cost_ceiling": (0.0, 1_000.0),
    "cost_target": (0.0, 1_000.0),
    "human_cost_per_conversation": (0.0, 10_000.0),
    "half_life_days": (0.1, 365.0),
}


class AiTargetsForm(ReadableErrors, forms.ModelForm):  # type: ignore[type-arg]
    errors_about = "Targets"

    class Meta:
        model = AiTargets
        fields: ClassVar[list[str]] = list(_RANGES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (low, high) in _RANGES.items():
            field = self.fields[name]
            field.widget.attrs.update({"min": low, "max": high, "step": "any"})

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        for name, (low, high) in _RANGES.items():
            value = data.get(name)
            if value is not None and not low <= value <= high:
                self.add_error(name, f"must be between {low:g} and {high:g}")
        # An issue threshold past its target would flag numbers that meet the target.
        floor, target = data.get("csat_floor"), data.get("csat_target")
        if floor is not None and target is not None and floor > target:
            self.add_error("csat_floor", "must not be above the CSAT target")
        for ceiling_name, target_name in (
            ("escalation_ceiling", "escalation_target"),
            ("cost_ceiling", "cost_target"),
        ):
            ceiling, goal = data.get(ceiling_name), data.get(target_name)
            if ceiling is not None and goal is not None and ceiling < goal:
                label = self.fields[target_name].label
                self.add_error(ceiling_name, f"must not be below the {str(label).lower()}")
        half_life = data.get("half_life_days")
        if half_life is not None and half_life <= 0:
            self.add_error("half_life_days", "must be more than 0")
        return data
