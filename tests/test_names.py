"""Display names for slugs and agent ids (deskpulse/names.py)."""

from __future__ import annotations

import pytest

from deskpulse.events.store import Store
from deskpulse.names import agent_label, agent_names, inquiry_label, reason_label
from tests.factories import Events, ingest_and_build


@pytest.mark.parametrize(
    ("slug", "label"),
    [
        ("invoice_request", "Invoice request"),
        ("billing", "Billing"),
        ("vip_sla_breach", "VIP SLA breach"),
        ("api-access", "API access"),
        ("reset_2fa", "Reset 2FA"),
        ("contact_us", "Contact us"),
        ("sms_delivery_failed", "SMS delivery failed"),
        ("Billing Question", "Billing Question"),
        ("iPhone_setup", "iPhone setup"),
        ("Refunds", "Refunds"),
        ("", ""),
    ],
)
def test_inquiry_label_reads_a_slug_as_words(slug: str, label: str) -> None:
    assert inquiry_label(slug) == label


def test_reason_label_reads_like_an_inquiry() -> None:
    assert reason_label("low_confidence") == "Low confidence"
    assert reason_label(None) == ""


def test_agent_names_read_the_latest_upsert_and_unknown_ids_stay_ids(store: Store) -> None:
    f = Events()
    f.agent("agent-011", name="Sophia Shrma").agent("agent-ai-nova", name="Nova", kind="ai")
    f.agent("agent-011", name="Sophia Sharma", at=5)
    ingest_and_build(store, f.events)
    names = agent_names(store)
    assert names == {"agent-011": "Sophia Sharma", "agent-ai-nova": "Nova"}
    assert agent_label("agent-011", names) == "Sophia Sharma"
    assert agent_label("agent-099", names) == "agent-099"


def test_no_agents_table_means_no_names(store: Store) -> None:
    assert agent_names(store) == {}
