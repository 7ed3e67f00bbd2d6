"""Bad parameters on the pages: a 400 page that names the parameter, never a 500.

A control character in a parameter or a path segment is refused before any view runs.
A bad value of a parameter the page knows gets the page's own presentation with status
400: pages that can show their defaults instead do so, naming what they left out; the
others show the problem page. Harmless extra parameters (utm_… from a link in a mail)
are still ignored by pages.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store, open_store
from deskpulse.settings import Settings
from deskpulse.web.runtime import using_store
from tests.factories import Events, ingest_and_build

pytestmark = pytest.mark.django_db

AS_OF = "2026-03-08"


@pytest.fixture(scope="module")
def team_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    f = Events()
    f.agent("alice", name="Alice Archer", teams=["t1"]).agent("bot", name="Bot", kind="ai")
    c1 = f.conversation("c1", customer="u1", inquiry="billing", at=0)
    c1.customer(at=0.5).assign("alice", team="t1", at=1).reply("alice", at=5)
    c1.resolve(at=30, by="alice").survey("csat", 5, at=40)
    c2 = f.conversation("c2", customer="u2", at=60)
    c2.customer(at=60.5).ai_reply("bot", at=61).resolve(at=65, by="bot")
    store = open_store(Settings(data_dir=tmp_path_factory.mktemp("page-parameters")))
    ingest_and_build(store, f.events)
    yield store
    store.close()


@pytest.fixture(autouse=True)
def api_store(team_store: Store) -> Iterator[Store]:
    with using_store(team_store):
        yield team_store


@pytest.fixture
def signed_in(client: Client, owner: User) -> Client:
    client.force_login(owner)
    return client


# Every page that reads a period or a moment from its URL.
DATED_PAGES = [
    "/analytics/",
    "/analytics/leaderboard.csv",
    "/analytics/agents/alice/",
    "/analytics/agents/alice/one-on-one/",
    "/analytics/conversations/",
    "/analytics/conversations.csv",
    "/analytics/signals/",
    "/analytics/signals/panel/",
    "/ai-agents/",
    "/ai-agents/bot/",
    "/ai-agents/quality/",
    "/ai-agents/quality.csv",
    "/performance/agents/alice/",
    "/performance/agents/alice/inquiries/billing/",
    "/experiments/",
    "/coaching/team/",
]


def _text(response: object) -> str:
    return response.content.decode("utf-8", "replace")  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1999-12-31", "tomorrow"])
@pytest.mark.parametrize("page", DATED_PAGES)
def test_a_bad_as_of_is_a_400_page_naming_it(signed_in: Client, page: str, value: str) -> None:
    response = signed_in.get(page, {"as_of": value})
    assert response.status_code == 400, (response.status_code, _text(response)[:300])
    assert "as_of" in _text(response)


CUSTOM_PAGES = [
    page
    for page in DATED_PAGES
    if not page.startswith(("/experiments/", "/coaching/", "/analytics/agents/alice/one"))
]


@pytest.mark.parametrize(
    ("start", "end", "named"),
    [
        ("0001-01-01", "9999-12-31", "from"),
        ("2026-03-01", "9999-12-31", "to"),
        ("2026-03-31", "2026-03-01", "to"),
        ("2020-01-01", "2026-03-01", "to"),
    ],
)
@pytest.mark.parametrize("page", CUSTOM_PAGES)
def test_a_bad_custom_range_is_a_400_page_naming_it(
    signed_in: Client, page: str, start: str, end: str, named: str
) -> None:
    chooser = "window" if page.startswith("/performance/") else "period"
    response = signed_in.get(page, {chooser: "custom", "from": start, "to": end})
    assert response.status_code == 400, (response.status_code, _text(response)[:300])
    assert f"{named}:" in _text(response)


PAGES = [
    *DATED_PAGES,
    "/analytics/conversations/c1/",
    "/performance/",
    "/coaching/",
    "/experiments/new/",
    "/alerts/",
    "/alerts/history/",
    "/models/",
    "/settings/users/",
]


@pytest.mark.parametrize("page", PAGES)
def test_nul_in_a_query_parameter_is_a_400_page_naming_it(signed_in: Client, page: str) -> None:
    response = signed_in.get(f"{page}?team=team%00billing")
    assert response.status_code == 400, response.status_code
    assert "team: control characters" in _text(response)


@pytest.mark.parametrize(
    ("page", "named"),
    [
        ("/analytics/agents/al%00ice/", "agent_id"),
        ("/analytics/agents/al%00ice/one-on-one/", "agent_id"),
        ("/analytics/conversations/c%001/", "conversation_id"),
        ("/ai-agents/b%00ot/", "agent_id"),
        ("/performance/agents/alice/inquiries/bil%00ling/", "inquiry"),
        ("/experiments/x%00y/", "key"),
        ("/no-such-page%00/", "path"),
    ],
)
def test_nul_in_a_path_segment_is_a_400_page_naming_it(
    signed_in: Client, page: str, named: str
) -> None:
    response = signed_in.get(page)
    assert response.status_code == 400, response.status_code
    assert f"{named}: control characters" in _text(response)


def test_nul_is_refused_before_signing_in(client: Client) -> None:
    assert client.get("/analytics/?team=%00").status_code == 400


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"team": "no-such-team"}, "team"),
        ({"order": "sideways"}, "order"),
        ({"time": "lunar"}, "time"),
        ({"sort": "speed"}, "sort"),
    ],
)
@pytest.mark.parametrize("page", ["/analytics/", "/analytics/leaderboard.csv"])
def test_bad_leaderboard_choices_are_a_400_page_naming_them(
    signed_in: Client, page: str, query: dict[str, str], named: str
) -> None:
    response = signed_in.get(page, {"as_of": AS_OF, **query})
    assert response.status_code == 400, (response.status_code, _text(response)[:300])
    assert f"{named}:" in _text(response)


def test_a_bad_period_still_shows_the_page_with_its_defaults(signed_in: Client) -> None:
    response = signed_in.get("/analytics/", {"period": "5d"})
    assert response.status_code == 400
    text = _text(response)
    assert "period: choose one of" in text
    assert "Showing the last 30 days" in text
    assert "Team analytics" in text  # the page itself, not a dead end


def test_harmless_extra_parameters_are_ignored_by_pages(signed_in: Client) -> None:
    response = signed_in.get("/analytics/", {"as_of": AS_OF, "utm_source": "newsletter"})
    assert response.status_code == 200
    assert signed_in.get("/analytics/", {"as_of": AS_OF, "team": "t1"}).status_code == 200
