"""Chatwoot payloads (fixtures written from Chatwoot's docs and source) to contract events."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from deskpulse.connectors.chatwoot import (
    ChatwootOptions,
    MappingError,
    map_webhook,
    parse_time,
)
from deskpulse.events.contract import _Event, parse_event
from deskpulse.events.store import Store
from deskpulse.metrics.query import Query, query
from tests.factories import ingest_and_build, row_of

FIXTURES = Path(__file__).parent / "fixtures" / "chatwoot"
CONV = "chatwoot:1:1:10"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    assert data.pop("_source")  # every fixture names where its shape comes from
    return data


def mapped(name: str, **options: Any) -> list[dict[str, Any]]:
    events = map_webhook(load(name), connector="test", options=ChatwootOptions(**options))
    for event in events:  # every mapped event passes the contract
        assert isinstance(parse_event(event), _Event), (event, parse_event(event))
    return events


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def test_every_fixture_cites_its_source() -> None:
    for path in FIXTURES.glob("*.json"):
        assert json.loads(path.read_text()).get("_source"), path.name


def test_conversation_created_uses_display_id_account_and_inbox() -> None:
    events = mapped("conversation_created.json", account_id=1)
    (created,) = of_type(events, "conversation.created")
    assert created == {
        "id": f"{CONV}:created",
        "type": "conversation.created",
        "occurred_at": "2021-07-23T18:02:48+00:00",  # created_at epoch seconds
        "conversation_id": CONV,
        "channel": "chat",
        "inbox_id": "chatwoot:1:inbox:1",
        "customer_id": "chatwoot:1:contact:12",
    }
    (updated,) = of_type(events, "conversation.updated")
    assert updated["inquiry"] == "billing"  # first label by default
    assert not of_type(events, "conversation.assigned")  # nobody assigned yet
    assert not of_type(events, "conversation.status_changed")  # open is the default


def test_conversation_payload_without_account_needs_the_connectors() -> None:
    with pytest.raises(MappingError) as caught:
        map_webhook(load("conversation_created.json"), connector="t")
    assert caught.value.field == "account_id"


def test_label_map() -> None:
    events = mapped("conversation_created.json", account_id=1, label_map={"billing": "payments"})
    assert of_type(events, "conversation.updated")[0]["inquiry"] == "payments"
    events = mapped("conversation_created.json", account_id=1, label_map={"other": "x"})
    assert not of_type(events, "conversation.updated")


def test_conversation_updated_assignee_and_team() -> None:
    events = mapped("conversation_updated.json", account_id=1)
    (assigned,) = of_type(events, "conversation.assigned")
    assert assigned["agent_id"] == "chatwoot:user:1"
    assert assigned["team_id"] == "chatwoot:1:team:2"
    # ISO updated_at from changed_attributes dates the change (whole seconds).
    assert assigned["occurred_at"] == "2021-07-23T18:04:00+00:00"
    (agent,) = of_type(events, "agent.upserted")
    assert agent["agent_id"] == "chatwoot:user:1"
    assert agent["kind"] == "human"
    assert not of_type(events, "conversation.status_changed")  # status not in the changes


def test_status_changed_docs_sample() -> None:
    events = mapped("conversation_status_changed.json")
    (status,) = of_type(events, "conversation.status_changed")
    # The docs' sample has no updated_at: the last activity (`timestamp`) dates it.
    assert status["status"] == "open"
    assert status["occurred_at"] == "2021-07-23T18:02:49+00:00"
    # The account comes from the embedded message (integer message_type 3 = template).
    assert status["conversation_id"] == CONV
    (embedded,) = of_type(events, "message.created")
    assert embedded["direction"] == "outbound"
    assert embedded["author_kind"] == "system"


@pytest.mark.parametrize("status", ["open", "pending", "snoozed", "resolved"])
def test_statuses(status: str) -> None:
    payload = load("conversation_status_changed.json")
    payload["status"] = status
    events = map_webhook(payload, connector="t")
    assert of_type(events, "conversation.status_changed")[0]["status"] == status


def test_unknown_status_names_the_field() -> None:
    payload = load("conversation_status_changed.json")
    payload["status"] = "closed"
    with pytest.raises(MappingError) as caught:
        map_webhook(payload, connector="t")
    assert caught.value.field == "status"


def test_incoming_message_from_contact_is_the_customer() -> None:
    events = mapped("message_created.json")
    message = next(
        e for e in of_type(events, "message.created") if e["message_id"] == "chatwoot:118"
    )
    assert message["direction"] == "inbound"
    assert message["author_kind"] == "customer"
    assert message["occurred_at"] == "2021-07-23T18:02:48+00:00"  # ISO created_at
    assert "agent_id" not in message
    # The docs' sample (an older Chatwoot) has no conversation created_at: no
    # conversation.created can be dated from it, so none is made up.
    assert not of_type(events, "conversation.created")


def test_user_sender_is_an_agent() -> None:
    events = mapped("message_created_outgoing_user.json")
    (message,) = [
        e for e in of_type(events, "message.created") if e["message_id"] == "chatwoot:121"
    ]
    assert (message["direction"], message["author_kind"], message["agent_id"]) == (
        "outbound",
        "agent",
        "chatwoot:user:1",
    )
    agents = {e["agent_id"]: e for e in of_type(events, "agent.upserted")}
    assert agents["chatwoot:user:1"]["email"] == "john@acme.inc"


def test_private_message_is_a_note() -> None:
    events = mapped("message_created_private_note.json")
    (note,) = [e for e in of_type(events, "message.created") if e["message_id"] == "chatwoot:122"]
    assert (note["direction"], note["author_kind"]) == ("note", "agent")


@pytest.mark.parametrize(
    ("fixture", "agent_id"),
    [
        ("message_created_agent_bot.json", "chatwoot:bot:3"),
        ("message_created_captain.json", "chatwoot:bot:captain-3"),
    ],
)
def test_bots_are_ai_agents(fixture: str, agent_id: str) -> None:
    events = mapped(fixture)
    (message,) = [e for e in of_type(events, "message.created") if e.get("agent_id") == agent_id]
    assert (message["direction"], message["author_kind"]) == ("outbound", "ai")
    (agent,) = of_type(events, "agent.upserted")
    assert (agent["agent_id"], agent["kind"]) == (agent_id, "ai")


def test_message_type_integer_and_string_agree() -> None:
    as_string = load("message_created_outgoing_user.json")
    as_integer = copy.deepcopy(as_string)
    as_integer["message_type"] = 1
    as_integer["created_at"] = parse_time(as_string["created_at"], "x").timestamp()
    assert map_webhook(as_string, connector="t") == map_webhook(as_integer, connector="t")


def test_embedded_message_and_webhook_give_the_same_event() -> None:
    """The same message seen in push_event_data (int type, epoch) and in webhook_data."""
    webhook = load("message_created_outgoing_user.json")
    conversation = load("conversation_updated.json")
    conversation["messages"] = [
        {
            "id": 121,
            "content": webhook["content"],
            "account_id": 1,
            "inbox_id": 1,
            "conversation_id": 10,
            "message_type": 1,
            "created_at": int(parse_time(webhook["created_at"], "x").timestamp()),
            "private": False,
            "content_type": "text",
            "content_attributes": {},
            "sender_type": "User",
            "sender_id": 1,
            "sender": {"id": 1, "name": "John", "type": "user"},
        }
    ]
    from_webhook = [
        e for e in map_webhook(webhook, connector="t") if e["type"] == "message.created"
    ]
    from_conversation = of_type(map_webhook(conversation, connector="t"), "message.created")
    assert from_webhook == from_conversation


def test_csat_on_message_updated() -> None:
    events = mapped("message_updated_csat.json")
    (survey,) = of_type(events, "survey.responded")
    assert survey == {
        "id": "chatwoot:csat:125:4",
        "type": "survey.responded",
        # answered: updated_at of the embedded copy, not when the survey was sent
        "occurred_at": "2021-07-23T18:40:00+00:00",
        "conversation_id": CONV,
        "survey": "csat",
        "score": 4,
        "comment": "Quick, thanks.",
    }
    # The survey template message itself is Chatwoot's, not an agent's reply.
    template = next(
        e for e in of_type(events, "message.created") if e["message_id"] == "chatwoot:125"
    )
    assert template["author_kind"] == "system"


def test_csat_rating_out_of_range_names_the_field() -> None:
    payload = load("message_updated_csat.json")
    payload["content_attributes"]["submitted_values"]["csat_survey_response"]["rating"] = 9
    with pytest.raises(MappingError) as caught:
        map_webhook(payload, connector="t")
    assert caught.value.field == "content_attributes.submitted_values.csat_survey_response.rating"


def test_docs_header_sample_is_refused_naming_the_field() -> None:
    with pytest.raises(MappingError) as caught:
        map_webhook(load("message_created_docs_header_sample.json"), connector="t")
    assert caught.value.field == "conversation.inbox_id"


def test_unused_events_map_to_nothing() -> None:
    assert map_webhook(load("contact_created.json"), connector="t") == []


def test_missing_event_names_the_field() -> None:
    payload = load("message_created.json")
    del payload["event"]
    with pytest.raises(MappingError) as caught:
        map_webhook(payload, connector="t")
    assert caught.value.field == "event"


def test_redelivery_maps_to_the_same_ids() -> None:
    first = mapped("conversation_updated.json", account_id=1)
    again = mapped("conversation_updated.json", account_id=1)
    assert first == again


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1627063368, "2021-07-23T18:02:48+00:00"),
        (1627063368.75, "2021-07-23T18:02:48.750000+00:00"),
        ("2021-07-23T18:02:48.000Z", "2021-07-23T18:02:48+00:00"),
        ("2020-03-03 13:05:57 UTC", "2020-03-03T13:05:57+00:00"),
        ("2021-07-23T23:32:48+05:30", "2021-07-23T18:02:48+00:00"),
    ],
)
def test_timestamps_epoch_and_iso(value: Any, expected: str) -> None:
    assert parse_time(value, "t").isoformat() == expected


@pytest.mark.parametrize("value", ["yesterday", None, True, ""])
def test_bad_timestamps_name_the_field(value: Any) -> None:
    with pytest.raises(MappingError) as caught:
        parse_time(value, "created_at")
    assert caught.value.field == "created_at"


# -- bot handoffs ---------------------------------------------------------------------------


def _handoff_timeline() -> list[dict[str, Any]]:
    """Conversation 10 with an agent bot, from the documented payloads, retimed: the
    customer writes 18:02:48, the bot answers 18:03:00, hands off (pending -> open)
    18:03:45 (57 s after the customer), John replies 18:12:43 (595 s after)."""
    created = load("conversation_created.json")
    created["status"] = "pending"  # an inbox with an agent bot opens conversations pending
    customer = load("message_created.json")
    bot = load("message_created_agent_bot.json")
    handoff = load("conversation_status_changed.json")
    handoff["status"] = "open"
    # WebhookListener#conversation_status_changed adds the changed attributes.
    handoff["changed_attributes"] = [
        {"status": {"previous_value": "pending", "current_value": "open"}},
        {"updated_at": {"previous_value": 1627063380, "current_value": 1627063425}},
    ]
    human = load("message_created_outgoing_user.json")
    human["created_at"] = "2021-07-23T18:12:43.000Z"
    options = ChatwootOptions(account_id=1)
    events: list[dict[str, Any]] = []
    for payload in (created, customer, bot, handoff, human):
        events += map_webhook(payload, connector="test", options=options)
    for event in events:
        assert isinstance(parse_event(event), _Event), (event, parse_event(event))
    return events


def test_pending_to_open_is_the_bot_handoff() -> None:
    events = _handoff_timeline()
    [handoff] = of_type(events, "conversation.escalated")
    assert handoff["occurred_at"] == "2021-07-23T18:03:45+00:00"
    assert handoff["conversation_id"] == CONV
    # the payload does not name the bot: the inbox's agent bot, an AI agent
    assert handoff["from_agent_id"] == "chatwoot:1:inbox:1:agent-bot"
    assert handoff["to_agent_id"] == "chatwoot:user:1"  # meta.assignee John
    bots = [
        e for e in of_type(events, "agent.upserted") if e["agent_id"] == handoff["from_agent_id"]
    ]
    assert [b["kind"] for b in bots] == ["ai"]
    [bot_reply] = [e for e in of_type(events, "message.created") if e.get("author_kind") == "ai"]
    assert bot_reply["agent_id"] == "chatwoot:bot:3"


def test_other_status_changes_are_no_handoff() -> None:
    payload = load("conversation_status_changed.json")
    payload["changed_attributes"] = [
        {"status": {"previous_value": "open", "current_value": "resolved"}}
    ]
    payload["status"] = "resolved"
    events = map_webhook(payload, connector="test", options=ChatwootOptions(account_id=1))
    assert of_type(events, "conversation.escalated") == []


def test_first_human_response_runs_from_the_handoff(store: Store) -> None:
    ingest_and_build(store, _handoff_timeline())
    row = row_of(store, "conversation_facts", conversation_id=CONV)
    assert row["escalated"] is True
    assert row["first_response_seconds"] == 12.0  # the bot, 18:02:48 -> 18:03:00
    # from the handoff 18:03:45 to John's reply 18:12:43, not 595 s from the customer
    assert row["first_human_response_seconds"] == 538.0
    values = query(
        store,
        Query.model_validate(
            {
                "metrics": ["escalation_rate"],
                "period": "custom",
                "from": "2021-07-01T00:00:00Z",
                "to": "2021-08-01T00:00:00Z",
            }
        ),
    ).single()
    assert values.metrics["escalation_rate"].value == 1.0
