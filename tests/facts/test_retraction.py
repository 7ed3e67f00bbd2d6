"""Retracted events stop counting everywhere, on every backend; nothing is deleted."""

from __future__ import annotations

import pytest

from deskpulse.events.retraction import (
    RetractionConflictError,
    RetractionError,
    RetractionTargetMissingError,
    retract_event,
    retraction_count,
    retractions,
)
from deskpulse.events.store import Store
from deskpulse.metrics.report import build_report
from tests.factories import Events, ingest, refresh


def _csat(store: Store, as_of: object) -> dict[str, object]:
    report = build_report(store, period="30d", as_of=as_of)  # type: ignore[arg-type]
    value: dict[str, object] = report["team"]["csat_mean"]
    return value


def test_a_retracted_survey_stops_counting_in_the_report(store: Store) -> None:
    f = Events()
    f.agent("alice")
    one = f.conversation("c1", customer="u1", at=0).customer(at=1).reply("alice", at=2)
    one.resolve(at=3).survey("csat", 5, at=4)
    two = f.conversation("c2", customer="u2", at=0).customer(at=1).reply("alice", at=2)
    two.resolve(at=3).survey("csat", 1, at=4)
    test_survey = f.events[-1]["id"]
    ingest(store, f.events)
    refresh(store)
    as_of = f.at(60 * 24)
    assert _csat(store, as_of) == {"value": 3.0, "n": 2}

    done = retract_event(
        store, test_survey, reason="a test survey", retracted_by="olivia@example.com"
    )
    assert (done.event_type, done.conversation_id) == ("survey.responded", "c2")
    refresh(store)
    assert _csat(store, as_of) == {"value": 5.0, "n": 1}

    # Nothing was deleted: the survey and its tombstone are both stored, and audited.
    assert store.count("events") == len(f.events) + 1
    [audit] = retractions(store)
    assert (audit.event_id, audit.retracted_by, audit.reason) == (
        test_survey,
        "olivia@example.com",
        "a test survey",
    )
    assert retraction_count(store) == 1
    # A full rebuild agrees: every computation reads the same live events.
    refresh(store, full=True)
    assert _csat(store, as_of) == {"value": 5.0, "n": 1}


def test_retracting_twice_or_an_unknown_id_or_a_tombstone_is_refused(store: Store) -> None:
    f = Events()
    f.conversation("c1", at=0).customer(at=1)
    ingest(store, f.events)
    first = retract_event(store, "ev-2", reason="duplicate message", retracted_by="olivia")
    with pytest.raises(RetractionError) as twice:
        retract_event(store, "ev-2", reason="again", retracted_by="olivia")
    assert twice.value.code == "already_retracted"
    assert isinstance(twice.value, RetractionConflictError)
    assert "already retracted by olivia" in twice.value.message
    with pytest.raises(RetractionError) as unknown:
        retract_event(store, "no-such-event", reason="typo", retracted_by="olivia")
    assert isinstance(unknown.value, RetractionTargetMissingError)
    assert (unknown.value.code, unknown.value.field) == ("not_found", "event_id")
    with pytest.raises(RetractionError) as tombstone:
        retract_event(store, first.id, reason="undo", retracted_by="olivia")
    assert tombstone.value.code == "not_retractable"
    assert isinstance(tombstone.value, RetractionConflictError)
    with pytest.raises(RetractionError) as empty:
        retract_event(store, "ev-1", reason="  ", retracted_by="olivia")
    assert empty.value.field == "reason"
    assert retraction_count(store) == 1


def test_retracting_a_schedule_or_an_agent_recomputes_too(store: Store) -> None:
    f = Events()
    f.agent("alice", name="Alice")
    f.agent("alice", name="Alice Renamed", at=5)
    renamed = f.events[-1]["id"]
    f.conversation("c1", at=0).customer(at=1).reply("alice", at=2)
    ingest(store, f.events)
    refresh(store)
    assert store.execute("SELECT name FROM agents") == [("Alice Renamed",)]
    retract_event(store, renamed, reason="wrong person", retracted_by="olivia")
    refresh(store)
    assert store.execute("SELECT name FROM agents") == [("Alice",)]
