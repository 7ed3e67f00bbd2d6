"""Who wants a weekly digest of what, and the ledger of what was sent when."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from deskpulse import clock


class DigestPreference(models.Model):
    """One person's digest: on or off, their teams, and their day and hour (in their own
    time zone, or the reporting one). An agent's digest is always their own numbers:
    `teams` stays empty."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_preference"
    )
    enabled = models.BooleanField(default=False)
    # Team ids, as the events carry them; empty: the whole organisation.
    teams = models.JSONField(default=list, blank=True)
    weekday = models.PositiveSmallIntegerField(default=0)  # 0 Monday .. 6 Sunday
    hour = models.PositiveSmallIntegerField(default=8)
    # The person's own time zone for the day and hour (an IANA name); empty: the install's
    # reporting time zone. A lead in another country gets it at their 08:00, not ours.
    timezone = models.CharField(max_length=64, blank=True, default="")
    by_email = models.BooleanField(default=True)
    # The install's Slack-compatible webhook posts to a shared channel: owners and admins
    # only, so an agent's own numbers never land where the team reads them.
    to_webhook = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        db_table = "deskpulse_digest_preference"
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="digest_weekday_0_6"),
            models.CheckConstraint(condition=models.Q(hour__lte=23), name="digest_hour_0_23"),
        ]

    def __str__(self) -> str:
        return f"digest of {self.user}: {'on' if self.enabled else 'off'}"


class SendStatus(models.TextChoices):
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (will retry)"
    GAVE_UP = "gave_up", "Failed"


class DigestSend(models.Model):
    """One person's digest of one ISO week. The unique (user, week) row is created before
    anything is sent, so a restart, a second worker or a cron run never sends it twice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_sends"
    )
    week = models.CharField(max_length=10)  # ISO week in the reporting time zone: 2027-W02
    status = models.CharField(max_length=16, choices=SendStatus.choices, default="sending")
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    subject = models.CharField(max_length=300, blank=True, default="")
    # Per channel: "delivered", "failed: <why>", "not configured", "" when not chosen.
    email = models.CharField(max_length=500, blank=True, default="")
    webhook = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        db_table = "deskpulse_digest_send"
        ordering: ClassVar[list[str]] = ["-claimed_at", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=("user", "week"), name="one_digest_per_person_week"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.week}: {self.status}"
