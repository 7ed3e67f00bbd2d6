"""A connector: a helpdesk that sends webhooks to a URL holding its secret."""

from __future__ import annotations

from django.db import models

from deskpulse import clock


class Connector(models.Model):
    """Only the secret's SHA-256 is kept: the URL is shown once, when it is created."""

    kind = models.CharField(max_length=32)  # "chatwoot", …
    name = models.CharField(max_length=128)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Chatwoot's conversation webhooks name no account; the connector's fills the gap.
    account_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"
