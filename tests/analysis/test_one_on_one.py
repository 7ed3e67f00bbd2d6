"""The one-on-one drill-down on a hand-built month: every comparison worked out here.

Runs on DuckDB and on PostgreSQL (the `store` fixture). `as_of` 2026-04-01 00:00 UTC:
30d = [03-02 00:00, 04-01 00:00), prior 30 days = [01-31 00:00, 03-02 00:00). Times are
minutes after 03-02 09:00 (DAY = one day).

    c1  alice: customer 0, replies 2 (AI draft as is)          wait 120 s   CSAT 1
    c2  alice: customer DAY, replies +6 (draft edited)          wait 360 s   CSAT 5
    c3  alice: customer 2 DAY (email, billing), replies +4      wait 240 s   CSAT 2
    c4  bob: customer 3 DAY, replies +10; alice replies +12 as a teammate (scratch, no
        wait for her)                                           bob 600 s    CSAT 2
    c5  bob: customer 4 DAY, replies +20 (as is); a note mentions alice (she did not
        handle it)                                              bob 1200 s   CSAT 1
    p1, p2  alice, 10 and 9 days before: the prior 30 days. p1 has CSAT 1 (not this
        period's).

alice: handled 4 (c1-c4) vs 2 before -> up. First response median(120, 240, 360) = 240
vs the team's median(120, 240, 360, 600, 1200) = 360 -> better (lower). CSAT
(1 + 5 + 2 + 2) / 4 = 2.5 vs team (1 + 5 + 2 + 2 + 1) / 5 = 2.2 -> better. Replies: as
is 1/4, edited 1/4, scratch 2/4; team (6 human replies): as is 2/6, edited 1/6,
scratch 3/6 -> down, up, same. Low scores: c4 (2), c3 (2), c1 (1), newest first.
bob: first response median(600, 1200) = 900 vs 360 -> worse; CSAT (2 + 1) / 2 = 1.5 vs
2.2 -> worse.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deskpulse.analysis.one_on_one import (
    Comparison,
    LowScore,
    OneOnOne,
    Prompt,
    one_on_one,
    prompts,
    verdict,
)
from deskpulse.events.store import Store
from deskpulse.metrics.query import MetricValue, NotVisibleError, Viewer
from tests.factories import Events, ingest_and_build

AS_OF = datetime(2026, 4, 1, tzinfo=UTC)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = 24 * 60


def month() -> Events:
    f = Events(start=START)
    f.agent("alice", name="Alice", teams=["t1"])
    f.agent("bob", name="Bob", teams=["t1"])
    f.agent("erin", name="Erin", teams=["t1"])  # in the directory, no activity

    c1 = f.conversation("c1", customer="u1", at=0)
    c1.customer(at=0).assign("alice", at=0).reply("alice", at=2, ai_assist="draft_as_is")
    c1.survey("csat", 1, at=30)
    c2 = f.conversation("c2", customer="u2", at=DAY)
    c2.customer(at=DAY).assign("alice", at=DAY).reply("alice", at=DAY + 6, ai_assist="draft_edited")
    c2.survey("csat", 5, at=DAY + 30)
    c3 = f.conversation("c3", customer="u3", channel="email", inquiry="billing", at=2 * DAY)
    c3.customer(at=2 * DAY).assign("alice", at=2 * DAY).reply("alice", at=2 * DAY + 4)
    c3.survey("csat", 2, at=2 * DAY + 30)
    c4 = f.conversation("c4", customer="u4", at=3 * DAY)
    c4.customer(at=3 * DAY).assign("bob", at=3 * DAY).reply("bob", at=3 * DAY + 10)
    c4.reply("alice", at=3 * DAY + 12).survey("csat", 2, at=3 * DAY + 40)
    c5 = f.conversation("c5", customer="u5", at=4 * DAY)
    c5.customer(at=4 * DAY).assign("bob", at=4 * DAY)
    c5.reply("bob", at=4 * DAY + 20, ai_assist="draft_as_is")
    c5.note("bob", at=4 * DAY + 21, mentions=["alice"]).survey("csat", 1, at=4 * DAY + 30)

    p1 = f.conversation("p1", customer="u6", at=-10 * DAY)
    p1.customer(at=-10 * DAY).assign("alice", at=-10 * DAY).reply("alice", at=-10 * DAY + 3)
    p1.survey("csat", 1, at=-10 * DAY + 30)
    p2 = f.conversation("p2", customer="u7", at=-9 * DAY)
    p2.customer(at=-9 * DAY).assign("alice", at=-9 * DAY).reply("alice", at=-9 * DAY + 3)
    return f


def reading(value: float | None, n: int) -> MetricValue:
    return MetricValue(value, n)


def check(
    comparison: Comparison,
    value: tuple[float | None, int],
    reference: tuple[float | None, int],
    expected_verdict: str,
) -> None:
    for actual, (number, n) in ((comparison.value, value), (comparison.reference, reference)):
        assert actual.n == n, comparison
        if number is None:
            assert actual.value is None, comparison
        else:
            assert actual.value == pytest.approx(number, abs=1e-9), comparison
    assert comparison.verdict == expected_verdict, comparison


def test_alice_against_her_prior_month_and_the_team(store: Store) -> None:
    ingest_and_build(store, month().events)
    report = one_on_one(store, "alice", as_of=AS_OF)
    assert (report.agent_id, report.name) == ("alice", "Alice")
    assert report.period.start_utc == datetime(2026, 3, 2)
    assert report.period.end_utc == datetime(2026, 4, 1)
    assert report.previous_period.start_utc == datetime(2026, 1, 31)

    check(report.volume, (4, 4), (2, 2), "up")  # neutral: volume goes up, not "better"
    assert (report.volume.key, report.volume.reference_label) == ("handled", "prior 30 days")
    assert report.volume.direction == "neutral"

    check(report.first_response, (240.0, 3), (360.0, 5), "better")
    assert report.first_response.reference_label == "people on the team"
    assert (report.first_response.direction, report.first_response.format) == (
        "lower",
        "duration",
    )

    check(report.csat, (2.5, 4), (2.2, 5), "better")
    assert report.csat.direction == "higher"

    as_is, edited, scratch = report.ai_assist
    assert [c.key for c in report.ai_assist] == [
        "ai_assist_as_is_rate",
        "ai_assist_edited_rate",
        "ai_assist_scratch_rate",
    ]
    check(as_is, (0.25, 4), (2 / 6, 6), "down")
    check(edited, (0.25, 4), (1 / 6, 6), "up")
    check(scratch, (0.5, 4), (0.5, 6), "same")
    assert all(
        c.reference_label == "people on the team" and c.format == "percent"
        for c in report.ai_assist
    )


def test_low_scores_are_alices_handled_conversations_newest_first(store: Store) -> None:
    ingest_and_build(store, month().events)
    report = one_on_one(store, "alice", as_of=AS_OF)
    at = START
    assert report.low_scores == [
        # c4: she replied as a teammate, so its score is hers too.
        LowScore("c4", 2, at + timedelta(minutes=3 * DAY + 40), "chat", None),
        LowScore("c3", 2, at + timedelta(minutes=2 * DAY + 30), "email", "billing"),
        LowScore("c1", 1, at + timedelta(minutes=30), "chat", None),
    ]  # not c2 (5), not c5 (only mentioned), not p1 (prior period)
    assert all(score.csat_at.tzinfo is not None for score in report.low_scores)
    assert report.low_scores[0].csat_at.utcoffset() == timedelta(0)


def test_bob_is_worse_than_the_team_where_he_is(store: Store) -> None:
    ingest_and_build(store, month().events)
    report = one_on_one(store, "bob", as_of=AS_OF)
    # Nothing in the prior 30 days: a count over no conversations is 0, so volume is up.
    check(report.volume, (2, 2), (0, 0), "up")
    check(report.first_response, (900.0, 2), (360.0, 5), "worse")
    check(report.csat, (1.5, 2), (2.2, 5), "worse")
    assert [s.conversation_id for s in report.low_scores] == ["c5", "c4"]


def test_agent_viewer_opens_their_own_with_team_references(store: Store) -> None:
    ingest_and_build(store, month().events)
    as_alice = one_on_one(store, "alice", Viewer(agent_id="alice"), as_of=AS_OF)
    assert as_alice == one_on_one(store, "alice", as_of=AS_OF)  # team references stay team


def test_someone_elses_or_an_unknown_agent_is_not_visible(store: Store) -> None:
    ingest_and_build(store, month().events)
    with pytest.raises(NotVisibleError):
        one_on_one(store, "alice", Viewer(agent_id="bob"), as_of=AS_OF)
    with pytest.raises(NotVisibleError):
        one_on_one(store, "nobody", as_of=AS_OF)


def test_an_agent_with_facts_but_no_directory_entry_is_visible(store: Store) -> None:
    f = Events(start=START)
    f.conversation("g1", at=0).customer(at=0).reply("ghost", at=1).survey("csat", 2, at=5)
    ingest_and_build(store, f.events)
    report = one_on_one(store, "ghost", as_of=AS_OF)
    assert report.name == "ghost"
    check(report.volume, (1, 1), (0, 0), "up")
    check(report.first_response, (60.0, 1), (60.0, 1), "same")
    assert [s.conversation_id for s in report.low_scores] == ["g1"]


def test_a_quiet_month_has_no_data_everywhere(store: Store) -> None:
    ingest_and_build(store, month().events)
    report: OneOnOne = one_on_one(store, "erin", as_of=AS_OF)
    # Volume is a count: zero conversations both months reads "the same", not "no data".
    assert report.volume.value == reading(0, 0)
    assert report.volume.verdict == "same"
    comparisons = [report.first_response, report.csat, *report.ai_assist]
    assert all(c.value == reading(None, 0) for c in comparisons)
    assert [c.verdict for c in comparisons] == ["no_data"] * 5
    assert report.low_scores == []


@pytest.mark.parametrize(
    ("value", "reference", "direction", "expected"),
    [
        (2.0, 1.0, "higher", "better"),
        (1.0, 2.0, "higher", "worse"),
        (1.0, 2.0, "lower", "better"),
        (2.0, 1.0, "lower", "worse"),
        (2.0, 1.0, "neutral", "up"),
        (1.0, 2.0, "neutral", "down"),
        (0.333333333, 0.3333333334, "higher", "same"),  # equal once rounded
        (None, 1.0, "higher", "no_data"),
        (1.0, None, "lower", "no_data"),
    ],
)
def test_verdict_reads_the_metric_direction(
    value: float | None, reference: float | None, direction: str, expected: str
) -> None:
    n = 0 if value is None else 1
    m = 0 if reference is None else 1
    assert verdict(reading(value, n), reading(reference, m), direction) == expected  # type: ignore[arg-type]


def test_a_person_is_compared_with_the_people_not_the_bots(store: Store) -> None:
    # Alice answers in 10 min, bob in 20 min, a bot in 1 min on four conversations.
    # With the bot, the team's agent first responses are 60 60 60 60 600 1200: median
    # 60 s, and alice would read "worse". Among people: 600 and 1200, median 900 s.
    f = Events(start=START)
    f.agent("alice", name="Alice").agent("bob", name="Bob").agent("bot", name="Bot", kind="ai")
    f.conversation("a1", customer="u1", at=0).customer(at=0).reply("alice", at=10)
    f.conversation("b1", customer="u2", at=0).customer(at=0).reply("bob", at=20)
    for i in range(4):
        f.conversation(f"bot{i}", customer=f"v{i}", at=100).customer(at=100).ai_reply("bot", at=101)
    ingest_and_build(store, f.events)
    report = one_on_one(store, "alice", as_of=AS_OF)
    check(report.first_response, (600.0, 1), (900.0, 2), "better")
    bot = one_on_one(store, "bot", as_of=AS_OF)
    assert bot.first_response.reference_label == "AI agents"
    check(bot.first_response, (60.0, 4), (60.0, 4), "same")


def test_prompts_appear_only_when_they_apply_with_their_numbers(store: Store) -> None:
    ingest_and_build(store, month().events)
    alice = one_on_one(store, "alice", as_of=AS_OF)
    bob = one_on_one(store, "bob", as_of=AS_OF)
    # Alice answers faster than the team (4m against 6m): no first-response prompt. She
    # sends 1 of 4 replies as an AI draft as is against the team's 2 of 6: the draft one.
    assert prompts(alice) == [
        Prompt(
            "ai_assist_as_is",
            "Fewer AI drafts sent as is than the team: 25.0% (n = 4) of their replies "
            "against 33.3% (n = 6) for the people on the team. Ask why they edit or skip "
            "so many.",
        )
    ]
    # Bob is slower (15m against 6m) and sends more drafts as is (1 of 2): only the queue.
    assert prompts(bob) == [
        Prompt(
            "first_response",
            "First-response time higher than the team: 15m (n = 2) against 6m 00s (n = 5) "
            "for the people on the team. Ask what is in their queue.",
        )
    ]
    # The agent reading their own: the same numbers, addressed to them.
    assert [p.text for p in prompts(bob, "self")] == [
        "Your median first response is 15m (n = 2); for the people on the team it is "
        "6m 00s (n = 5). Worth telling your lead what is in your queue."
    ]
    assert [p.text for p in prompts(alice, "self")] == [
        "You send 25.0% (n = 4) of your replies as an AI draft as is; the people on the "
        "team send 33.3% (n = 6). If the drafts miss something, tell your lead what."
    ]


def test_no_prompt_without_data(store: Store) -> None:
    ingest_and_build(store, month().events)
    quiet = one_on_one(store, "erin", as_of=AS_OF)
    assert quiet.first_response.verdict == "no_data"
    assert prompts(quiet) == []
    assert prompts(quiet, "self") == []
