"""A connector: a helpdesk that sends webhooks to a URL holding its secret."""

from __future__ import annotations

from django.db import models

from deskpulse import clock


class Connector(models.Model):
    """Only the URL secret's SHA-256 is kept: the URL is shown once, when it is created.

    The webhook signing secret (Chatwoot shows it on the webhook's page) is kept sealed
    (sealing.py): verifying a signature needs the secret itself. It is never shown again.
    """

    kind = models.CharField(max_length=32)  # "chatwoot", …
    name = models.CharField(max_length=128)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # Chatwoot's conversation webhooks name no account; the connector's fills the gap.
    account_id = models.BigIntegerField(null=True, blank=True)
    signing_secret_sealed = models.TextField(blank=True, default="")
    signing_secret_set_at = models.DateTimeField(null=True, blank=True)
    # Accept webhooks without a signature when no signing secret is set: only for
    # helpdesk versions that cannot sign (Chatwoot before v4.11.2 / v4.13.0).
    allow_unsigned = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def is_signed(self) -> bool:
        return bool(self.signing_secret_sealed)

    @property
    def signing_state(self) -> str:
        """What a person reads: 'signed', 'unsigned allowed' or 'refusing: no secret'."""
        if self.is_signed:
            return "signed"
        if self.allow_unsigned:
            return "unsigned allowed"
        return "refusing: no secret"
