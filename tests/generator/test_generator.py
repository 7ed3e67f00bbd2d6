"""The synthetic data generator: deterministic, valid against the contract, realistic shape.

The checks below compute everything from the raw JSON Lines on purpose: they must not
depend on the facts or metrics layers they are meant to feed.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from deskpulse.events.contract import Rejection, parse_event
from deskpulse.generator import (
    BUSINESS_HOURS_INBOX,
    DEGRADING_INBOXES,
    EXPERIMENT,
    GenerationSummary,
    default_end,
    generate,
)

END = datetime(2025, 6, 1, tzinfo=UTC)
DAYS = 120
SIZE = 2_000

Events = list[dict[str, Any]]


def _run(**kwargs: Any) -> tuple[bytes, GenerationSummary]:
    buffer = io.BytesIO()
    summary = generate(buffer, **{"end": END, **kwargs})
    return buffer.getvalue(), summary


def _parse(data: bytes) -> Events:
    return [orjson.loads(line) for line in data.splitlines()]


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture(scope="module")
def run() -> tuple[bytes, GenerationSummary]:
    return _run(seed=11, conversations=SIZE, days=DAYS)


@pytest.fixture(scope="module")
def events(run: tuple[bytes, GenerationSummary]) -> Events:
    return _parse(run[0])


@pytest.fixture(scope="module")
def by_conversation(events: Events) -> dict[str, Events]:
    grouped: dict[str, Events] = defaultdict(list)
    for event in events:
        if "conversation_id" in event:
            grouped[event["conversation_id"]].append(event)
    return grouped


# --------------------------------------------------------------------------- determinism


def test_same_arguments_give_identical_bytes() -> None:
    first, _ = _run(seed=3, conversations=300, days=30)
    second, _ = _run(seed=3, conversations=300, days=30)
    assert first == second


def test_different_seed_gives_different_output() -> None:
    first, _ = _run(seed=3, conversations=300, days=30)
    other, _ = _run(seed=4, conversations=300, days=30)
    assert first != other


def test_path_and_stream_outputs_are_the_same(tmp_path: Path) -> None:
    streamed, _ = _run(seed=5, conversations=200, days=20)
    target = tmp_path / "events.jsonl"
    summary = generate(target, seed=5, conversations=200, days=20, end=END)
    assert target.read_bytes() == streamed
    assert summary.path == target


# --------------------------------------------------------------------------- validity


def test_every_event_validates_against_the_contract(events: Events) -> None:
    rejected = [r for i, e in enumerate(events) if isinstance(r := parse_event(e, i), Rejection)]
    assert rejected == []


def test_every_event_is_inside_the_window(events: Events) -> None:
    start = END - timedelta(days=DAYS)
    times = [_ts(e["occurred_at"]) for e in events]
    assert min(times) >= start
    assert max(times) < END
    assert all(e["occurred_at"].endswith("Z") for e in events)


def test_ids_are_unique_and_stable(events: Events) -> None:
    ids = [e["id"] for e in events]
    assert len(set(ids)) == len(ids)
    assert ids[:3] == ["ev-11-1", "ev-11-2", "ev-11-3"]
    message_ids = [e["message_id"] for e in events if e["type"] == "message.created"]
    assert len(set(message_ids)) == len(message_ids)
    created = [e["conversation_id"] for e in events if e["type"] == "conversation.created"]
    assert len(set(created)) == len(created) == SIZE
    assert created[0] == "conv-000001"


def test_summary_matches_the_output(run: tuple[bytes, GenerationSummary], events: Events) -> None:
    _, summary = run
    assert summary.events == len(events)
    assert summary.conversations == SIZE
    assert (summary.agents, summary.teams) == (60, 4)
    assert summary.path is None
    assert summary.first_event_at == END - timedelta(days=DAYS)
    assert summary.last_event_at == max(_ts(e["occurred_at"]) for e in events)


def test_agents_come_first_and_events_of_a_conversation_are_in_time_order(
    events: Events, by_conversation: dict[str, Events]
) -> None:
    header = [e["type"] for e in events[:61]]
    assert header == ["agent.upserted"] * 60 + ["business_hours.set"]
    for stream in by_conversation.values():
        assert stream[0]["type"] == "conversation.created"
        times = [e["occurred_at"] for e in stream]
        assert times == sorted(times)


def test_progress_reports_every_thousand_conversations() -> None:
    reported: list[int] = []
    generate(io.BytesIO(), seed=1, conversations=2_500, days=30, end=END, progress=reported.append)
    assert reported == [1_000, 1_000, 500]


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="aware"):
        generate(io.BytesIO(), conversations=1, end=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="agent per team"):
        generate(io.BytesIO(), conversations=1, end=END, agents=5, ai_agents=2, teams=4)


def test_default_end_is_now_floored_to_the_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKPULSE_NOW", "2026-10-25T01:47:12+02:00")
    assert default_end() == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    monkeypatch.delenv("DESKPULSE_NOW")
    end = default_end()
    assert (end.minute, end.second, end.microsecond) == (0, 0, 0)
    assert timedelta(0) <= datetime.now(UTC) - end < timedelta(hours=1, seconds=5)


def test_small_organisations_work() -> None:
    data, summary = _run(seed=2, conversations=200, days=10, agents=4, ai_agents=1, teams=3)
    assert (summary.agents, summary.teams) == (4, 3)
    parsed = _parse(data)
    assert not [e for i, e in enumerate(parsed) if isinstance(parse_event(e, i), Rejection)]


# --------------------------------------------------------------------------- shape


def test_organisation(events: Events) -> None:
    upserts = [e for e in events if e["type"] == "agent.upserted"]
    first: dict[str, dict[str, Any]] = {}
    for e in upserts:
        first.setdefault(e["agent_id"], e)
    assert len(first) == 60
    ai = [e for e in first.values() if e["kind"] == "ai"]
    assert len(ai) == 2
    assert all(e["name"].endswith("(AI)") for e in ai)
    teams = {t for e in first.values() for t in e["team_ids"]}
    assert teams == {"team-billing", "team-tech", "team-accounts", "team-general"}
    emails = [e["email"] for e in first.values()]
    assert len(set(emails)) == 60
    assert all("@" in email for email in emails)
    # One or two people leave during the window: their latest upsert is inactive.
    latest = {e["agent_id"]: e["active"] for e in upserts}
    assert 1 <= sum(not active for active in latest.values()) <= 2


def test_conversation_mix(events: Events) -> None:
    created = [e for e in events if e["type"] == "conversation.created"]
    channels = Counter(e["channel"] for e in created)
    assert set(channels) == {"chat", "email", "voice", "social", "sms"}
    assert channels.most_common(2)[0][0] in ("chat", "email")
    assert {c for c, _ in channels.most_common(2)} == {"chat", "email"}
    inquiries = {e["inquiry"] for e in created if "inquiry" in e}
    assert len(inquiries) >= 15
    labelled = sum("inquiry" in e for e in created) / len(created)
    assert 0.78 < labelled < 0.92
    assert {e["customer_tier"] for e in created} == {"free", "pro", "enterprise"}
    assert {e["language"] for e in created} == {"en", "es", "de", "fr"}
    assert len({e["inbox_id"] for e in created}) >= 6
    customers = Counter(e["customer_id"] for e in created)
    assert customers.most_common(1)[0][1] > 1  # customers return


def test_csat_response_rate_and_other_surveys(
    events: Events, by_conversation: dict[str, Events]
) -> None:
    surveys = [e for e in events if e["type"] == "survey.responded"]
    with_csat = {e["conversation_id"] for e in surveys if e["survey"] == "csat"}
    assert 0.18 <= len(with_csat) / SIZE <= 0.32
    scores = [e["score"] for e in surveys if e["survey"] == "csat"]
    assert statistics.mean(scores) > 3.8  # skewed positive
    assert set(scores) == {1, 2, 3, 4, 5}
    kinds = Counter(e["survey"] for e in surveys)
    assert kinds["nps"] > 0
    assert kinds["ces"] > 0
    answered_twice = Counter(e["conversation_id"] for e in surveys if e["survey"] == "csat")
    assert any(n > 1 for n in answered_twice.values())


def test_ai_agents_escalations_costs_and_experiment(events: Events) -> None:
    ai_ids = {e["agent_id"] for e in events if e["type"] == "agent.upserted" and e["kind"] == "ai"}
    ai_replies = [e for e in events if e["type"] == "message.created" and e["author_kind"] == "ai"]
    assert ai_replies
    assert {e["agent_id"] for e in ai_replies} <= ai_ids
    escalations = [e for e in events if e["type"] == "conversation.escalated"]
    from_ai = [e for e in escalations if e["from_agent_id"] in ai_ids]
    assert from_ai
    reasons = {e["reason"] for e in from_ai}
    assert {"customer_requested_human", "low_confidence", "billing_authority"} <= reasons
    costs = [e for e in events if e["type"] == "cost.recorded"]
    assert {e["currency"] for e in costs} == {"USD"}
    assert {e["kind"] for e in costs} == {"inference", "tools"}
    amounts = [float(e["amount"]) for e in costs if e["kind"] == "inference"]
    assert min(amounts) > 0.01
    assert max(amounts) < 0.7
    assert all(isinstance(e["amount"], str) for e in costs)
    exposures = [e for e in events if e["type"] == "experiment.exposed"]
    assert {e["experiment"] for e in exposures} == {EXPERIMENT}
    assert {e["variant"] for e in exposures} == {"control", "concise"}
    first_exposure = min(_ts(e["occurred_at"]) for e in exposures)
    assert first_exposure >= END - timedelta(days=30)


def test_collaboration_and_flow(events: Events, by_conversation: dict[str, Events]) -> None:
    messages = [e for e in events if e["type"] == "message.created"]
    assist = Counter(
        e["ai_assist"]
        for e in messages
        if e["author_kind"] == "agent" and e["direction"] == "outbound"
    )
    assert set(assist) == {"none", "draft_as_is", "draft_edited"}
    assert assist["none"] > assist["draft_edited"] > assist["draft_as_is"]
    notes = [e for e in messages if e["direction"] == "note"]
    assert notes
    assert any(e.get("mentions") for e in notes)

    teammate_replies = reopened = 0
    for stream in by_conversation.values():
        assignee = None
        resolved_once = was_reopened = has_teammate = False
        for e in stream:
            if e["type"] == "conversation.assigned":
                assignee = e["agent_id"]
            elif e["type"] == "conversation.status_changed":
                if e["status"] == "resolved":
                    resolved_once = True
                elif e["status"] == "open" and resolved_once:
                    was_reopened = True
            elif (
                e["type"] == "message.created"
                and e["direction"] == "outbound"
                and e["author_kind"] == "agent"
                and e["agent_id"] != assignee
            ):
                has_teammate = True
        teammate_replies += has_teammate
        reopened += was_reopened
    assert 0.02 < teammate_replies / SIZE < 0.1
    assert 0.04 < reopened / SIZE < 0.14

    statuses = Counter(e["status"] for e in events if e["type"] == "conversation.status_changed")
    assert {"resolved", "pending", "snoozed", "open"} <= set(statuses)
    work = Counter(e["kind"] for e in events if e["type"] == "work.logged")
    assert {"talk", "hold", "wrap", "work"} <= set(work)
    with_work = {e["conversation_id"] for e in events if e["type"] == "work.logged"}
    assert 0.1 < len(with_work) / SIZE < 0.9  # the handle-time estimate is exercised too
    updates = [e for e in events if e["type"] == "conversation.updated"]
    assert any("inquiry" in e for e in updates)
    assert any("priority" in e for e in updates)


def test_recent_conversations_are_still_open(by_conversation: dict[str, Events]) -> None:
    unresolved_recent = 0
    for stream in by_conversation.values():
        created = _ts(stream[0]["occurred_at"])
        statuses = [e["status"] for e in stream if e["type"] == "conversation.status_changed"]
        if created > END - timedelta(days=2) and (not statuses or statuses[-1] != "resolved"):
            unresolved_recent += 1
    assert unresolved_recent > 0


def test_business_hours(events: Events) -> None:
    hours = [e for e in events if e["type"] == "business_hours.set"]
    assert len(hours) == 1
    schedule = hours[0]
    assert schedule["inbox_id"] == BUSINESS_HOURS_INBOX
    assert schedule["timezone"] == "Europe/Berlin"
    assert len(schedule["holidays"]) == 2
    assert {(i["start"], i["end"]) for i in schedule["intervals"]} == {
        ("09:00", "12:30"),
        ("13:30", "17:30"),
    }
    assert {i["day"] for i in schedule["intervals"]} == {"mon", "tue", "wed", "thu", "fri"}


def test_weekends_are_quieter(events: Events) -> None:
    created = [_ts(e["occurred_at"]) for e in events if e["type"] == "conversation.created"]
    by_weekday = Counter(t.weekday() for t in created)
    assert by_weekday[6] < by_weekday[0] * 0.7


# --------------------------------------------------------------------------- degradation


@pytest.mark.parametrize("inbox", DEGRADING_INBOXES)
def test_degrading_queue_first_reply_rises(events: Events, inbox: str) -> None:
    created = {
        e["conversation_id"]: _ts(e["occurred_at"])
        for e in events
        if e["type"] == "conversation.created" and e["inbox_id"] == inbox
    }
    first_reply: dict[str, datetime] = {}
    for e in events:
        if e["type"] == "message.created" and e["direction"] == "outbound":
            cid = e["conversation_id"]
            if cid in created and cid not in first_reply:
                first_reply[cid] = _ts(e["occurred_at"])
    early: list[float] = []
    late: list[float] = []
    for cid, reply in first_reply.items():
        delay = (reply - created[cid]).total_seconds()
        if created[cid] < END - timedelta(days=DAYS - 30):
            early.append(delay)
        elif created[cid] >= END - timedelta(days=30):
            late.append(delay)
    assert len(early) >= 20
    assert len(late) >= 20
    assert statistics.median(late) > 1.05 * statistics.median(early)
