"""Alert rules, their stored state, their history and where notifications go.

A rule is stored in the units a support lead types (percentages as 10, not 0.10) and
becomes the pure core's `Rule` (deskpulse.analysis.alerts) through `core_rule()`.
The metric's direction is never stored: it is read from the one metric registry, so a
rule cannot disagree with every other page about which way is good.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from deskpulse.analysis.alerts import (
    AlertState,
    Baseline,
    FixedBaseline,
    Rule,
    TrailingBaseline,
    ValueFormat,
    direction_from_registry,
)
from deskpulse.metrics.registry import REGISTRY

# Registry units -> how a value prints in a message (deskpulse.analysis.alerts.format_value).
_FORMATS: dict[str, ValueFormat] = {
    "ratio": "percent",
    "seconds": "duration",
    "score": "score",
    "currency": "currency",
}


class BaselineKind(models.TextChoices):
    TRAILING = "trailing", "Trailing (the days before the current window)"
    FIXED = "fixed", "Fixed value"


class AlertRule(models.Model):
    name = models.CharField(max_length=200)
    metric = models.CharField(max_length=64)
    # Empty dimension: all conversations. Dimensions are team-level only (forms.py).
    segment_dimension = models.CharField(max_length=32, blank=True, default="")
    segment_value = models.CharField(max_length=256, blank=True, default="")
    baseline_kind = models.CharField(
        max_length=16, choices=BaselineKind.choices, default=BaselineKind.TRAILING
    )
    baseline_value = models.FloatField(null=True, blank=True)
    baseline_days = models.PositiveIntegerField(default=28)
    current_days = models.PositiveIntegerField(default=7)
    warning_percent = models.FloatField(default=10.0)
    critical_percent = models.FloatField(default=25.0)
    min_sample = models.PositiveIntegerField(default=30)
    pending_for = models.PositiveIntegerField(default=1)
    enabled = models.BooleanField(default=True)
    notify_webhook = models.BooleanField(default=True)
    notify_email = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "deskpulse_alert_rule"
        ordering = ("name", "pk")

    def __str__(self) -> str:
        return self.name

    @property
    def rule_id(self) -> str:
        # Part of every de-dup key: the primary key never changes and is never reused.
        return f"rule-{self.pk}"

    @property
    def segment(self) -> dict[str, str]:
        if not self.segment_dimension:
            return {}
        return {self.segment_dimension: self.segment_value}

    @property
    def segment_label(self) -> str:
        if not self.segment_dimension:
            return "all conversations"
        return f"{self.segment_dimension} = {self.segment_value}"

    @property
    def metric_label(self) -> str:
        metric = REGISTRY.get(self.metric)
        return metric.label if metric is not None else self.metric

    def baseline(self) -> Baseline:
        if self.baseline_kind == BaselineKind.FIXED:
            return FixedBaseline(float(self.baseline_value or 0.0))
        return TrailingBaseline(days=self.baseline_days)

    def core_rule(self) -> Rule:
        metric = REGISTRY[self.metric]
        return Rule(
            id=self.rule_id,
            metric=self.metric,
            direction=direction_from_registry(metric.direction),
            baseline=self.baseline(),
            segment=self.segment,
            current_days=self.current_days,
            warning=self.warning_percent / 100,
            critical=self.critical_percent / 100,
            min_sample=self.min_sample,
            pending_for=self.pending_for,
            label=self.name,
            value_format=_FORMATS.get(metric.unit, "number"),
        )


class AlertStateRecord(models.Model):
    """The core's `AlertState` between checks, plus the latest reading for the pages.

    One row per rule and segment: editing a rule's segment starts a fresh state, so an
    alert about one queue never resolves because another queue is fine.
    """

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    segment_key = models.CharField(max_length=600)
    state = models.CharField(max_length=16, default="ok")
    severity = models.CharField(max_length=16, default="none")
    started_at = models.DateTimeField(null=True, blank=True)
    firing_since = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_evaluated = models.DateTimeField()
    breaches = models.PositiveIntegerField(default=0)
    notified_severity = models.CharField(max_length=16, default="none")
    # Bumped on every save: a second worker doing the same check loses the race
    # (its conditional update matches no row) instead of writing history twice.
    version = models.PositiveIntegerField(default=0)
    # The latest check's reading, shown on /alerts/ (None: no data).
    current = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0)
    baseline = models.FloatField(null=True, blank=True)
    baseline_n = models.PositiveIntegerField(null=True, blank=True)
    deviation = models.FloatField(null=True, blank=True)
    bad_deviation = models.FloatField(null=True, blank=True)
    improvement = models.BooleanField(default=False)
    conclusive = models.BooleanField(default=True)
    reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "deskpulse_alert_state"
        constraints = (
            models.UniqueConstraint(fields=("rule", "segment_key"), name="one_state_per_segment"),
        )

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.segment_key}: {self.state}"

    def as_core(self) -> AlertState:
        return AlertState(
            rule_id=self.rule.rule_id,
            segment_key=self.segment_key,
            state=self.state,  # type: ignore[arg-type]
            severity=self.severity,  # type: ignore[arg-type]
            started_at=self.started_at,
            firing_since=self.firing_since,
            resolved_at=self.resolved_at,
            last_evaluated=self.last_evaluated,
            breaches=self.breaches,
            notified_severity=self.notified_severity,  # type: ignore[arg-type]
        )

    def take(self, state: AlertState) -> None:
        self.state = state.state
        self.severity = state.severity
        self.started_at = state.started_at
        self.firing_since = state.firing_since
        self.resolved_at = state.resolved_at
        self.last_evaluated = state.last_evaluated
        self.breaches = state.breaches
        self.notified_severity = state.notified_severity


class EventKind(models.TextChoices):
    PENDING = "pending", "Pending"
    FIRING = "firing", "Firing"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"
    OK = "ok", "Back to OK"


class Delivery(models.TextChoices):
    """What happened to one channel of one history event."""

    NONE = "", "-"  # pending and back-to-ok events notify nobody
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (will retry)"
    GAVE_UP = "gave_up", "Failed"
    NOT_CONFIGURED = "not_configured", "Not configured"
    OFF_FOR_RULE = "off", "Off for this rule"
    DUPLICATE = "duplicate", "Skipped: already sent (de-duplicated)"


class AlertEvent(models.Model):
    """One state change of one rule. Kept when the rule is deleted (the rule's name,
    metric and segment are copied), so the history page never loses its past."""

    rule = models.ForeignKey(
        AlertRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    rule_name = models.CharField(max_length=200)
    metric = models.CharField(max_length=64)
    segment_label = models.CharField(max_length=600)
    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    previous_state = models.CharField(max_length=16)
    severity = models.CharField(max_length=16)
    current = models.FloatField(null=True, blank=True)
    baseline = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0)
    baseline_n = models.PositiveIntegerField(null=True, blank=True)
    deviation = models.FloatField(null=True, blank=True)
    value_format = models.CharField(max_length=16, default="number")
    reason = models.CharField(max_length=500)
    episode_key = models.CharField(max_length=700, blank=True, default="")
    dedup_key = models.CharField(max_length=720, blank=True, default="")
    # The message as built at the check, so a retry sends exactly what the first
    # attempt did: {"webhook": {...Slack JSON...}, "email": {"subject", "body"}}.
    message = models.JSONField(default=dict, blank=True)
    webhook = models.CharField(max_length=16, choices=Delivery.choices, blank=True, default="")
    webhook_detail = models.CharField(max_length=500, blank=True, default="")
    email = models.CharField(max_length=16, choices=Delivery.choices, blank=True, default="")
    email_detail = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "deskpulse_alert_event"
        ordering = ("-at", "-pk")

    def __str__(self) -> str:
        return f"{self.rule_name}: {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class SentNotification(models.Model):
    """The ledger of de-dup keys per channel: a unique row is claimed before sending, so
    a retry, a second worker or a repeated check never delivers one notification twice."""

    dedup_key = models.CharField(max_length=720)
    channel = models.CharField(max_length=16)  # "webhook" or "email"
    event = models.ForeignKey(AlertEvent, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, default=Delivery.SENDING)
    # Check runs that tried to deliver it (each run makes the sender's own retries).
    runs = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "deskpulse_alert_sent"
        constraints = (
            models.UniqueConstraint(fields=("dedup_key", "channel"), name="send_each_key_once"),
        )

    def __str__(self) -> str:
        return f"{self.dedup_key} via {self.channel}: {self.status}"


class NotificationSettings(models.Model):
    """Where alerts go: one row per install. The secrets are never rendered back."""

    # Where people open deskpulse, for the link in each notification (the server cannot
    # know the address it is reached by behind a proxy).
    dashboard_url = models.URLField("deskpulse address", max_length=500, blank=True, default="")
    webhook_url = models.URLField("Webhook URL", max_length=500, blank=True, default="")
    webhook_secret = models.CharField("Signing secret", max_length=500, blank=True, default="")
    smtp_host = models.CharField("SMTP host", max_length=255, blank=True, default="")
    smtp_port = models.PositiveIntegerField("SMTP port", default=587)
    smtp_username = models.CharField("SMTP username", max_length=255, blank=True, default="")
    smtp_password = models.CharField("SMTP password", max_length=500, blank=True, default="")
    smtp_starttls = models.BooleanField("Use STARTTLS", default=True)
    from_address = models.CharField("From address", max_length=255, blank=True, default="")
    to_addresses = models.TextField("To addresses", blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        db_table = "deskpulse_notification_settings"
        verbose_name = "notification settings"

    def __str__(self) -> str:
        return "Notification settings"

    @classmethod
    def current(cls) -> NotificationSettings:
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls()

    def save(self, *args: Any, **kwargs: Any) -> None:
        # One row per install.
        self.pk = 1
        super().save(*args, **kwargs)

    @property
    def recipients(self) -> list[str]:
        return [part for part in self.to_addresses.replace(",", "\n").split() if part]

    @property
    def webhook_ready(self) -> bool:
        return bool(self.webhook_url and self.webhook_secret)

    @property
    def email_ready(self) -> bool:
        return bool(self.smtp_host and self.from_address and self.recipients)
