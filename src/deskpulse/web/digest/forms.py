"""The digest settings form: on or off, teams, day and hour, channels."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms

from deskpulse.notify.digest import WEEKDAYS

WEEKDAY_CHOICES = [(str(index), name) for index, name in enumerate(WEEKDAYS)]
HOUR_CHOICES = [(str(hour), f"{hour:02d}:00") for hour in range(24)]
# IANA names only (no "posixrules" or bare abbreviations a person would not pick).
ZONES = sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC")


class DigestForm(forms.Form):
    enabled = forms.BooleanField(label="Send me the weekly digest", required=False)
    teams = forms.MultipleChoiceField(
        label="Teams",
        required=False,
        help_text="None chosen: the whole organisation.",
        widget=forms.CheckboxSelectMultiple,
    )
    weekday = forms.TypedChoiceField(label="Day", choices=WEEKDAY_CHOICES, coerce=int)
    hour = forms.TypedChoiceField(label="Hour", choices=HOUR_CHOICES, coerce=int)
    timezone = forms.ChoiceField(label="Time zone", required=False)
    by_email = forms.BooleanField(label="By e-mail", required=False)
    to_webhook = forms.BooleanField(label="To the team webhook (Slack)", required=False)

    def __init__(
        self,
        *args: Any,
        teams: dict[str, str],
        personal: bool,
        reporting_timezone: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        zone_field = self.fields["timezone"]
        assert isinstance(zone_field, forms.ChoiceField)
        zone_field.choices = [("", f"The reporting time zone ({reporting_timezone})")] + [
            (name, name) for name in ZONES
        ]
        teams_field = self.fields["teams"]
        assert isinstance(teams_field, forms.MultipleChoiceField)
        teams_field.choices = list(teams.items())
        if personal:
            # An agent's digest is their own numbers, and the shared webhook is no place
            # for them: neither control would do anything, so neither is shown.
            del self.fields["teams"]
            del self.fields["to_webhook"]
            self.fields["enabled"].label = "Send me my own weekly digest"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("enabled") and not (cleaned.get("by_email") or cleaned.get("to_webhook")):
            self.add_error("by_email", "choose at least one way to receive the digest")
        return cleaned
