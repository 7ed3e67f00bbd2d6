"""Who someone is on the team, and the API tokens they own."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from deskpulse import clock

SCOPES: frozenset[str] = frozenset({"ingest", "read", "write"})


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    AGENT = "agent", "Agent"


class Profile(models.Model):
    """A person's role; agents are linked to the agent id their events carry."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    agent_id = models.CharField(
        max_length=256,
        null=True,
        blank=True,
        help_text="The agent_id this person has in the events (agent.upserted).",
    )

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # An agent without an agent id would otherwise see nothing, or, worse, be
            # mistaken for a team-wide viewer.
            models.CheckConstraint(
                condition=~models.Q(role="agent") | models.Q(agent_id__isnull=False),
                name="agent_role_needs_agent_id",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "admin", "agent"]),
                name="profile_role_known",
            ),
            # One person per agent id: an agent's numbers belong to exactly one login.
            models.UniqueConstraint(
                fields=["agent_id"],
                condition=models.Q(agent_id__isnull=False),
                name="profile_agent_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"

    @property
    def sees_whole_team(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)


class ApiToken(models.Model):
    """A bearer token for the JSON API; only a hash of its secret is kept.

    The plaintext reads `dp_<prefix>_<secret>`. The prefix is stored as is so a token
    can be found with one indexed lookup and named in lists and logs; the secret is
    never stored, only its SHA-256.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    # SHA-256 hex of the secret part. A slow password hash (PBKDF2, argon2) exists to
    # make guessing low-entropy human passwords expensive; the secret here is 32 random
    # bytes, which no amount of guessing reaches, and a slow hash would only add its
    # cost to every API request.
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=clock.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} (dp_{self.prefix}_…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class Team(models.Model):
    """A display name for a team id the events carry (agent.upserted, conversation.assigned).

    Teams exist in the events whether or not they are named here; a row only gives one a
    name people recognise.
    """

    team_id = models.CharField(
        max_length=256,
        unique=True,
        help_text="The team_id the events carry (agent.upserted.team_ids, conversation.assigned).",
    )
    name = models.CharField(max_length=100)

    class Meta:
        ordering: ClassVar[list[str]] = ["name", "team_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.team_id})"
