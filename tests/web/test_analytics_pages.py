"""The numbers on the /analytics pages equal hand-computed values.

One small team over two periods, every expected value worked out by hand in the
comments: tile values and their change against the previous period, leaderboard cells,
load-balancing quadrants and the one-on-one comparisons. The pages are read as a person
reads them (rendered text), so a wrong number, a wrong colour or a missing "few
samples" mark fails here.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup, Tag
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store
from tests.factories import Events, ingest_and_build

# Mar 2 09:00 UTC is minute 0. as_of=2026-03-08 with 7d means Mar 2 00:00 - Mar 9 00:00;
# the previous period is Feb 23 00:00 - Mar 2 00:00 (minute -4320 is Feb 27 09:00).
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEK = "period=7d&as_of=2026-03-08"
PREVIOUS = -4320.0


def build_team(store: Store) -> None:
    f = Events(start=START)
    f.agent("alice", name="Alice", teams=["t1"], at=-9000)
    f.agent("bob", name="Bob", teams=["t1"], at=-9000)
    f.agent("carol", name="Carol", teams=["t2"], at=-9000)
    f.agent("dave", name="Dave", teams=["t2"], at=-9000)
    f.agent("bot", name="Bot", kind="ai", at=-9000)
    # c1: alice answers 5 min after the customer (4 min after her assignment); CSAT 5.
    c = f.conversation("c1", customer="u1", at=0).customer(at=0).assign("alice", at=1)
    c.reply("alice", at=5).resolve(at=30).survey("csat", 5, at=40)
    # c2: bob answers as a teammate after 10 min; alice sends an edited AI draft; CSAT 2.
    c = f.conversation("c2", customer="u2", at=60).customer(at=60).assign("alice", at=61)
    c.reply("bob", at=70).reply("alice", at=80, ai_assist="draft_edited")
    c.note("alice", at=90, mentions=["bob"]).resolve(at=120).survey("csat", 2, at=130)
    # c3: the AI agent answers in a minute and resolves: AI-handled.
    f.conversation("c3", customer="u3", at=200).customer(at=200).ai_reply("bot", at=201).resolve(
        at=210
    )
    # c4: bob, 20 min, an AI draft sent as is; never resolved.
    c = f.conversation("c4", customer="u4", at=300).customer(at=300).assign("bob", at=300)
    c.reply("bob", at=320, ai_assist="draft_as_is")
    # c5: carol, 2 min. c6: dave, 60 min, never resolved.
    c = f.conversation("c5", customer="u5", at=400).customer(at=400).assign("carol", at=400)
    c.reply("carol", at=402).resolve(at=410)
    c = f.conversation("c6", customer="u6", at=500).customer(at=500).assign("dave", at=500)
    c.reply("dave", at=560)
    # The previous week: p1 alice 10 min, resolved, CSAT 4; p2 bob 10 min, open.
    c = f.conversation("p1", customer="u7", at=PREVIOUS).customer(at=PREVIOUS)
    c.reply("alice", at=PREVIOUS + 10).resolve(at=PREVIOUS + 20).survey("csat", 4, at=PREVIOUS + 30)
    c = f.conversation("p2", customer="u8", at=PREVIOUS + 320).customer(at=PREVIOUS + 320)
    c.reply("bob", at=PREVIOUS + 330)
    ingest_and_build(store, f.events)


@pytest.fixture
def team(api_store: Store) -> Store:
    build_team(api_store)
    return api_store


def page(client: Client, user: User, url: str) -> BeautifulSoup:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return BeautifulSoup(response.content, "html.parser")


def text(node: Tag | None) -> str:
    assert node is not None
    return " ".join(node.get_text(" ", strip=True).split())


def tile(soup: BeautifulSoup, metric: str) -> dict[str, str]:
    article = soup.select_one(f"article.tile[data-metric={metric}]")
    assert article is not None, metric
    delta = article.select_one(".delta")
    return {
        "value": text(article.select_one(".value a")),
        "few": "yes" if article.select_one(".value .few") else "no",
        "delta": "" if delta is None else text(delta).removesuffix(" vs previous"),
        "colour": "" if delta is None else " ".join(c for c in delta["class"] if c != "delta"),
        "n": text(article.select_one("span.n:not(.delta span)")),
    }


def test_tiles_and_deltas(client: Client, owner: User, team: Store) -> None:
    soup = page(client, owner, f"/analytics/?{WEEK}")
    # 6 conversations this week against 2: a relative change on a base under 10 says
    # nothing ("+200%"), so the tile names the base instead.
    assert tile(soup, "conversations") == {
        "value": "6",
        "few": "no",
        "delta": "was 2",
        "colour": "neutral",
        "n": "n = 6",
    }
    # First replies 60, 120, 300, 600, 1200, 3600 s: median 450 s, six samples: marked
    # "few". Before: 600 s on two samples, named rather than turned into -25%.
    assert tile(soup, "first_response_median") == {
        "value": "7m 30s",
        "few": "yes",
        "delta": "was 10m",
        "colour": "neutral",
        "n": "n = 6",
    }
    # Resolved c1 c2 c3 c5 of six: 66.7%; before 1 of 2: 50%: +16.7 points, better.
    assert tile(soup, "resolution_rate")["value"] == "66.7%"
    assert tile(soup, "resolution_rate")["delta"] == "\u25b2 +16.7 pts"
    assert tile(soup, "resolution_rate")["colour"] == "better"
    # CSAT 5 and 2: 3.50 on two answers; before 4.00: -0.50, worse, and "few".
    assert tile(soup, "csat_mean") == {
        "value": "3.50",
        "few": "yes",
        "delta": "\u25bc -0.50",
        "colour": "worse",
        "n": "n = 2",
    }
    # One AI-handled conversation of six; none before.
    assert tile(soup, "ai_handled_rate")["value"] == "16.7%"
    assert tile(soup, "ai_handled_rate")["colour"] == "neutral"
    # The CSAT card: one 2, one 5.
    card = soup.select_one("article.score-card[data-card=CSAT]")
    rows = [[text(cell) for cell in tr.find_all(["th", "td"])] for tr in card.select("tbody tr")]
    assert rows == [
        ["1", "0", "0.0%"],
        ["2", "1", "50.0%"],
        ["3", "0", "0.0%"],
        ["4", "0", "0.0%"],
        ["5", "1", "50.0%"],
    ]


def leaderboard_cells(soup: BeautifulSoup) -> dict[str, dict[str, str]]:
    cells: dict[str, dict[str, str]] = {}
    for row in soup.select("table.leaderboard tbody tr[data-agent]"):
        cells[str(row["data-agent"])] = {
            str(td["data-column"]): text(td) for td in row.select("td[data-column]")
        }
    return cells


def test_leaderboard_cells(client: Client, owner: User, team: Store) -> None:
    soup = page(client, owner, f"/analytics/?{WEEK}")
    cells = leaderboard_cells(soup)
    assert set(cells) == {"alice", "bob", "carol", "dave", "bot"}
    # Alice: c1 and c2 handled; her own first response 4 min on c1 (from her assignment;
    # on c2 bob had already answered, so no sample). CSAT 5 and 2 -> 3.50 on 2, few.
    # Shrunk toward the team mean 3.50 with weight 10: (7 + 35) / 12 = 3.50.
    # Replies: one from scratch, one edited draft -> AI-drafted replies 50%.
    alice = cells["alice"]
    assert alice["handled"] == "2"
    assert alice["first_response_median"].startswith("4m 00s")
    assert alice["csat_mean"] == "3.50 (2) few responses"
    assert alice["csat_shrunk"] == "3.50"
    assert alice["ai_drafted_rate"] == "50.0%"
    assert alice["mentions"] == "0"
    # Bob: c2 as a teammate (600 s) and c4 (1200 s): median 900 s (shown "15m"); CSAT 2 on
    # one answer; shrunk (2 + 35) / 11 = 3.36; mentioned once in alice's note.
    bob = cells["bob"]
    assert bob["handled"] == "2"
    assert bob["first_response_median"].startswith("15m ")
    assert bob["csat_mean"] == "2.00 (1) few responses"
    assert bob["csat_shrunk"] == "3.36"
    assert bob["mentions"] == "1"
    # No rank numbers: the first cell of each row is the agent's name.
    first_cells = [text(tr.find("td")) for tr in soup.select("table.leaderboard tbody tr")]
    assert "Alice" in first_cells
    assert not any(cell[:1].isdigit() for cell in first_cells)


def test_leaderboard_csv_matches_the_table(client: Client, owner: User, team: Store) -> None:
    soup = page(client, owner, f"/analytics/?{WEEK}&sort=first_response_median&order=asc")
    shown = [
        text(tr.find("td")).removesuffix(" AI") for tr in soup.select("table.leaderboard tbody tr")
    ]
    response = client.get(f"/analytics/leaderboard.csv?{WEEK}&sort=first_response_median&order=asc")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert [row[0] for row in rows[1:]] == shown
    # Fastest first: bot 60 s, carol 120 s, alice 240 s, bob 900 s, dave 3600 s.
    assert shown == ["Bot", "Carol", "Alice", "Bob", "Dave"]


def test_quadrants(client: Client, owner: User, team: Store) -> None:
    soup = page(client, owner, f"/analytics/?{WEEK}")
    placed = {
        text(tr.find("td")): text(tr.find_all("td")[-1])
        for tr in soup.select("#load-balancing tbody tr")
    }
    # People only. Handled 2, 2, 1, 1: median 1.5. First response 240, 900, 120, 3600 s:
    # median 570 s. Alice high+fast, Bob high+slow, Carol low+fast, Dave low+slow.
    assert placed == {
        "Alice": "Reliable workhorse",
        "Bob": "Drowning",
        "Carol": "Underloaded or fast triage",
        "Dave": "Context needed",
    }
    said = text(soup.select_one("#load-balancing p"))
    assert "half the people handled more than 1.5 conversations" in said
    assert "median first response faster than 9m 30s" in said


def test_one_on_one(client: Client, owner: User, team: Store) -> None:
    soup = page(client, owner, "/analytics/agents/alice/one-on-one/?as_of=2026-03-08")
    rows = {
        text(tr.find("th")): [text(td) for td in tr.find_all("td")]
        for tr in soup.select("table.comparisons tbody tr")
    }
    # 30 days to Mar 8 hold c1, c2 and p1 for alice; the 30 days before hold nothing.
    volume = next(v for k, v in rows.items() if k.lower().startswith("conversations handled"))
    assert volume[0].startswith("3")
    assert volume[1].startswith("0")
    assert volume[2] == "up"
    # Her first responses: 240 s (c1) and 600 s (p1): median 420 s = 7m 00s, against the
    # people's first responses 120 240 600 600 600 1200 3600 (the bot's 60 s left out):
    # median 600 s.
    first = next(v for k, v in rows.items() if "first response" in k.lower())
    assert first[0].startswith("7m 00s")
    assert first[1] == "10m people on the team, n = 7"
    assert first[2] == "better"
    # CSAT 5, 2, 4 for her and for the team alike: 3.67 both, the same.
    csat_row = next(v for k, v in rows.items() if k.lower().startswith("csat"))
    assert csat_row[0].startswith("3.67")
    assert csat_row[1].startswith("3.67")
    assert csat_row[2] == "the same"
    low = [text(a) for a in soup.select("#low-heading ~ div a")]
    assert low == ["c2"]


def test_drilldown_tiles_equal_the_leaderboard_row(
    client: Client, owner: User, team: Store
) -> None:
    soup = page(client, owner, f"/analytics/agents/bob/?{WEEK}")
    assert tile(soup, "handled")["value"] == "2"
    assert tile(soup, "first_response_median")["value"] == "15m"
    assert tile(soup, "csat_mean")["value"] == "2.00"
    # Conversation-level tiles cover the conversations bob handled: c2 and c4.
    assert tile(soup, "conversations")["value"] == "2"
    assert tile(soup, "resolution_rate")["value"] == "50.0%"


def test_a_persons_drilldown_shows_ai_drafted_replies_never_ai_handled(
    client: Client, owner: User, team: Store
) -> None:
    # Alice replied once from scratch and once with an edited draft: 50% AI-drafted. Her
    # conversations are never AI-handled (she replied), so that tile is not on her page.
    soup = page(client, owner, f"/analytics/agents/alice/?{WEEK}")
    assert tile(soup, "ai_drafted_rate")["value"] == "50.0%"
    assert soup.select_one("article.tile[data-metric=ai_handled_rate]") is None
    # Counts that differ between two places say why, in the page's words.
    handled = soup.select_one("article.tile[data-metric=handled] .flag")
    assert text(handled) == "by their first reply in the period; Conversations counts by creation"
    assert "So the n's differ" in text(soup.select_one(".tiles-footnote"))
    assert "AI-handled" not in text(soup.select_one("main"))
    # The team page shows both, each with its own label.
    team_page = page(client, owner, f"/analytics/?{WEEK}")
    assert text(team_page.select_one("article.tile[data-metric=ai_drafted_rate] h3")) == (
        "AI-drafted replies"
    )
    assert text(team_page.select_one("article.tile[data-metric=ai_handled_rate] h3")) == (
        "AI-handled"
    )
    board = text(team_page.select_one("#leaderboard p"))
    assert "the Handled column adds up to more than the Conversations handled tile" in board


@pytest.mark.parametrize(
    ("metric", "now", "before", "expected"),
    [
        # Relative change, lower is better: (450 - 600) / 600 = -25%, green.
        ("first_response_median", (450, 40), (600, 30), ("\u25bc -25%", "better")),
        # Higher is better, down: red.
        ("resolved", (90, 90), (120, 120), ("\u25bc -25%", "worse")),
        # Neutral metrics move up or down, never better or worse.
        ("conversations", (120, 120), (100, 100), ("\u25b2 +20%", "neutral")),
        # Rates in points, scores as a difference.
        ("fcr_rate", (0.8, 50), (0.75, 40), ("\u25b2 +5.0 pts", "better")),
        ("csat_mean", (4.1, 30), (4.1, 30), ("no change", "same")),
        # A base under 10 samples is named, not turned into a percentage.
        ("conversations", (50, 50), (3, 3), ("was 3", "neutral")),
    ],
)
def test_delta_wording_and_colour(
    metric: str,
    now: tuple[float, int],
    before: tuple[float, int],
    expected: tuple[str, str],
) -> None:
    from deskpulse.metrics.registry import REGISTRY
    from deskpulse.web.analytics.present import delta

    text, css, _title = delta(
        REGISTRY[metric],
        {"value": now[0], "n": now[1]},
        {"value": before[0], "n": before[1]},
        "the previous period",
    )
    assert (text, css) == expected


def tile_notes(metrics: dict[str, dict[str, float | int | None]]) -> dict[str, str]:
    from deskpulse.web.analytics.present import tiles

    payload = {"tiles": {"metrics": metrics}}
    built = tiles(payload, tuple(metrics), previous_label="x", currency="USD", link=str)
    return {t.name: t.note for t in built}


def test_tile_notes_say_what_a_number_leaves_out() -> None:
    notes = tile_notes(
        {
            # 3,408 conversations in 7 days, all younger than the 7-day horizon.
            "resolution_rate": {"value": None, "n": 0, "pending": 3408},
            "fcr_rate": {"value": 0.86, "n": 900, "pending": 100},
            "escalation_rate": {"value": 0.1, "n": 500, "pending": 0},
            # AI agents answer first in seconds; people take minutes.
            "first_response_median": {"value": 4.0, "n": 3000},
            "first_human_response_median": {"value": 1200.0, "n": 1800},
            "conversations": {"value": 3408, "n": 3408},
            "cost_per_conversation": {"value": 0.09, "n": 1300},
        }
    )
    assert notes["resolution_rate"] == (
        "still maturing: 100% of conversations (3,408) are younger than 7 days and not in "
        "the rate yet"
    )
    assert notes["fcr_rate"] == (
        "still maturing: 10% of resolutions (100) are younger than the 7-day repeat-contact "
        "window and not in the rate yet"
    )
    assert notes["escalation_rate"] == ""
    assert notes["first_response_median"] == (
        "first reply by anyone, AI agents included; people: next tile"
    )
    assert notes["cost_per_conversation"] == "cost recorded on 38% of conversations"
