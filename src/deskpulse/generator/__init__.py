"""Realistic synthetic support data: `generate()` writes event-contract v1 JSON Lines.

See `deskpulse.generator.conversations` for what the data contains (AI agents, the
experiment, degrading queues, the incident, business hours, repeat contacts, surveys).
"""

from deskpulse.generator.conversations import (
    BUSINESS_HOURS_INBOX,
    DEGRADING_INBOXES,
    EXPERIMENT,
)
from deskpulse.generator.org import INQUIRIES, TEAM_DEFS
from deskpulse.generator.writer import GenerationSummary, default_end, generate

__all__ = [
    "BUSINESS_HOURS_INBOX",
    "DEGRADING_INBOXES",
    "EXPERIMENT",
    "INQUIRIES",
    "TEAM_DEFS",
    "GenerationSummary",
    "default_end",
    "generate",
]
