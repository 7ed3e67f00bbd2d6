"""Coaching plans as stored in the app database, and the scheduled jobs' bookkeeping.

The numbers a plan shows (start, now, target) come from deskpulse.analysis.coaching; the
rows here only remember them, with when they were taken, so the list pages never have to
query the event store.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from deskpulse import clock


class PlanStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    ACHIEVED = "achieved", "Achieved"
    EXPIRED = "expired", "Expired"


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class Plan(models.Model):
    """One agent's commitment to move one metric on one inquiry by a date."""

    agent_id = models.CharField(max_length=256, db_index=True)
    # The channel is the "model" the agent picked on the performance pages.
    channel = models.CharField(max_length=64)
    inquiry = models.CharField(max_length=256)
    metric = models.CharField(max_length=64)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    improvement_percent = models.FloatField()
    # The agent's average over the START_LOOKBACK_DAYS before began_at, frozen at commit.
    start_value = models.FloatField(null=True, blank=True)
    start_n = models.PositiveIntegerField(default=0)
    target_value = models.FloatField(null=True, blank=True)
    target_date = models.DateField()
    began_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=PlanStatus.choices, default=PlanStatus.IN_PROGRESS, db_index=True
    )
    achieved_at = models.DateTimeField(null=True, blank=True)
    # The latest "Now": the RECENT_INTERACTIONS most recent interactions since began_at,
    # at refreshed_at.
    now_value = models.FloatField(null=True, blank=True)
    now_n = models.PositiveIntegerField(default=0)
    # How many interactions the Now reading covers: RECENT_INTERACTIONS, or fewer when the
    # agent has had fewer on this inquiry (now_n counts those with a value for the metric).
    now_interactions = models.PositiveIntegerField(default=0)
    # How many interactions came after began_at (Now covers only those).
    now_since_start = models.PositiveIntegerField(default=0)
    # Now against Start as a relative change (Now / Start - 1) with its interval, at
    # refreshed_at (deskpulse.analysis.coaching.compare); empty until there is a Now.
    change = models.FloatField(null=True, blank=True)
    change_low = models.FloatField(null=True, blank=True)
    change_high = models.FloatField(null=True, blank=True)
    change_method = models.CharField(max_length=16, blank=True, default="")
    refreshed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coaching_plans_created",
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["-began_at", "-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(improvement_percent__gte=5)
                & models.Q(improvement_percent__lte=50),
                name="coaching_plan_improvement_5_to_50",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["in_progress", "achieved", "expired"]),
                name="coaching_plan_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(direction__in=["higher", "lower"]),
                name="coaching_plan_direction_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id}: {self.metric} on {self.inquiry} ({self.status})"


class PlanAction(models.Model):
    """Something the agent will do themselves; checked off when done."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=200)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class PlanAssistance(models.Model):
    """Help the agent asked of a coach, team leader or supervisor."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="assistance")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=200)
    # Picked from ASSISTANCE_CHOICES rather than written by the agent.
    from_list = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar[list[str]] = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class PlanProgress(models.Model):
    """The "Now" value as it stood on one day: the points of the progress chart."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="progress")
    day = models.DateField()
    value = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0)
    recorded_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["day"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["plan", "day"], name="coaching_progress_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.day}: {self.value} (n={self.n})"


class JobState(models.Model):
    """When each scheduled job (deskpulse.web.jobs) last ran, and whether it is running.

    Kept in the app database so a restarted server knows what already ran, and so
    several workers (PostgreSQL installs) or a cron `deskpulse jobs run` agree on who
    runs a job: a run starts only by a conditional UPDATE that one claimant wins.
    """

    name = models.CharField(max_length=64, primary_key=True)
    next_run_at = models.DateTimeField()
    # Set while a run is in progress; a run that died leaves it, and it lapses then.
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=128, blank=True, default="")
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=16, blank=True, default="")  # ok | failed
    last_message = models.TextField(blank=True, default="")
    runs = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "deskpulse_job_state"
        ordering: ClassVar[list[str]] = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (next {self.next_run_at:%Y-%m-%d %H:%M})"
