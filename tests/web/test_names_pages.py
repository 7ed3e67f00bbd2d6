"""Pages name agents and AI agents by name and inquiries by a display name; the ids and
slugs stay in `title` tooltips (and in the CSV and the API).

Sophia Sharma (agent-011) takes over from the AI agent Nova (agent-ai-nova) on an
invoice_request; agent-099 was never upserted, so the pages can only show that id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store
from deskpulse.names import agent_names
from deskpulse.web import names as web_names
from deskpulse.web.accounts.models import Profile, Role
from deskpulse.web.alerts.forms import RULE_DEFAULTS, AlertRuleForm
from deskpulse.web.alerts.models import AlertEvent
from deskpulse.web.alerts.service import check_rules
from tests.factories import Events, ingest_and_build
from tests.web.test_analytics_pages import page, text

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AS_OF = "as_of=2026-03-08"


def scenario() -> Events:
    f = Events(start=START)
    f.agent("agent-011", name="Sophia Sharma", teams=["t1"], at=-600)
    f.agent("agent-ai-nova", name="Nova", kind="ai", at=-600)
    c = f.conversation("c1", customer="u1", inquiry="invoice_request", at=0)
    c.customer(at=0).ai_reply("agent-ai-nova", at=0.5)
    c.escalate(from_agent="agent-ai-nova", to_agent="agent-011", reason="low_confidence", at=1)
    c.assign("agent-011", team="t1", at=1)
    c.reply("agent-011", at=5).note("agent-099", mentions=["agent-011"], at=6)
    c.resolve(at=10, by="agent-011")
    return f


@pytest.fixture
def named(api_store: Store) -> Store:
    ingest_and_build(api_store, scenario().events)
    return api_store


def test_the_conversation_page_reads_names_not_ids(
    client: Client, owner: User, named: Store
) -> None:
    soup = page(client, owner, "/analytics/conversations/c1/")
    timeline = text(soup.select_one("ol.timeline"))
    assert "Nova replied (AI agent)" in timeline
    assert "Escalated from Nova to Sophia Sharma: Low confidence" in timeline
    assert "Assigned to Sophia Sharma (team t1)" in timeline
    assert "Sophia Sharma replied" in timeline
    assert "Internal note by agent-099 mentioning Sophia Sharma" in timeline  # never named
    assert "Status → resolved by Sophia Sharma" in timeline
    assert "agent-011" not in timeline
    assert "agent-ai-nova" not in timeline
    assert "inquiry Invoice request" in timeline

    lead = soup.select_one("p.lead")
    assert "Invoice request" in text(lead)
    assert "invoice_request" not in text(lead)
    assert lead is not None
    assert lead.select_one('[title="invoice_request"]') is not None

    clocks = text(soup.select_one("table.clocks"))
    assert "First response by Sophia Sharma" in clocks
    assert "agent-011" not in clocks

    agents = soup.select_one("section[aria-labelledby=agents-heading] tbody")
    assert agents is not None
    cells = {str(row["data-agent"]): row.select_one("td") for row in agents.select("tr")}
    assert text(cells["agent-011"]) == "Sophia Sharma"
    assert text(cells["agent-ai-nova"]) == "Nova"
    assert cells["agent-011"].select_one('[title="agent-011"]') is not None  # type: ignore[union-attr]


def test_the_conversation_list_shows_inquiry_names(
    client: Client, owner: User, named: Store
) -> None:
    soup = page(client, owner, f"/analytics/conversations/?period=7d&{AS_OF}")
    body = text(soup.select_one("table tbody"))
    assert "Invoice request" in body
    assert "invoice_request" not in body
    csv = client.get(f"/analytics/conversations.csv?period=7d&{AS_OF}").content.decode()
    assert "invoice_request" in csv


@pytest.mark.django_db
def test_alert_rules_and_their_history_name_the_ai_agent(
    client: Client, owner: User, named: Store
) -> None:
    form = AlertRuleForm(
        data={
            **RULE_DEFAULTS,
            "name": "Escalations, Nova",
            "metric": "escalation_rate",
            "segment_dimension": "ai_agent",
            "segment_value": "agent-ai-nova",
        }
    )
    assert form.is_valid(), form.errors
    rule = form.save(None)
    AlertEvent.objects.create(
        rule=rule,
        rule_name=rule.name,
        metric=rule.metric,
        segment_label=rule.segment_label,
        at=START,
        kind="firing",
        previous_state="pending",
        severity="warning",
        reason="up 40%",
    )
    assert rule.segment_label == "ai_agent = agent-ai-nova"  # what history and the API keep

    listing = page(client, owner, "/alerts/")
    row = listing.select_one(f'tr[data-rule="{rule.pk}"]')
    assert "AI agent = Nova" in text(row)
    assert "agent-ai-nova" not in text(row)
    assert row is not None
    assert row.select_one('[title="ai_agent = agent-ai-nova"]') is not None

    detail = page(client, owner, f"/alerts/{rule.pk}/")
    facts = text(detail.select_one("dl.alert-facts"))
    assert "Segment AI agent = Nova" in facts
    assert "agent-ai-nova" not in facts
    history = text(page(client, owner, "/alerts/history/").select_one("main"))
    assert "AI agent = Nova" in history
    assert "agent-ai-nova" not in history

    api = client.get(f"/api/v1/alerts/rules/{rule.pk}").json()
    assert api["rule"]["segment"] == {"ai_agent": "agent-ai-nova"}
    assert api["rule"]["segment_label"] == "ai_agent = agent-ai-nova"
    assert api["rule"]["segment_name"] == "AI agent = Nova"  # the name next to the id


@pytest.mark.django_db
def test_an_alert_notification_names_the_ai_agent(named: Store) -> None:
    form = AlertRuleForm(
        data={
            **RULE_DEFAULTS,
            "name": "Escalations, Nova",
            "metric": "escalation_rate",
            "segment_dimension": "ai_agent",
            "segment_value": "agent-ai-nova",
            "baseline_kind": "fixed",
            "baseline_value": 0.01,
            "min_sample": 0,
            "pending_for": 0,
            "notify_email": "on",
        }
    )
    assert form.is_valid(), form.errors
    rule = form.save(None)
    check_rules(named, START + timedelta(days=1), rules=[rule], deliver=False)
    event = AlertEvent.objects.get(rule=rule, kind="firing")
    assert event.segment_label == "ai_agent = agent-ai-nova"
    subject = event.message["email"]["subject"]
    assert subject.endswith("Escalations, Nova (AI agent = Nova)")


def test_the_users_page_names_the_linked_agent(client: Client, owner: User, named: Store) -> None:
    linked = User.objects.create_user(username="sophia", email="sophia@example.com")
    Profile.objects.create(user=linked, role=Role.AGENT, agent_id="agent-011")
    soup = page(client, owner, "/settings/users/")
    shown = [text(node) for node in soup.select(".agent-name")]
    assert shown == ["Sophia Sharma"]


def test_the_conversation_api_keeps_ids_and_adds_names(
    client: Client, owner: User, named: Store
) -> None:
    client.force_login(owner)
    body = client.get("/api/v1/conversations/c1").json()
    assert {a["agent_id"]: a["name"] for a in body["agents"]} == {
        "agent-011": "Sophia Sharma",
        "agent-ai-nova": "Nova",
    }
    summaries = [e["summary"] for e in body["events"]]
    assert "Assigned to agent-011 (team t1)" in summaries  # the API's prose keeps ids
    assert body["facts"]["inquiry"] == "invoice_request"


def test_agent_names_are_read_once_per_page(
    client: Client, owner: User, named: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[Store] = []

    def counting(store: Store) -> dict[str, str]:
        reads.append(store)
        return agent_names(store)

    monkeypatch.setattr(web_names, "agent_names", counting)
    soup = page(client, owner, "/analytics/conversations/c1/")
    assert "Sophia Sharma" in text(soup.select_one("ol.timeline"))
    assert len(soup.select("[title=agent-011]")) >= 1
    assert len(reads) == 1
