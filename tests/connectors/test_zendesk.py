"""Zendesk export pages -> contract events: one test per record kind and rule.

Fixtures in fixtures/zendesk/ are the documented example responses (each names its page
in `_source`), plus tickets of the same shape so a timeline can be worked out by hand.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from deskpulse.connectors.zendesk import (
    ExportBundle,
    Mapped,
    ZendeskOptions,
    add_page,
    map_export,
    read_export,
)
from deskpulse.events.contract import Rejection, parse_event

FIXTURES = Path(__file__).parent / "fixtures" / "zendesk"


def page(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return loaded


def mapped(*pages: dict[str, Any], options: ZendeskOptions | None = None) -> Mapped:
    bundle = ExportBundle()
    for index, content in enumerate(pages):
        add_page(bundle, content, f"page-{index}.json")
    return map_export(bundle, options)


def by_id(result: Mapped) -> dict[str, dict[str, Any]]:
    return {event["id"]: event for event in result.events}


def of_type(result: Mapped, kind: str) -> list[dict[str, Any]]:
    return [event for event in result.events if event["type"] == kind]


def test_every_fixture_names_its_documentation_page() -> None:
    for path in sorted(FIXTURES.glob("*.json")):
        source = json.loads(path.read_text())["_source"]
        assert "developer.zendesk.com" in source, path.name


def test_folder_is_read_and_kinds_detected_by_top_level_key() -> None:
    bundle = read_export([FIXTURES])
    assert len(bundle.files) == 7
    counts = {kind: len(rows) for kind, rows in bundle.records.items()}
    assert counts == {
        "ticket": 5,
        "ticket_event": 11,
        "audit": 6,
        "satisfaction_rating": 4,
        "ticket_metric": 4,
        "user": 7,
    }
    assert bundle.rejected == []


def test_every_mapped_event_passes_the_contract() -> None:
    result = map_export(read_export([FIXTURES]))
    assert result.rejected == []
    for index, event in enumerate(result.events):
        assert not isinstance(parse_event(event, index), Rejection), event


def test_ids_are_deterministic() -> None:
    first = map_export(read_export([FIXTURES])).events
    second = map_export(read_export([FIXTURES])).events
    assert first == second
    assert len({e["id"] for e in first}) == len(first)


def test_ticket_becomes_conversation_created() -> None:
    created = by_id(mapped(page("tickets.json")))["zendesk:ticket:35436:created"]
    assert created == {
        "id": "zendesk:ticket:35436:created",
        "type": "conversation.created",
        "occurred_at": "2009-07-20T22:55:29Z",
        "conversation_id": "zd-35436",
        "channel": "other",  # via web form
        "inbox_id": "zd-group-98738",  # no brand_id on the example: the group
        "customer_id": "zd-20978392",
        "inquiry": "enterprise",  # first tag
        "priority": "high",
        "subject": "Help, my printer is on fire!",
    }


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("email", "email"),
        ("chat", "chat"),
        ("native_messaging", "chat"),
        ("voice", "voice"),
        ("twitter", "social"),
        ("sms", "sms"),
        ("web", "other"),
        ("api", "other"),
        ("something_new", "other"),
    ],
)
def test_channels(channel: str, expected: str) -> None:
    tickets = page("tickets.json")
    tickets["tickets"] = [dict(tickets["tickets"][0], via={"channel": channel})]
    assert of_type(mapped(tickets), "conversation.created")[0]["channel"] == expected


def test_inquiry_from_custom_field_and_inbox_from_brand() -> None:
    tickets = page("tickets.json")
    tickets["tickets"] = [dict(tickets["tickets"][0], brand_id=77)]
    options = ZendeskOptions(inquiry_field_id=27642, inbox_from="brand")
    created = of_type(mapped(tickets, options=options), "conversation.created")[0]
    assert created["inquiry"] == "745"
    assert created["inbox_id"] == "zd-brand-77"
    grouped = of_type(
        mapped(tickets, options=ZendeskOptions(inbox_from="group")), "conversation.created"
    )
    assert grouped[0]["inbox_id"] == "zd-group-98738"


def test_ticket_without_history_gives_its_snapshot() -> None:
    result = mapped(page("tickets.json"))
    assigned = by_id(result)["zendesk:ticket:35436:assignee:235323:2011-05-05T10:38:52Z"]
    assert assigned["agent_id"] == "zd-235323"
    assert assigned["team_id"] == "zd-group-98738"
    # Solved tickets without history are resolved as of their last update.
    statuses = of_type(result, "conversation.status_changed")
    assert {(e["conversation_id"], e["status"]) for e in statuses} == {
        ("zd-208", "resolved"),
        ("zd-210", "resolved"),
        ("zd-209", "resolved"),
    }


def test_ticket_with_history_gets_no_snapshot_events() -> None:
    result = mapped(page("tickets.json"), page("ticket_events.json"))
    snapshot = [
        e
        for e in result.events
        if e["id"].startswith("zendesk:ticket:208:") and "created" not in e["id"]
    ]
    assert snapshot == []


def test_comments_public_private_and_author_role() -> None:
    events = by_id(mapped(page("users.json"), page("ticket_events.json")))
    customer = events["zendesk:event:91048994501"]
    assert (customer["direction"], customer["author_kind"]) == ("inbound", "customer")
    assert customer["text"] == "The printer is smoking again."
    reply = events["zendesk:event:91048994511"]
    assert (reply["direction"], reply["author_kind"], reply["agent_id"]) == (
        "outbound",
        "agent",
        "zd-135",
    )
    note = events["zendesk:event:91048994506"]
    assert (note["direction"], note["author_kind"], note["agent_id"]) == ("note", "agent", "zd-135")


def test_author_role_falls_back_to_the_requester_without_users() -> None:
    events = by_id(mapped(page("tickets.json"), page("audits_209.json")))
    assert events["zendesk:event:2127302001"]["author_kind"] == "customer"  # 7881 = requester
    assert events["zendesk:event:2127302021"]["author_kind"] == "agent"  # 136


def test_comment_with_unknown_author_role_is_rejected_and_the_rest_import() -> None:
    result = mapped(page("audits_209.json"))  # no users, no ticket: roles unknowable
    assert {r.field for r in result.rejected} == {"author_id"}
    assert len(result.rejected) == 5  # the five comments
    assert of_type(result, "conversation.status_changed")  # status changes still map


def test_status_mapping_skips_changes_that_change_nothing() -> None:
    result = mapped(page("users.json"), page("ticket_events.json"))
    statuses = [
        (e["conversation_id"], e["status"]) for e in of_type(result, "conversation.status_changed")
    ]
    # 208: new (create, open) and new->open are skipped; open->solved is resolved.
    # 210: new->pending, pending->solved, solved->open (a reopen), open->solved;
    # solved->closed by the automation is not a second resolution.
    assert statuses == [
        ("zd-208", "resolved"),
        ("zd-210", "pending"),
        ("zd-210", "resolved"),
        ("zd-210", "open"),
        ("zd-210", "resolved"),
    ]
    reopen = by_id(result)["zendesk:event:91048994532"]
    assert "agent_id" not in reopen  # the customer reopened it


def test_hold_is_pending_and_closed_without_solved_is_resolved() -> None:
    audits = {
        "audits": [
            {
                "author_id": 136,
                "created_at": "2012-02-01T02:00:00Z",
                "id": 1,
                "ticket_id": 5,
                "events": [
                    {
                        "field_name": "status",
                        "id": 11,
                        "previous_value": "open",
                        "type": "Change",
                        "value": "hold",
                    },
                ],
            },
            {
                "author_id": 136,
                "created_at": "2012-02-01T03:00:00Z",
                "id": 2,
                "ticket_id": 5,
                "events": [
                    {
                        "field_name": "status",
                        "id": 12,
                        "previous_value": "hold",
                        "type": "Change",
                        "value": "closed",
                    },
                ],
            },
        ]
    }
    statuses = [
        e["status"]
        for e in of_type(mapped(page("users.json"), audits), "conversation.status_changed")
    ]
    assert statuses == ["pending", "resolved"]


def test_assignee_changes_with_team_from_group() -> None:
    result = mapped(page("users.json"), page("tickets.json"), page("audits_209.json"))
    assigned = by_id(result)["zendesk:event:2127302012"]
    assert assigned["agent_id"] == "zd-136"
    assert assigned["team_id"] == "zd-group-44"
    unassign = copy.deepcopy(page("audits_209.json"))
    unassign["audits"][1]["events"][1]["value"] = None
    event = by_id(mapped(page("users.json"), unassign))["zendesk:event:2127302012"]
    assert "agent_id" in event  # sent explicitly: null means unassigned
    assert event["agent_id"] is None


def test_satisfaction_good_bad_and_unanswered() -> None:
    result = mapped(page("satisfaction_ratings.json"))
    scores = {
        e["conversation_id"]: (e["score"], e["occurred_at"])
        for e in of_type(result, "survey.responded")
    }
    assert scores == {
        "zd-208": (5, "2011-07-20T22:55:29Z"),
        "zd-209": (5, "2012-02-02T10:32:59Z"),  # updated_at: the latest answer
        "zd-210": (1, "2011-08-02T12:00:00Z"),
    }
    assert result.skipped == {"satisfaction ratings offered (no answer yet)": 1}
    assert (
        by_id(result)["zendesk:rating:35436:2011-07-20T22:55:29Z"]["comment"] == "Awesome support!"
    )


def test_bad_rating_score_is_rejected_with_field() -> None:
    ratings = page("satisfaction_ratings.json")
    ratings["satisfaction_ratings"][0]["score"] = "great"
    result = mapped(ratings)
    assert [(r.kind, r.record_id, r.field) for r in result.rejected] == [
        ("satisfaction_rating", "35436", "score")
    ]
    assert len(of_type(result, "survey.responded")) == 2


def test_agents_from_users_end_users_make_no_event() -> None:
    agents = {e["agent_id"]: e for e in of_type(mapped(page("users.json")), "agent.upserted")}
    assert set(agents) == {"zd-35436", "zd-135", "zd-136", "zd-235323", "zd-5246746"}
    assert agents["zd-35436"]["name"] == "Johnny Agent"
    assert agents["zd-35436"]["active"] is False  # the documented example is suspended
    assert agents["zd-136"]["kind"] == "human"


def test_system_user_comment_is_system() -> None:
    events = copy.deepcopy(page("ticket_events.json"))
    events["ticket_events"][0]["child_events"][0]["author_id"] = -1
    message = by_id(mapped(events))["zendesk:event:91048994401"]
    assert (message["direction"], message["author_kind"]) == ("outbound", "system")


def test_comment_flags_without_sideload_use_the_updater() -> None:
    events = {
        "ticket_events": [
            {
                "id": 1,
                "ticket_id": 208,
                "created_at": "2011-07-20T20:30:00Z",
                "timestamp": 1311193800,
                "updater_id": 135,
                "event_type": "Audit",
                "child_events": [
                    {
                        "id": 2,
                        "via": "Web form",
                        "via_reference_id": None,
                        "comment_present": True,
                        "comment_public": True,
                        "event_type": "Comment",
                    }
                ],
            }
        ]
    }
    message = by_id(mapped(page("users.json"), events))["zendesk:event:2"]
    assert (message["author_kind"], message["agent_id"]) == ("agent", "zd-135")


def test_unknown_files_and_bad_records_are_rejected_the_rest_read(tmp_path: Path) -> None:
    (tmp_path / "junk.json").write_text('{"organizations": []}')
    (tmp_path / "broken.json").write_text("{not json")
    tickets = page("tickets.json")
    del tickets["tickets"][1]["requester_id"]
    tickets["tickets"][2]["created_at"] = "2011-08-01 09:00:00"  # no offset
    (tmp_path / "tickets.json").write_text(json.dumps(tickets))
    bundle = read_export([tmp_path])
    result = map_export(bundle)
    reasons = {(Path(r.file).name, r.record_id, r.field) for r in result.rejected}
    assert reasons == {
        ("broken.json", None, None),
        ("junk.json", None, None),
        ("tickets.json", "208", "requester_id"),
        ("tickets.json", "210", "created_at"),
    }
    assert len(of_type(result, "conversation.created")) == 3
