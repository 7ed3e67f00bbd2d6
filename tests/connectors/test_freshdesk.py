"""Freshdesk API answers -> contract events -> store -> facts, on DuckDB and PostgreSQL.

fixtures/freshdesk (README.md says where each file comes from) holds the documented
example objects (ticket 1 with its note and reply, the time entries, the satisfaction
ratings) and three tickets of the same shape whose numbers are worked out by hand (UTC):

- ticket 101 (email, group 7, agent 501): customer 2025-03-03 09:00, private note 09:10,
  reply 09:30 (first response 1800 s; the note does not count), customer 10:00, reply
  10:15, resolved 11:00 (7200 s), closed two days later (not a second resolution). Time
  entries 00:15 + 00:20 = 2100 s. Classic survey: 103 (happy) -> CSAT 5.
- ticket 102 (chat, agent 502): customer 03-04 10:00, reply 10:05 (300 s), the customer
  writes again at 12:00 and reopens it (stats.reopened_at), reply 12:30, resolved 13:00.
  Freshdesk kept only the last resolution, so the earlier one is placed at the reopen:
  first resolution 7200 s (an upper bound), full 10800 s, one reopen. Time entry 01:00 =
  3600 s. Custom survey: -102 (disagree) -> CSAT 2.
- ticket 103 (phone, pending): customer 03-05 08:00 and a private note only: no first
  response, no resolution, no handle time.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from deskpulse.connectors.freshdesk import (
    CLASSIC_SCORES,
    CUSTOM_SCORES,
    Bundle,
    FreshdeskOptions,
    Mapped,
    MappingError,
    add_page,
    csat_score,
    import_freshdesk,
    map_bundle,
    read_files,
    time_spent_seconds,
)
from deskpulse.events.contract import Rejection, parse_event
from deskpulse.events.store import Store
from deskpulse.metrics.query import Query, query
from tests.factories import row_of

FIXTURES = Path(__file__).parent / "fixtures" / "freshdesk"

PERIOD = Query(
    metrics=[
        "conversations",
        "first_response_median",
        "first_resolution_median",
        "full_resolution_median",
        "reopen_rate",
        "aht_mean",
        "csat_mean",
        "csat_responses",
        "csat_satisfied_rate",
    ],
    period="custom",
    start=datetime(2025, 3, 1, tzinfo=UTC),
    end=datetime(2025, 4, 1, tzinfo=UTC),
)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def mapped(*pages: Any, options: FreshdeskOptions | None = None) -> Mapped:
    bundle = Bundle()
    for index, content in enumerate(pages):
        add_page(bundle, content, f"page-{index}.json")
    return map_bundle(bundle, options)


def by_id(result: Mapped) -> dict[str, dict[str, Any]]:
    return {event["id"]: event for event in result.events}


def of_type(result: Mapped, kind: str) -> list[dict[str, Any]]:
    return [event for event in result.events if event["type"] == kind]


# -- reading and mapping ---------------------------------------------------------------


def test_readme_names_the_source_of_every_fixture() -> None:
    readme = (FIXTURES / "README.md").read_text()
    for path in sorted(FIXTURES.glob("*.json")):
        assert f"`{path.name}`" in readme, path.name


def test_records_are_recognised_by_shape() -> None:
    bundle = read_files([FIXTURES])
    assert len(bundle.files) == 12
    counts = {kind: len(rows) for kind, rows in bundle.records.items()}
    assert counts == {"ticket": 4, "conversation": 10, "time_entry": 6, "rating": 4, "agent": 2}
    assert bundle.rejected == []


def test_every_mapped_event_passes_the_contract_and_ids_are_stable() -> None:
    result = map_bundle(read_files([FIXTURES]))
    for index, event in enumerate(result.events):
        assert not isinstance(parse_event(event, index), Rejection), event
    assert result.events == map_bundle(read_files([FIXTURES])).events


def test_documented_ticket_becomes_conversation_and_first_message() -> None:
    events = by_id(mapped(load("ticket_1.json")))
    created = events["freshdesk:ticket:1:created"]
    assert created == {
        "id": "freshdesk:ticket:1:created",
        "type": "conversation.created",
        "occurred_at": "2016-05-18T04:36:04Z",
        "conversation_id": "fd-1",
        "channel": "other",  # source 2: the portal
        "inbox_id": "freshdesk",
        "customer_id": "fd-6012691534",
        "inquiry": "Question",  # the ticket type
        "priority": "low",
        "subject": "This is a sample ticket",
    }
    description = events["freshdesk:ticket:1:description"]
    assert (description["direction"], description["author_kind"]) == ("inbound", "customer")
    assert description["occurred_at"] == "2016-05-18T04:36:04Z"
    assert description["text"] == "This is a sample ticket, feel free to delete it."
    assigned = events["freshdesk:ticket:1:assigned:6010396333:None:2016-05-18T23:42:50Z"]
    assert (assigned["agent_id"], assigned.get("team_id")) == ("fd-6010396333", None)
    # status 2 (Open): no status event, even with a stale stats.resolved_at
    assert of_type(mapped(load("ticket_1.json")), "conversation.status_changed") == []


@pytest.mark.parametrize(
    ("source", "channel"),
    [
        (1, "email"),
        (2, "other"),
        (3, "voice"),
        (5, "social"),
        (7, "chat"),
        (9, "other"),
        (42, "other"),
    ],
)
def test_channels(source: int, channel: str) -> None:
    ticket = load("ticket_1.json") | {"source": source}
    assert of_type(mapped(ticket), "conversation.created")[0]["channel"] == channel


def test_outbound_email_ticket_has_no_customer_message() -> None:
    result = mapped(load("ticket_1.json") | {"source": 10})
    assert of_type(result, "conversation.created")[0]["channel"] == "email"
    assert of_type(result, "message.created") == []
    assert result.skipped == {
        "outbound-email tickets: description is the agent's, not a message": 1
    }


def test_conversations_public_private_incoming_and_ai() -> None:
    events = by_id(mapped(load("conversations_1.json"), load("conversations_101.json")))
    note, reply = events["freshdesk:conversation:1"], events["freshdesk:conversation:2"]
    assert (note["direction"], note["author_kind"], note["agent_id"]) == ("note", "agent", "fd-1")
    assert (reply["direction"], reply["author_kind"], reply["agent_id"]) == (
        "outbound",
        "agent",
        "fd-1",
    )
    assert reply["conversation_id"] == "fd-1"
    customer = events["freshdesk:conversation:10103"]
    assert (customer["direction"], customer["author_kind"]) == ("inbound", "customer")
    assert "agent_id" not in customer
    bot = by_id(
        mapped(
            load("conversations_1.json"), options=FreshdeskOptions(ai_agent_ids=frozenset({"1"}))
        )
    )
    assert bot["freshdesk:conversation:2"]["author_kind"] == "ai"
    assert bot["freshdesk:conversation:1"]["direction"] == "note"


def test_statuses_from_stats() -> None:
    result = mapped(load("tickets_page_1.json"))
    statuses = [
        (e["conversation_id"], e["occurred_at"], e["status"])
        for e in of_type(result, "conversation.status_changed")
    ]
    assert statuses == [
        ("fd-101", "2025-03-03T11:00:00Z", "resolved"),  # closed 03-05: not a second one
        ("fd-102", "2025-03-04T12:00:00Z", "resolved"),  # placed at the reopen
        ("fd-102", "2025-03-04T12:00:00Z", "open"),  # the reopen, after it
        ("fd-102", "2025-03-04T13:00:00Z", "resolved"),
        ("fd-103", "2025-03-05T08:20:00Z", "pending"),
    ]
    assert result.skipped == {"reopened tickets: earlier resolution placed at the reopen": 1}


def test_earlier_resolution_kept_when_freshdesk_still_has_it() -> None:
    ticket = copy.deepcopy(load("tickets_page_1.json")[1])
    ticket["status"] = 2
    ticket["stats"]["resolved_at"] = "2025-03-04T11:00:00Z"  # before the reopen at 12:00
    statuses = [
        (e["occurred_at"], e["status"])
        for e in of_type(mapped([ticket]), "conversation.status_changed")
    ]
    assert statuses == [("2025-03-04T11:00:00Z", "resolved"), ("2025-03-04T12:00:00Z", "open")]


def test_closed_without_resolution_is_resolved_at_closing() -> None:
    ticket = copy.deepcopy(load("tickets_page_1.json")[0])
    ticket["stats"]["resolved_at"] = None
    [status] = of_type(mapped([ticket]), "conversation.status_changed")
    assert (status["occurred_at"], status["status"]) == ("2025-03-05T11:00:00Z", "resolved")


def test_the_requesters_reply_is_the_customers_whatever_incoming_says() -> None:
    ticket = load("tickets_page_1.json")[0]
    reply = load("conversations_101.json")[2] | {"incoming": False}  # user 9001, requester
    [message] = [e for e in mapped([ticket], [reply]).events if e["id"].endswith(":10103")]
    assert (message["direction"], message["author_kind"]) == ("inbound", "customer")
    # without the ticket, nobody can tell: incoming: false is an agent's reply
    [alone] = mapped([reply]).events
    assert (alone["direction"], alone["agent_id"]) == ("outbound", "fd-9001")


def test_ticket_from_a_list_page_without_description_still_has_its_first_message() -> None:
    ticket = {k: v for k, v in load("ticket_1.json").items() if not k.startswith("description")}
    first = by_id(mapped(ticket))["freshdesk:ticket:1:description"]
    assert (first["direction"], first["occurred_at"]) == ("inbound", "2016-05-18T04:36:04Z")
    assert "text" not in first


def test_time_entries_become_work_logged() -> None:
    events = by_id(mapped(load("time_entries.json")))
    first = events["freshdesk:time_entry:1"]
    assert first == {
        "id": "freshdesk:time_entry:1",
        "type": "work.logged",
        "occurred_at": "2020-09-27T22:00:00Z",  # executed_at
        "conversation_id": "fd-1",
        "agent_id": "fd-1",
        "seconds": 900,
        "kind": "work",
    }
    running = load("time_entries.json")[0] | {"timer_running": True}
    assert mapped([running]).events == []
    assert mapped([running]).skipped == {"time entries with a running timer": 1}


@pytest.mark.parametrize(("value", "seconds"), [("00:15", 900), ("01:00", 3600), ("10:05", 36300)])
def test_time_spent(value: str, seconds: int) -> None:
    assert time_spent_seconds(value) == seconds


@pytest.mark.parametrize("value", ["15", "1:5", "00:60", "aa:bb", 900, None])
def test_bad_time_spent_names_the_field(value: Any) -> None:
    with pytest.raises(MappingError) as raised:
        time_spent_seconds(value)
    assert raised.value.field == "time_spent"


def test_csat_scale_mapping() -> None:
    assert CLASSIC_SCORES == {103: 5, 102: 3, 101: 1}
    assert [csat_score(code, custom=True) for code in (-103, -102, -101, 100, 101, 102, 103)] == [
        1,
        2,
        2,
        3,
        4,
        4,
        5,
    ]
    assert set(CUSTOM_SCORES) == {-103, -102, -101, 100, 101, 102, 103}
    # 5-point (-103 -102 100 102 103) and 3-point (-103 100 103) scales keep their ends
    assert [csat_score(code, custom=True) for code in (-103, 100, 103)] == [1, 3, 5]
    with pytest.raises(MappingError, match="classic survey codes are 101, 102 or 103"):
        csat_score(100, custom=False)
    with pytest.raises(MappingError):
        csat_score("103", custom=True)


def test_survey_kind_is_detected_from_the_answers() -> None:
    classic = {
        "id": 1,
        "survey_id": 5,
        "ticket_id": 7,
        "ratings": {"default_question": 102},
        "created_at": "2025-03-03T12:00:00Z",
        "updated_at": "2025-03-03T12:00:00Z",
    }
    # Alone, survey 5 answers classic codes: 102 is neutral.
    assert of_type(mapped([classic]), "survey.responded")[0]["score"] == 3
    # Another answer to survey 5 with a negative code shows it is a custom survey: 102
    # is "agree".
    custom = classic | {"id": 2, "ticket_id": 8, "ratings": {"default_question": -103}}
    scores = {
        e["conversation_id"]: e["score"]
        for e in of_type(mapped([classic, custom]), "survey.responded")
    }
    assert scores == {"fd-7": 4, "fd-8": 1}
    # Or the team says so.
    named = FreshdeskOptions(custom_survey_ids=frozenset({"5"}))
    assert of_type(mapped([classic], options=named), "survey.responded")[0]["score"] == 4


def test_documented_ratings_one_with_a_malformed_time_is_rejected() -> None:
    # The API documentation's own example has "2015-08-28T011:08:16Z".
    result = mapped(load("satisfaction_ratings_docs.json"))
    [survey] = of_type(result, "survey.responded")
    # survey 1 asks two questions: custom, so 103 is "strongly agree" -> 5
    assert (survey["id"], survey["score"], survey["comment"]) == (
        "freshdesk:rating:102:2015-08-28T09:08:16Z",
        5,
        "Thank you for the quick action",
    )
    assert [(r.kind, r.record_id, r.field) for r in result.rejected] == [
        ("rating", "112", "updated_at")
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"requester_id": None}, "requester_id"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"status": "open"}, "status"),
        ({"stats": {"resolved_at": "2025-13-01T00:00:00Z"}}, "resolved_at"),
    ],
)
def test_bad_ticket_is_rejected_with_its_field_and_makes_no_events(
    change: dict[str, Any], field: str
) -> None:
    bad = load("ticket_1.json") | change
    result = mapped([bad, load("tickets_page_1.json")[0]])
    assert [(r.kind, r.record_id, r.field) for r in result.rejected] == [("ticket", "1", field)]
    assert {e["conversation_id"] for e in result.events} == {"fd-101"}


def test_bad_conversation_and_unknown_record_are_rejected_the_rest_read(tmp_path: Path) -> None:
    conversations = load("conversations_101.json")
    conversations[1]["private"] = "no"
    (tmp_path / "conversations.json").write_text(json.dumps(conversations))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "other.json").write_text(json.dumps([{"id": 5, "name": "a company"}]))
    bundle = read_files([tmp_path])
    result = map_bundle(bundle)
    assert sorted((Path(r.file).name, r.kind, r.field) for r in result.rejected) == [
        ("broken.json", "file", None),
        ("conversations.json", "conversation", "private"),
        ("other.json", "file", None),
    ]
    assert len(of_type(result, "message.created")) == 3


def test_spam_tickets_are_skipped() -> None:
    result = mapped(load("ticket_1.json") | {"spam": True})
    assert result.events == []
    assert result.skipped == {"spam or deleted tickets": 1}


def test_embedded_conversations_belong_to_their_ticket() -> None:
    ticket = load("ticket_1.json")
    ticket["conversations"] = [
        {k: v for k, v in c.items() if k != "ticket_id"} for c in load("conversations_1.json")
    ]
    events = by_id(mapped(ticket))
    assert events["freshdesk:conversation:2"]["conversation_id"] == "fd-1"


# -- through the store ---------------------------------------------------------------------


def test_import_then_query_gives_hand_computed_numbers(store: Store) -> None:
    summary = import_freshdesk(store, [FIXTURES])
    assert summary.files_read == 12
    assert summary.records_read == 26
    assert [(r.kind, r.record_id, r.field) for r in summary.rejected] == [
        ("rating", "112", "updated_at")
    ]
    assert summary.accepted == summary.events_made == 37
    values = {k: v.as_json() for k, v in query(store, PERIOD).single().metrics.items()}
    assert values["conversations"] == {"value": 3, "n": 3}
    # median(1800, 300): 101's private note at 09:10 is not a reply; 103 has none
    assert values["first_response_median"] == {"value": 1050.0, "n": 2}
    assert values["first_resolution_median"] == {"value": 7200.0, "n": 2}
    assert values["full_resolution_median"] == {"value": 9000.0, "n": 2}  # (7200+10800)/2
    assert values["reopen_rate"]["value"] == pytest.approx(0.5)  # 102 of 101, 102
    assert values["aht_mean"] == {"value": 2850.0, "n": 2}  # (2100 + 3600) / 2
    assert values["csat_mean"]["value"] == pytest.approx((5 + 2) / 2)
    assert values["csat_responses"] == {"value": 2, "n": 2}
    assert values["csat_satisfied_rate"]["value"] == pytest.approx(0.5)

    first = row_of(store, "conversation_facts", conversation_id="fd-101")
    assert first["first_response_seconds"] == 1800.0
    assert first["handle_seconds"] == 2100.0
    assert first["handle_time_estimated"] is False
    assert first["reopens"] == 0
    assert (first["channel"], first["team_id"], first["assignee_id"]) == (
        "email",
        "fd-group-7",
        "fd-501",
    )
    assert first["csat_score"] == 5
    reopened = row_of(store, "conversation_facts", conversation_id="fd-102")
    assert reopened["reopens"] == 1
    assert reopened["handle_seconds"] == 3600.0
    assert reopened["csat_score"] == 2
    pending = row_of(store, "conversation_facts", conversation_id="fd-103")
    assert pending["first_response_seconds"] is None
    assert pending["handle_seconds"] is None
    agent = row_of(store, "agent_conversation_facts", conversation_id="fd-101", agent_id="fd-501")
    assert agent["agent_first_response_seconds"] == 1800.0


def test_importing_twice_stores_nothing_new(store: Store) -> None:
    first = import_freshdesk(store, [FIXTURES])
    numbers = query(store, PERIOD).as_json()
    again = import_freshdesk(store, [FIXTURES], batch_size=5)
    assert again.accepted == 0
    assert again.duplicates == first.events_made
    assert query(store, PERIOD).as_json() == numbers


def test_bad_record_is_kept_with_its_reason_and_the_rest_imports(
    store: Store, tmp_path: Path
) -> None:
    for path in FIXTURES.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text())
    entries = load("time_entries_102.json")
    entries[0]["time_spent"] = "1h"
    (tmp_path / "time_entries_102.json").write_text(json.dumps(entries))
    summary = import_freshdesk(store, [tmp_path])
    assert sorted((r.kind, r.record_id, r.field) for r in summary.rejected) == [
        ("rating", "112", "updated_at"),
        ("time_entry", "21", "time_spent"),
    ]
    assert summary.accepted == 36
    reasons = sorted(row["reason"] for row in store.rejected())
    assert any("time_spent: must be" in reason for reason in reasons)
    assert all(row["source"] == "freshdesk" for row in store.rejected())
    # 102 now has no logged work: its handle time is estimated from its replies
    reopened = row_of(store, "conversation_facts", conversation_id="fd-102")
    assert reopened["handle_time_estimated"] is True
    assert row_of(store, "conversation_facts", conversation_id="fd-101")["handle_seconds"] == 2100.0


def test_the_documented_rating_table_is_the_one_in_the_code() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "connectors-freshdesk.md").read_text()
    classic: dict[int, int] = {}
    custom: dict[int, int] = {}
    for line in doc.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not re.fullmatch(r"-?10[0-3]", cells[0]):
            continue
        code = int(cells[0])
        scores = [int(n) for n in re.findall(r"\*\*(\d)\*\*", cells[3])]
        if cells[1] != "—":
            classic[code] = scores[0]
        if cells[2] != "—":
            custom[code] = scores[-1]
    assert classic == CLASSIC_SCORES
    assert custom == CUSTOM_SCORES
