"""The real public samples import end to end, on DuckDB and PostgreSQL.

Expected numbers are computed here from the files with a few independent lines (csv /
regex / pandas), not pasted from an import's output. The files are copies of
../shared/realdata (see data/README.md) so a clean clone runs these too.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from deskpulse.analysis.leaderboard import leaderboard
from deskpulse.connectors.mapping import check_reopens, import_mapped, load_mapping
from deskpulse.events.store import Store
from deskpulse.facts.build import refresh_facts
from deskpulse.metrics.query import Query, query
from deskpulse.metrics.window import Window

DATA = Path(__file__).parent / "data"
TWCS = DATA / "twcs_sample.csv"
SERVICENOW = DATA / "servicenow_incident_event_log_sample.csv"
# Wide enough for both samples (TWCS reaches back to 2008).
EVERYTHING = {"period": "custom", "from": "2000-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}

# A data row starts with its index, tweet id, author, inbound flag.
_TWCS_ROW = re.compile(r"^(\d+),(\d+),([^,]*),(True|False),")


def twcs_lines() -> list[str]:
    # Split at "\n" only: row 2485 holds bare carriage returns inside its text.
    return TWCS.read_bytes().decode("utf-8").split("\n")


def test_twcs_counts_are_what_the_file_holds(store: Store) -> None:
    lines = twcs_lines()
    rows = [m for line in lines if (m := _TWCS_ROW.match(line))]
    # Row 2485 (tweet 3399): its text carries unquoted carriage returns; pandas, as a
    # spreadsheet would, reads it as one row, and so must the import.
    [carriage] = [line for line in lines if _TWCS_ROW.match(line) and "\r" in line]
    assert _TWCS_ROW.match(carriage).group(2) == "3399"  # type: ignore[union-attr]

    summary = import_mapped(store, load_mapping("twcs"), [TWCS])

    assert summary.rows_read == len(rows) == 5000
    assert summary.rows_rejected == 0
    assert summary.problems == []
    stored_text = store.execute("SELECT text FROM events WHERE id = 'twcs:message:3399'")[0][0]
    assert stored_text == "@AskPayPal \r\rI just love the start of email 😁 https://t.co/8u1Pf5rJoN"

    good = {r.group(2): r for r in rows}
    table = pd.read_csv(TWCS, dtype=str, keep_default_na=False, lineterminator="\n")
    assert len(table) == 5000
    table = table[table.tweet_id.isin(good)]
    brand_tweets = set(table.tweet_id[table.inbound == "False"])
    parent = {
        t: p.removesuffix(".0")
        for t, p in zip(table.tweet_id, table.in_response_to_tweet_id, strict=True)
    }

    # Conversations: one per reply tree (a forest: one parent each) and brand in it;
    # trees without a brand reply belong to the brand the customer @mentioned.
    root: dict[str, str] = {}

    def top(tweet: str) -> str:
        seen = tweet
        while parent.get(seen) and parent[seen] != seen:
            if parent[seen] not in parent:
                return parent[seen]
            seen = parent[seen]
        return seen

    for tweet in table.tweet_id:
        root[tweet] = top(tweet)
    brands_of: dict[str, set[str]] = defaultdict(set)
    for tweet, author, inbound in zip(table.tweet_id, table.author_id, table.inbound, strict=True):
        if inbound == "False":
            brands_of[root[tweet]].add(author)
    mentioned: dict[str, set[str]] = defaultdict(set)
    for tweet, text, inbound in zip(table.tweet_id, table.text, table.inbound, strict=True):
        if inbound == "True" and not brands_of[root[tweet]]:
            names = re.findall(r"@(\w+)", text)
            if names:
                mentioned[root[tweet]].add(names[0])
    expected_conversations = sum(len(b) for b in brands_of.values()) + sum(
        len(m) for m in mentioned.values()
    )
    assert summary.conversations == expected_conversations == 1315

    messages = summary.rows_read - summary.rows_rejected
    assert summary.events_by_type["message.created"] == messages == 5000
    assert summary.events_by_type["conversation.created"] == summary.conversations
    # Agents: every brand reply gets one (a signature's or the brand's unsigned one).
    assert summary.events_by_type["agent.upserted"] == summary.agents == 534
    assert summary.events_made == messages + summary.conversations + summary.agents == 6849
    assert (summary.accepted, summary.duplicates, summary.events_rejected) == (6849, 0, 0)
    assert summary.reopens is None  # TWCS has no states

    # Stored: every brand reply carries an agent, the unsigned ones included.
    outbound = store.execute(
        "SELECT count(*), count(agent_id), "
        "count(*) FILTER (WHERE agent_id LIKE '%.unsigned') "
        "FROM events WHERE type = 'message.created' AND direction = 'outbound'"
    )[0]
    assert outbound[0] == outbound[1] == len(brand_tweets)
    assert 0 < outbound[2] < outbound[0]
    names = {
        row[0] for row in store.execute("SELECT agent_id FROM events WHERE agent_id IS NOT NULL")
    }
    assert {"ChipotleTweets.Becky", "ChipotleTweets.unsigned"} <= names
    assert store.count("rejected_events") == 0

    refresh_facts(store)
    result = query(
        store,
        Query.model_validate({"metrics": ["conversations", "first_response_median"], **EVERYTHING}),
    )
    [row] = result.rows
    assert row.metrics["conversations"].value == summary.conversations
    # First responses: conversations with a customer post answered by a brand reply.
    replied = row.metrics["first_response_median"]
    assert 0 < replied.n <= summary.conversations
    assert replied.value is not None
    assert replied.value > 0
    # A conversation without a customer post (a brand reply to a tweet outside the
    # sample: twcs:1622) has no first response, not 0 s; none measures 0 s.
    samples = store.execute(
        "SELECT conversation_id, first_message_at, first_response_seconds "
        "FROM conversation_facts WHERE first_message_at IS NULL OR first_response_seconds = 0"
    )
    assert [(r[0], r[2]) for r in samples] == [("twcs:1622:AzureSupport", None)]
    with_customer = store.execute(
        "SELECT count(*) FROM conversation_facts WHERE first_message_at IS NOT NULL"
    )[0][0]
    assert with_customer == summary.conversations - 1

    again = import_mapped(store, load_mapping("twcs"), [TWCS])
    assert (again.accepted, again.duplicates) == (0, 6849)


STATES = {
    "New": "open",
    "Active": "open",
    "Awaiting User Info": "pending",
    "Awaiting Problem": "pending",
    "Awaiting Vendor": "pending",
    "Awaiting Evidence": "pending",
    "Resolved": "resolved",
    "Closed": "resolved",
}


def test_servicenow_state_history_and_the_reopen_check(store: Store) -> None:
    log = pd.read_csv(SERVICENOW, dtype=str, keep_default_na=False)
    log["at"] = pd.to_datetime(log.sys_updated_at, format="%d-%m-%Y %H:%M")
    log["mod"] = log.sys_mod_count.astype(int)
    # docs/connectors-mapping.md: a record's versions in update-counter order
    # (sys_mod_count), then time; the time order alone puts INC0000137's stale copy of
    # update 1 (saved 11:10) after its resolution (11:03): a phantom reopen.
    # A counter saved twice is a stale copy: the copy out of time order with the
    # neighbouring counters is left out (five incidents in the sample).
    by_time = log.sort_values(["number", "at", "mod"], kind="stable")
    log = log.sort_values(["number", "mod", "at"], kind="stable")
    stale_rows = []
    for _number, versions in log.groupby("number", sort=False):
        twice = versions[versions.duplicated("mod", keep=False)]
        for mod in set(twice["mod"]):
            earlier = versions[versions["mod"] < mod]["at"]
            later = versions[versions["mod"] > mod]["at"]
            for index, at in twice[twice["mod"] == mod]["at"].items():
                if (len(earlier) and at < earlier.max()) or (len(later) and at > later.min()):
                    stale_rows.append(index)
    assert len(stale_rows) == 5
    log = log.drop(index=stale_rows)
    status_changes = assignments = 0
    derived_reopens: dict[str, int] = {}
    for number, history in log.groupby("number", sort=False):
        statuses = [STATES[s] for s in history.incident_state]
        kept = [s for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]]
        status_changes += len(kept)
        derived_reopens[str(number)] = sum(
            1 for a, b in itertools.pairwise(kept) if a == "resolved" and b != "resolved"
        )
        people = [p for p in history.assigned_to if p != "?"]
        assignments += sum(1 for i, p in enumerate(people) if i == 0 or p != people[i - 1])
    agents = (set(log.assigned_to) | set(log.resolved_by)) - {"?"}
    export_reopens = log.groupby("number").reopen_count.apply(lambda c: c.astype(int).max())
    disagree = {n for n, c in export_reopens.items() if derived_reopens[str(n)] != c}

    summary = import_mapped(store, load_mapping("servicenow"), [SERVICENOW])

    assert summary.rows_read == len(log) + len(stale_rows) == 5998
    assert summary.rows_rejected == 0
    assert summary.problems == []
    assert summary.conversations == log.number.nunique() == 890
    assert summary.agents == len(agents) == 239
    by_type = summary.events_by_type
    assert by_type["conversation.created"] == 890
    assert by_type["conversation.status_changed"] == status_changes == 2188
    assert by_type["conversation.assigned"] == assignments == 906
    assert by_type["agent.upserted"] == len(agents)
    assert summary.events_made == 890 + status_changes + assignments + len(agents) == 4223
    assert (summary.accepted, summary.duplicates, summary.events_rejected) == (4223, 0, 0)

    # The check on the built events, then on the facts every page reads.
    stale = by_time[by_time.number == "INC0000137"]
    assert list(stale.incident_state) == ["New", "Resolved", "New", "Closed"]
    assert disagree == set()
    assert summary.reopens is not None
    assert (summary.reopens.checked, summary.reopens.matches) == (890, 890)
    assert summary.reopens.mismatches == []
    refresh_facts(store)
    from_facts = check_reopens(store, summary.reopen_counts)
    assert from_facts == summary.reopens

    # opened_at dates the conversation; resolved_at the last resolution.
    created = store.execute(
        "SELECT occurred_at FROM events WHERE id = 'servicenow:created:INC0000045'"
    )[0][0]
    assert created.replace(tzinfo=UTC) == datetime(2016, 2, 29, 1, 16, tzinfo=UTC)
    resolved = store.execute(
        "SELECT occurred_at, agent_id FROM events WHERE conversation_id = "
        "'servicenow:INC0000045' AND status = 'resolved'"
    )
    assert [(r[0].replace(tzinfo=UTC), r[1]) for r in resolved] == [
        (datetime(2016, 2, 29, 11, 29, tzinfo=UTC), "Resolved by 149")
    ]
    result = query(
        store, Query.model_validate({"metrics": ["conversations", "reopen_rate"], **EVERYTHING})
    )
    [row] = result.rows
    assert row.metrics["conversations"].value == 890

    # Whoever resolves an incident has handled it: the leaderboard lists the resolvers.
    resolvers = log[log.incident_state.map(STATES) == "resolved"]
    resolved_per = resolvers[resolvers.resolved_by != "?"].groupby("resolved_by").number.nunique()
    everything = Window(
        period="custom",
        start=datetime(2000, 1, 1, tzinfo=UTC),
        end=datetime(2030, 1, 1, tzinfo=UTC),
    )
    board = leaderboard(store, everything)
    handled = {r.agent_id: r.handled.value for r in board.rows if r.handled.value}
    assert handled == {str(k): int(v) for k, v in resolved_per.items()}
    assert len(handled) == resolved_per.size > 0


def test_the_copies_match_the_shared_samples() -> None:
    shared = Path(__file__).parents[2] / ".." / "shared" / "realdata"
    if not shared.is_dir():
        pytest.skip("no ../shared/realdata beside this clone")
    for copy in (TWCS, SERVICENOW):
        assert copy.read_bytes() == (shared / copy.name).read_bytes()


def test_csv_module_alone_would_split_the_carriage_return_row() -> None:
    # Why the reader splits lines itself: the stdlib default sees three records.
    with TWCS.open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    assert len(records) - 1 == 5002
