"""The names a person reads in place of ids and slugs.

Events carry ids (`agent-011`) and inquiry slugs (`invoice_request`); pages and the CLI's
tables show the agent's name from the latest `agent.upserted` and a readable form of the
slug. Exports and the API keep the ids, so everything stays joinable. An id nobody ever
named shows as itself: a wrong name would be worse than an id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from deskpulse.events.store import Store

# Words a support lead expects in capitals. Only unambiguous ones: "us" in
# "contact_us" must stay a word.
_ACRONYMS = frozenset(
    {
        "ai", "api", "b2b", "ces", "csat", "eu", "faq", "gdpr", "iban", "id", "kyc", "nps",
        "otp", "pdf", "pin", "sla", "sms", "sso", "uk", "url", "vat", "vip", "2fa",
    }
)  # fmt: skip
_SEPARATORS = re.compile(r"[_\-\s]+")


def slug_label(slug: str | None) -> str:
    """`invoice_request` -> "Invoice request", `vip_sla_breach` -> "VIP SLA breach".

    A value that already reads as words (has capitals and no separators) is kept.
    """
    if slug is None:
        return ""
    text = str(slug).strip()
    words = [word for word in _SEPARATORS.split(text) if word]
    if not words:
        return text
    if len(words) == 1 and text != text.lower():
        return text
    shown = []
    for index, word in enumerate(words):
        lower = word.lower()
        if lower in _ACRONYMS:
            shown.append(lower.upper())
        elif word != lower:
            shown.append(word)  # someone's own capitals (a product name): keep them
        elif index == 0:
            shown.append(lower[0].upper() + lower[1:])
        else:
            shown.append(lower)
    return " ".join(shown)


def inquiry_label(slug: str | None) -> str:
    """An inquiry slug as a person reads it."""
    return slug_label(slug)


def reason_label(slug: str | None) -> str:
    """An escalation reason slug (`low_confidence`) as a person reads it."""
    return slug_label(slug)


def agent_names(store: Store) -> dict[str, str]:
    """Agent id -> name, from the `agents` table (the latest agent.upserted), in one read.

    Agents upserted without a name are left out, so `agent_label` shows their id.
    """
    if "agents" not in store.con.list_tables():
        return {}
    table = store.con.table("agents").select("agent_id", "name")
    return {
        str(row["agent_id"]): str(row["name"])
        for row in table.to_pyarrow().to_pylist()
        if row["agent_id"] is not None and row["name"]
    }


# The segment dimensions of alert rules and signals, as words.
_DIMENSION_WORDS = {
    "ai_agent": "AI agent",
    "agent": "agent",
    "customer_tier": "customer tier",
    "inbox": "inbox",
    "inquiry": "inquiry",
}
_AGENT_DIMENSIONS = frozenset({"ai_agent", "agent"})


def segment_value_label(dimension: str, value: str, names: Mapping[str, str]) -> str:
    """One segment value as a person reads it: an agent by name, an inquiry as words."""
    if dimension in _AGENT_DIMENSIONS:
        return agent_label(value, names)
    if dimension == "inquiry":
        return inquiry_label(value)
    return value


def segment_label(segment: Mapping[str, str], names: Mapping[str, str]) -> str:
    """`{"ai_agent": "agent-ai-nova"}` -> "AI agent = Nova"; no segment -> "all conversations"."""
    if not segment:
        return "all conversations"
    return ", ".join(
        f"{_DIMENSION_WORDS.get(dimension, dimension)} = "
        f"{segment_value_label(dimension, value, names)}"
        for dimension, value in segment.items()
    )


def read_segment_label(label: str) -> dict[str, str] | None:
    """The segment behind a stored "ai_agent = agent-ai-nova" label (alert history keeps
    the label, not the segment); None when the text is not in that form."""
    if label == "all conversations":
        return {}
    segment: dict[str, str] = {}
    for part in label.split(", "):
        dimension, equals, value = part.partition(" = ")
        if not equals or not dimension or " " in dimension:
            return None
        segment[dimension] = value
    return segment


def agent_label(agent_id: str | None, names: Mapping[str, str]) -> str:
    """The agent's name, or their id when the events never named them."""
    if agent_id is None:
        return ""
    return names.get(str(agent_id), str(agent_id))
