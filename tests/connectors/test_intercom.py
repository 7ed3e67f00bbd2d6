"""Intercom conversations (fixtures from Intercom's API reference) to contract events and
to hand-computed metrics."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from deskpulse.connectors.intercom import (
    IntercomOptions,
    MappingError,
    conversations_in,
    import_intercom,
    map_conversation,
)
from deskpulse.events.contract import _Event, parse_event
from deskpulse.events.store import Store
from deskpulse.metrics.query import Query, query
from tests.factories import ingest_and_build, row_of, rows_of

FIXTURES = Path(__file__).parent / "fixtures" / "intercom"
HUMAN = "conversation_1295_human.json"
HANDOFF = "conversation_1296_fin_handoff.json"
FIN_ONLY = "conversation_1297_fin_resolved.json"
FIN = "intercom:bot:1715"
CIARAN = "intercom:admin:991267493"
TEAM = "intercom:team:5017691"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    assert data.pop("_source")
    return data


def mapped(conversation: dict[str, Any], **options: Any) -> list[dict[str, Any]]:
    events = map_conversation(conversation, IntercomOptions(**options))
    for event in events:  # every mapped event passes the contract
        assert isinstance(parse_event(event), _Event), (event, parse_event(event))
    return events


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def test_every_fixture_cites_its_source() -> None:
    names = [path.name for path in FIXTURES.glob("*.json")]
    assert len(names) == 5
    for name in names:
        assert json.loads((FIXTURES / name).read_text()).get("_source"), name
    readme = (FIXTURES / "README.md").read_text()
    assert all(name in readme for name in names)


# -- mapping ---------------------------------------------------------------------------------


def test_human_conversation_events() -> None:
    events = mapped(load(HUMAN))
    (created,) = of_type(events, "conversation.created")
    assert created == {
        "id": "intercom:1295:created",
        "type": "conversation.created",
        "occurred_at": "2022-09-19T14:20:23+00:00",
        "conversation_id": "intercom:1295",
        "channel": "chat",  # source.type "conversation" is the Messenger
        "inbox_id": "intercom:inbox:conversation",
        "customer_id": "intercom:contact:5ba682d23d7cf92bef87bfd4",
        "inquiry": "billing",  # the first topic; the tag "VIP" is not an inquiry
    }
    messages = of_type(events, "message.created")
    assert [(m["direction"], m["author_kind"], m.get("agent_id")) for m in messages] == [
        ("inbound", "customer", None),  # the source message, customer_initiated
        ("outbound", "agent", CIARAN),
        ("note", "agent", CIARAN),  # a note is internal, not a reply
        ("inbound", "customer", None),
        ("outbound", "agent", CIARAN),
    ]
    assigned = of_type(events, "conversation.assigned")
    assert [(a.get("agent_id"), a.get("team_id")) for a in assigned] == [
        (None, TEAM),  # default_assignment to the team inbox
        (CIARAN, None),
    ]
    statuses = of_type(events, "conversation.status_changed")
    assert [(s["status"], s["occurred_at"][11:19]) for s in statuses] == [
        ("snoozed", "14:26:23"),
        ("open", "14:33:43"),  # timer_unsnooze
        ("resolved", "14:45:23"),  # close
    ]
    # An assignment rule with no AI reply before it is no handoff.
    assert of_type(events, "conversation.escalated") == []
    (survey,) = of_type(events, "survey.responded")
    assert (survey["score"], survey["comment"], survey["occurred_at"]) == (
        4,
        "Quick and clear",
        "2022-09-19T14:53:43+00:00",
    )
    (agent,) = of_type(events, "agent.upserted")
    assert (agent["agent_id"], agent["kind"], agent["name"]) == (CIARAN, "human", "Ciaran Lee")


def test_fin_replies_are_ai_and_its_handoff_is_an_escalation() -> None:
    events = mapped(load(HANDOFF))
    replies = [m for m in of_type(events, "message.created") if m["direction"] == "outbound"]
    assert [(m["author_kind"], m["agent_id"]) for m in replies] == [
        ("ai", FIN),
        ("ai", FIN),
        ("agent", CIARAN),
    ]
    (handoff,) = of_type(events, "conversation.escalated")
    assert handoff == {
        "id": "intercom:1296:part:8004:escalated",
        "type": "conversation.escalated",
        "occurred_at": "2022-09-19T15:07:50+00:00",  # Fin assigns to the team
        "conversation_id": "intercom:1296",
        "from_agent_id": FIN,
        "to_team_id": TEAM,
        "reason": "routed_to_team",  # ai_agent.resolution_state
    }
    kinds = {e["agent_id"]: e["kind"] for e in of_type(events, "agent.upserted")}
    assert kinds == {FIN: "ai", CIARAN: "human"}


def test_an_admin_part_sent_by_the_ai_agent_is_ai() -> None:
    conversation = load(HUMAN)
    part = conversation["conversation_parts"]["conversation_parts"][2]
    part["author"]["from_ai_agent"] = True
    events = mapped(conversation)
    reply = next(e for e in events if e["id"] == "intercom:1295:part:7015")
    # An AI agent however Intercom types the author: kept apart from the human admins.
    assert (reply["author_kind"], reply["agent_id"]) == ("ai", "intercom:bot:991267493")


def test_without_resolution_state_the_handoff_has_no_reason() -> None:
    conversation = load(HANDOFF)
    conversation["ai_agent"]["resolution_state"] = "abandoned"
    (handoff,) = of_type(mapped(conversation), "conversation.escalated")
    assert "reason" not in handoff


def test_a_customer_reply_after_close_reopens() -> None:
    conversation = load(HUMAN)
    parts = conversation["conversation_parts"]["conversation_parts"]
    late = copy.deepcopy(parts[6])
    late.update(id="7022", created_at=parts[-1]["created_at"] + 600)
    parts.append(late)
    conversation["state"] = "open"
    statuses = of_type(mapped(conversation), "conversation.status_changed")
    assert [s["status"] for s in statuses] == ["snoozed", "open", "resolved", "open"]
    assert statuses[-1]["occurred_at"] == "2022-09-19T14:55:23+00:00"  # the customer's reply


def test_list_page_conversations_use_the_state_field() -> None:
    page = load("conversations_page_1.json")
    conversations = conversations_in(page)
    assert [c["id"] for c in conversations] == ["1295", "1296"]
    events = mapped(conversations[0])
    # No parts: the source message, the rating, and closed at statistics.last_close_at.
    (status,) = of_type(events, "conversation.status_changed")
    assert (status["status"], status["occurred_at"]) == ("resolved", "2022-09-19T14:45:23+00:00")
    assert len(of_type(events, "message.created")) == 1


def test_same_ids_from_a_list_page_and_a_retrieved_conversation() -> None:
    pages = [load("conversations_page_1.json"), load("conversations_page_2.json")]
    listed = [c for page in pages for c in conversations_in(page)]
    for summary, name in zip(listed, (HUMAN, HANDOFF, FIN_ONLY), strict=True):
        # Closed by the state field and by the close part: one fact, one id.
        assert {e["id"] for e in mapped(summary)} <= {e["id"] for e in mapped(load(name))}


def test_list_pages_then_full_conversations_resolve_once(store: Store) -> None:
    import_intercom(
        store, [FIXTURES / "conversations_page_1.json", FIXTURES / "conversations_page_2.json"]
    )
    import_intercom(store, [FIXTURES / name for name in (HUMAN, HANDOFF, FIN_ONLY)])
    assert len(rows_of(store, "resolution_facts")) == 3


def test_tag_map_and_workspace() -> None:
    events = mapped(load(HUMAN), tag_map={"VIP": "vip_request"}, workspace="eu")
    (created,) = of_type(events, "conversation.created")
    assert created["inquiry"] == "vip_request"
    assert created["conversation_id"] == "intercom:eu:1295"
    assert created["customer_id"] == "intercom:eu:contact:5ba682d23d7cf92bef87bfd4"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: c.pop("created_at"), "created_at"),
        (lambda c: c["conversation_rating"].update(rating=6), "conversation_rating.rating"),
        (
            lambda c: c["conversation_parts"]["conversation_parts"][3].pop("created_at"),
            "conversation_parts.conversation_parts.3.created_at",
        ),
        (
            lambda c: c["conversation_parts"]["conversation_parts"][2]["author"].update(
                type="robot"
            ),
            "conversation_parts.conversation_parts.2.author.type",
        ),
        (lambda c: c.update(state="archived"), "state"),
        (lambda c: c.update(contacts={"contacts": []}, source={"id": "1"}), "contacts.contacts"),
    ],
)
def test_bad_records_name_the_field(change: Any, field: str) -> None:
    conversation = load(HUMAN)
    change(conversation)
    with pytest.raises(MappingError) as caught:
        map_conversation(conversation)
    assert caught.value.field == field


# -- metrics through the store (DuckDB and PostgreSQL) -----------------------------------------


def _all_events() -> list[dict[str, Any]]:
    return [e for name in (HUMAN, HANDOFF, FIN_ONLY) for e in mapped(load(name))]


def test_hand_computed_metrics(store: Store) -> None:
    ingest_and_build(store, _all_events())
    human = row_of(store, "conversation_facts", conversation_id="intercom:1295")
    # 14:20:23 customer, 14:25:23 Ciaran: 300 s; closed 14:45:23: 1,500 s; CSAT 4.
    assert human["first_response_seconds"] == 300.0
    assert human["first_human_response_seconds"] == 300.0
    assert human["first_resolution_seconds"] == 1500.0
    assert (human["escalated"], human["csat_score"]) == (False, 4)
    assert (human["human_replies"], human["ai_replies"], human["ai_involved"]) == (2, 0, False)
    assert (human["assignee_id"], human["team_id"]) == (CIARAN, TEAM)

    fin = row_of(store, "conversation_facts", conversation_id="intercom:1296")
    # 15:06:40 customer, 15:06:45 Fin: 5 s. Fin hands off 15:07:50, Ciaran answers 15:13:20:
    # 330 s from the handoff (not 400 s from the customer). Closed 15:18:20: 700 s.
    assert fin["first_response_seconds"] == 5.0
    assert fin["first_human_response_seconds"] == 330.0
    assert (fin["escalated"], fin["escalation_reason"]) == (True, "routed_to_team")
    assert fin["first_resolution_seconds"] == 700.0
    assert (fin["ai_replies"], fin["human_replies"], fin["ai_agent_id"]) == (2, 1, FIN)
    assert (fin["ai_handled"], fin["csat_score"]) == (False, 5)

    solved = row_of(store, "conversation_facts", conversation_id="intercom:1297")
    # Fin answers in 4 s and closes at 40 s; no human ever replies.
    assert solved["first_response_seconds"] == 4.0
    assert solved["first_human_response_seconds"] is None
    assert solved["first_resolution_seconds"] == 40.0
    assert (solved["ai_handled"], solved["ai_replies"], solved["escalated"]) == (True, 1, False)
    assert solved["csat_score"] is None  # Fin's own rating is not the conversation's CSAT

    # Ciaran's own first response: from his assignment (the later of it and the wait).
    # 1295: assigned 14:21:23, replies 14:25:23: 240 s. 1296: the handoff 15:07:50, his
    # assignment 15:10:00, his reply 15:13:20: 200 s.
    for conversation, seconds in (("intercom:1295", 240.0), ("intercom:1296", 200.0)):
        mine = row_of(
            store, "agent_conversation_facts", conversation_id=conversation, agent_id=CIARAN
        )
        assert mine["agent_first_response_seconds"] == seconds
    fin_row = row_of(
        store, "agent_conversation_facts", conversation_id="intercom:1296", agent_id=FIN
    )
    assert (fin_row["replies"], fin_row["agent_first_response_seconds"]) == (2, 5.0)
    assert solved["ai_resolved"] is True

    agents = {r["agent_id"]: r["kind"] for r in rows_of(store, "agents")}
    assert agents == {FIN: "ai", CIARAN: "human"}
    values = query(
        store,
        Query.model_validate(
            {
                "metrics": ["escalation_rate", "ai_handled_rate", "csat_mean"],
                "period": "custom",
                "from": "2022-09-01T00:00:00Z",
                "to": "2022-10-01T00:00:00Z",
            }
        ),
    ).single()
    assert values.metrics["escalation_rate"].value == pytest.approx(1 / 3)
    assert values.metrics["ai_handled_rate"].value == pytest.approx(1 / 3)
    assert values.metrics["csat_mean"].value == pytest.approx(4.5)


def test_import_reports_bad_records_and_keeps_the_rest(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for name in (HUMAN, HANDOFF, FIN_ONLY):
        (folder / name).write_text((FIXTURES / name).read_text())
    bad = load(HANDOFF)
    bad["id"] = "1298"
    bad["conversation_rating"]["rating"] = 9
    good = load(FIN_ONLY)
    good["id"] = "1299"
    # One file, a JSON array: the bad conversation is refused, its neighbour kept.
    (folder / "more.json").write_text(json.dumps([bad, good]))
    (folder / "broken.json").write_text("{not json")
    summary = import_intercom(store, [folder])
    assert summary.files_read == 5
    assert summary.conversations_read == 5
    assert summary.conversations == 4
    assert [(Path(r.file).name, r.record_id, r.field) for r in summary.rejected] == [
        ("broken.json", None, None),
        ("more.json", "1298", "conversation_rating.rating"),
    ]
    ids = {r["conversation_id"] for r in rows_of(store, "conversation_facts")}
    assert ids == {"intercom:1295", "intercom:1296", "intercom:1297", "intercom:1299"}
    kept = {(r["source"], r["reason"].split(":")[0]) for r in store.rejected()}
    assert ("intercom:import", "conversation 1298") in kept
    # A second import stores nothing new.
    again = import_intercom(store, [folder])
    assert (again.accepted, again.duplicates) == (0, summary.accepted + summary.duplicates)


@pytest.mark.parametrize("part_type", ["away_mode_assignment", "assign_and_reopen"])
def test_other_assignment_parts_assign(part_type: str) -> None:
    conversation = load(HUMAN)
    conversation["conversation_parts"]["conversation_parts"][1]["part_type"] = part_type
    assigned = of_type(mapped(conversation), "conversation.assigned")
    assert [a.get("agent_id") for a in assigned] == [None, CIARAN]


def test_how_the_source_message_was_delivered() -> None:
    conversation = load(HUMAN)
    source = conversation["source"]
    source["delivered_as"] = "admin_initiated"
    source["author"] = {"type": "admin", "id": "991267493", "name": "Ciaran Lee"}
    first = of_type(mapped(conversation), "message.created")[0]
    assert (first["direction"], first["author_kind"], first["agent_id"]) == (
        "outbound",
        "agent",
        CIARAN,
    )
    source["delivered_as"] = "automated"  # a rule or campaign in Ciaran's name: no reply
    first = of_type(mapped(conversation), "message.created")[0]
    assert (first["direction"], first["author_kind"]) == ("outbound", "system")
    # The customer is still the conversation's contact, not the admin who wrote first.
    (created,) = of_type(mapped(conversation), "conversation.created")
    assert created["customer_id"] == "intercom:contact:5ba682d23d7cf92bef87bfd4"


def test_fin_handing_straight_to_an_admin() -> None:
    conversation = load(HANDOFF)
    parts = conversation["conversation_parts"]["conversation_parts"]
    parts[3]["assigned_to"] = {"type": "admin", "id": "991267493"}
    del parts[4]  # no separate take-over
    (handoff,) = of_type(mapped(conversation), "conversation.escalated")
    assert (handoff["to_agent_id"], handoff.get("to_team_id")) == (CIARAN, None)


def test_a_customer_reply_wakes_a_snoozed_conversation() -> None:
    conversation = load(HUMAN)
    parts = conversation["conversation_parts"]["conversation_parts"]
    del parts[5]  # no timer_unsnooze: the customer's reply at 14:35:23 wakes it
    statuses = of_type(mapped(conversation), "conversation.status_changed")
    assert [(s["status"], s["occurred_at"][11:19]) for s in statuses] == [
        ("snoozed", "14:26:23"),
        ("open", "14:35:23"),
        ("resolved", "14:45:23"),
    ]
