"""Outgoing notifications for alerts: a signed, retried webhook and e-mail over SMTP.

`deskpulse.notify.webhook.send_webhook` and `deskpulse.notify.email.send_email` both return
a `DeliveryResult`; neither raises for a failed delivery (only for bad input), so a caller
looping over many alerts can record each outcome and go on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryResult:
    """How one delivery ended, after all its attempts."""

    ok: bool
    attempts: int
    # The last HTTP status, or the last SMTP reply code; None when no reply came at all
    # (connection refused, timeout).
    status: int | None
    error: str | None  # None on success; otherwise what went wrong last, in plain words
    delivery_id: str | None = None  # the webhook's X-Deskpulse-Delivery / e-mail's header
    # E-mail only: recipients the server refused for good (5xx), with its reply.
    rejected: tuple[str, ...] = ()


__all__ = ["DeliveryResult"]
