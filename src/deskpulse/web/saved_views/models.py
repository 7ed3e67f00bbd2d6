"""A saved view: which page, with which query string, whose, and whether shared."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from deskpulse import clock


class SavedPage(models.TextChoices):
    ANALYTICS = "analytics", "Analytics"
    CONVERSATIONS = "conversations", "Conversations"
    LEADERBOARD = "leaderboard", "Leaderboard"


class SavedView(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=100)
    page = models.CharField(max_length=32, choices=SavedPage.choices)
    # The page's query string, validated against the parameters it takes (forms.py) and
    # stored re-encoded, so opening a view can never carry anything else.
    query = models.CharField(max_length=2000, blank=True, default="")
    # Shared with everyone on the team (owners only may share).
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        db_table = "deskpulse_saved_view"
        ordering: ClassVar[list[str]] = ["name", "id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=("owner", "name"), name="saved_view_name_per_owner"),
            models.CheckConstraint(
                condition=models.Q(page__in=["analytics", "conversations", "leaderboard"]),
                name="saved_view_page_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.page})"
