"""The alert rule form and the notification settings form, used by the pages, the API and
`deskpulse alerts add` alike: a rule is validated the same way wherever it comes from,
and every error names its field and the value that was refused."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.conf import settings as django_settings
from django.contrib.auth.models import User

from deskpulse.metrics.registry import AGENT_ROW_TABLES, EFFECTIVENESS, REGISTRY

# One address rule for the form and the sender: send_email's own check.
from deskpulse.notify.email import EmailInputError
from deskpulse.notify.email import _check_address as check_address
from deskpulse.web.alerts.models import AlertRule, BaselineKind, NotificationSettings
from deskpulse.web.form_errors import ReadableErrors

# Segments are team-level only: a queue, a channel, an inquiry, a customer group or an
# AI agent. Never one person: alerts are for fixing the system, not for watching people.
SEGMENT_DIMENSIONS: dict[str, str] = {
    "channel": "Channel",
    "inbox": "Inbox (queue)",
    "inquiry": "Inquiry type",
    "team": "Team",
    "customer_tier": "Customer tier",
    "language": "Language",
    "ai_agent": "AI agent",
}

# Totals grow with the window's length: 7 days of escalations against 28 days of them
# would always look like a collapse. Rates, means and percentiles compare fairly.
_TOTALS = frozenset({"resolved", "escalations", "csat_responses"})


def alertable_metrics() -> list[str]:
    """Registry metrics with a bad direction, measured over conversations (not per agent
    rows, which belong to coaching), that are not window-length totals."""
    return [
        name
        for name, metric in REGISTRY.items()
        if metric.direction in ("higher", "lower")
        and metric.source.table not in AGENT_ROW_TABLES
        and metric.source.table != EFFECTIVENESS
        and name not in _TOTALS
    ]


def metric_choices() -> list[tuple[str, str]]:
    return [(name, f"{REGISTRY[name].label} ({name})") for name in alertable_metrics()]


_NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "baseline_days": (1, 365),
    "current_days": (1, 90),
    "warning_percent": (0.1, 1000.0),
    "critical_percent": (0.1, 1000.0),
    "min_sample": (0, 1_000_000),
    "pending_for": (0, 168),
}


class AlertRuleForm(ReadableErrors, forms.Form):
    errors_about = "Rule"
    name = forms.CharField(label="Name", max_length=200)
    metric = forms.ChoiceField(
        label="Metric",
        choices=metric_choices,
        help_text="Which way is good comes from the metric's definition.",
    )
    segment_dimension = forms.ChoiceField(
        label="Segment",
        required=False,
        choices=[("", "All conversations"), *SEGMENT_DIMENSIONS.items()],
        help_text="Watch one queue, channel, inquiry, customer group or AI agent.",
    )
    segment_value = forms.CharField(
        label="Segment value",
        required=False,
        max_length=256,
        help_text="e.g. inbox-app-chat, chat, billing.",
    )
    baseline_kind = forms.ChoiceField(
        label="Baseline", choices=BaselineKind.choices, initial=BaselineKind.TRAILING
    )
    baseline_value = forms.FloatField(
        label="Fixed baseline value",
        required=False,
        help_text="In the metric's unit: seconds for times, 0.12 for 12%, 4.2 for CSAT.",
    )
    baseline_days = forms.IntegerField(
        label="Trailing baseline (days)",
        initial=28,
        help_text="The days just before the current window (never overlapping it).",
    )
    current_days = forms.IntegerField(
        label="Current window (days)",
        initial=7,
        help_text="7 holds every weekday once, so a quiet weekend is not a change.",
    )
    warning_percent = forms.FloatField(label="Warning at (%)", initial=10.0)
    critical_percent = forms.FloatField(label="Critical at (%)", initial=25.0)
    min_sample = forms.IntegerField(
        label="Minimum sample",
        initial=30,
        help_text="Fewer answers or conversations in either window and the check says nothing.",
    )
    pending_for = forms.IntegerField(
        label="Pending for (checks)",
        initial=1,
        help_text="Breaching checks held as pending before the next one fires.",
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)
    notify_webhook = forms.BooleanField(label="Notify by webhook", required=False, initial=True)
    notify_email = forms.BooleanField(label="Notify by e-mail", required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        instance: AlertRule | None = None,
        ai_agent_ids: set[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(instance)
        super().__init__(*args, **kwargs)
        self.instance = instance
        # The AI agents the store knows; None when no store was at hand to ask.
        self.ai_agent_ids = ai_agent_ids
        for name, (low, high) in _NUMBER_RANGES.items():
            self.fields[name].widget.attrs.update({"min": low, "max": high})

    def clean_metric(self) -> str:
        metric = str(self.cleaned_data.get("metric") or "")
        if metric not in alertable_metrics():  # pragma: no cover - the choices refuse it first
            raise forms.ValidationError(f"{metric!r} cannot be alerted on")
        return metric

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        for name, (low, high) in _NUMBER_RANGES.items():
            value = data.get(name)
            if value is not None and not (math.isfinite(value) and low <= value <= high):
                self.add_error(name, f"{value:g} is not between {low:g} and {high:g}")
        warning, critical = data.get("warning_percent"), data.get("critical_percent")
        if warning is not None and critical is not None and warning > critical:
            self.add_error(
                "critical_percent", f"{critical:g} is below the warning threshold ({warning:g})"
            )
        dimension = data.get("segment_dimension") or ""
        value = str(data.get("segment_value") or "").strip()
        data["segment_value"] = value
        if dimension and not value:
            self.add_error("segment_value", "'' is empty: name the segment to watch")
        if not dimension and value:
            self.add_error("segment_dimension", f"choose what {value!r} is (inbox, channel, …)")
        known = self.ai_agent_ids
        if dimension == "ai_agent" and value and known is not None and value not in known:
            self.add_error(
                "segment_value", f"{value!r} is not an AI agent (alerts never watch one person)"
            )
        if data.get("baseline_kind") == BaselineKind.FIXED:
            fixed = data.get("baseline_value")
            if fixed is None:
                self.add_error("baseline_value", "'' is empty: a fixed baseline needs a value")
            elif not math.isfinite(fixed):
                self.add_error("baseline_value", f"{fixed!r} is not a finite number")
        return data

    def save(self, user: User | None) -> AlertRule:
        data = self.cleaned_data
        rule = self.instance or AlertRule(created_by=user)
        rule.name = data["name"].strip()
        rule.metric = data["metric"]
        rule.segment_dimension = data.get("segment_dimension") or ""
        rule.segment_value = data["segment_value"] if rule.segment_dimension else ""
        rule.baseline_kind = data["baseline_kind"]
        rule.baseline_value = data.get("baseline_value")
        rule.baseline_days = int(data["baseline_days"])
        rule.current_days = int(data["current_days"])
        rule.warning_percent = float(data["warning_percent"])
        rule.critical_percent = float(data["critical_percent"])
        rule.min_sample = int(data["min_sample"])
        rule.pending_for = int(data["pending_for"])
        rule.enabled = bool(data.get("enabled"))
        rule.notify_webhook = bool(data.get("notify_webhook"))
        rule.notify_email = bool(data.get("notify_email"))
        rule.save()
        return rule


# What a new rule gets for what a request leaves out (the form's initials).
RULE_DEFAULTS: dict[str, Any] = {
    "segment_dimension": "",
    "segment_value": "",
    "baseline_kind": BaselineKind.TRAILING.value,
    "baseline_days": 28,
    "current_days": 7,
    "warning_percent": 10.0,
    "critical_percent": 25.0,
    "min_sample": 30,
    "pending_for": 1,
    "enabled": True,
    "notify_webhook": True,
    "notify_email": True,
}


def initial_of(rule: AlertRule) -> dict[str, Any]:
    """The form's values for a stored rule (the edit page, the API's partial update)."""
    return {
        "name": rule.name,
        "metric": rule.metric,
        "segment_dimension": rule.segment_dimension,
        "segment_value": rule.segment_value,
        "baseline_kind": rule.baseline_kind,
        "baseline_value": rule.baseline_value,
        "baseline_days": rule.baseline_days,
        "current_days": rule.current_days,
        "warning_percent": rule.warning_percent,
        "critical_percent": rule.critical_percent,
        "min_sample": rule.min_sample,
        "pending_for": rule.pending_for,
        "enabled": rule.enabled,
        "notify_webhook": rule.notify_webhook,
        "notify_email": rule.notify_email,
    }


class NotificationSettingsForm(ReadableErrors, forms.Form):
    """Secrets are write-only: left empty they keep their current value; the page shows
    only whether one is set. A tick clears one."""

    errors_about = "Settings"
    dashboard_url = forms.URLField(
        label="deskpulse address",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="How people reach this deskpulse (e.g. https://deskpulse.example.com): "
        "each notification links to its rule's page.",
    )
    webhook_url = forms.URLField(
        label="Webhook URL",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="A Slack incoming webhook or any HTTPS endpoint that takes JSON.",
    )
    webhook_secret = forms.CharField(
        label="Signing secret",
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text="Signs every delivery (X-Deskpulse-Signature). Leave empty to keep it.",
    )
    clear_webhook_secret = forms.BooleanField(label="Remove the signing secret", required=False)
    smtp_host = forms.CharField(label="SMTP host", required=False, max_length=255)
    smtp_port = forms.IntegerField(label="SMTP port", initial=587)
    smtp_starttls = forms.BooleanField(label="Use STARTTLS", required=False, initial=True)
    smtp_username = forms.CharField(label="SMTP username", required=False, max_length=255)
    smtp_password = forms.CharField(
        label="SMTP password",
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep it. Sent only over TLS.",
    )
    clear_smtp_password = forms.BooleanField(label="Remove the SMTP password", required=False)
    from_address = forms.CharField(label="From address", required=False, max_length=255)
    to_addresses = forms.CharField(
        label="To addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or more, separated by commas or new lines.",
    )

    def __init__(self, *args: Any, instance: NotificationSettings, **kwargs: Any) -> None:
        if "initial" not in kwargs:
            kwargs["initial"] = {
                "dashboard_url": instance.dashboard_url,
                "webhook_url": instance.webhook_url,
                "smtp_host": instance.smtp_host,
                "smtp_port": instance.smtp_port,
                "smtp_starttls": instance.smtp_starttls,
                "smtp_username": instance.smtp_username,
                "from_address": instance.from_address,
                "to_addresses": instance.to_addresses,
            }
        super().__init__(*args, **kwargs)
        self.instance = instance
        public = getattr(django_settings, "DESKPULSE_PUBLIC_URL", None)
        if public:
            field = self.fields["dashboard_url"]
            field.widget.attrs["placeholder"] = public
            field.help_text = (
                f"Leave empty to use {public} (DESKPULSE_PUBLIC_URL): "
                "each notification links to its rule's page."
            )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        port = data.get("smtp_port")
        if port is not None and not 1 <= port <= 65535:
            self.add_error("smtp_port", f"{port} is not a port (1-65535)")
        secret_after = (
            ""
            if data.get("clear_webhook_secret")
            else (data.get("webhook_secret") or self.instance.webhook_secret)
        )
        if data.get("webhook_url") and not secret_after:
            self.add_error("webhook_secret", "'' is empty: a webhook needs a signing secret")
        sender = str(data.get("from_address") or "").strip()
        if sender:
            try:
                check_address("from_address", sender)
            except EmailInputError as error:
                self.add_error("from_address", str(error).removeprefix("from_address: "))
        recipients = str(data.get("to_addresses") or "").replace(",", "\n").split()
        for index, address in enumerate(recipients):
            try:
                check_address(f"to_addresses[{index}]", address)
            except EmailInputError as error:
                self.add_error("to_addresses", str(error))
        if data.get("smtp_host") and not (sender and recipients):
            self.add_error("from_address", "e-mail needs a from address and a to address")
        password_after = (
            ""
            if data.get("clear_smtp_password")
            else (data.get("smtp_password") or self.instance.smtp_password)
        )
        if password_after and not data.get("smtp_username"):
            self.add_error("smtp_username", "'' is empty: a password needs a username")
        if data.get("smtp_username") and password_after and not data.get("smtp_starttls"):
            # send_email refuses to send a password in the clear; say so now, not at 3 a.m.
            self.add_error("smtp_starttls", "must be on to send a password (never in the clear)")
        return data

    def save(self, user: User | None) -> NotificationSettings:
        data = self.cleaned_data
        found = self.instance
        found.dashboard_url = (data.get("dashboard_url") or "").rstrip("/")
        found.webhook_url = data.get("webhook_url") or ""
        if data.get("clear_webhook_secret"):
            found.webhook_secret = ""
        elif data.get("webhook_secret"):
            found.webhook_secret = data["webhook_secret"]
        found.smtp_host = (data.get("smtp_host") or "").strip()
        found.smtp_port = int(data.get("smtp_port") or 587)
        found.smtp_starttls = bool(data.get("smtp_starttls"))
        found.smtp_username = (data.get("smtp_username") or "").strip()
        if data.get("clear_smtp_password"):
            found.smtp_password = ""
        elif data.get("smtp_password"):
            found.smtp_password = data["smtp_password"]
        found.from_address = (data.get("from_address") or "").strip()
        found.to_addresses = ", ".join(
            str(data.get("to_addresses") or "").replace(",", "\n").split()
        )
        found.updated_by = user
        found.save()
        return found
