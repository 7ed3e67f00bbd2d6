"""The /ai-agents pages, the quality report (page, printable page, CSV) and the targets
at /settings/ai-targets/, on the hand-built day of tests/ai_agents_scenario.py.

Who sees what: owners, admins and agents see every AI agent (AI agents are not
colleagues); a human agent id answers 404 like an id nobody has; people's figures appear
only as one team aggregate. The settings page is for owners and admins (others: 404).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.events.store import Store, open_store
from deskpulse.settings import Settings
from deskpulse.web.ai_agents.models import AiTargets
from deskpulse.web.runtime import using_store
from tests.ai_agents_scenario import AS_OF_TEXT, ai_day
from tests.factories import ingest_and_build

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture(scope="module")
def ai_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The day's events, built once for the module; every page here only reads."""
    store = open_store(Settings(data_dir=tmp_path_factory.mktemp("ai-agents-pages")))
    ingest_and_build(store, ai_day().events)
    yield store
    store.close()


@pytest.fixture(autouse=True)
def api_store(ai_store: Store) -> Iterator[Store]:
    with using_store(ai_store):
        yield ai_store


def url(path: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}period=7d&as_of={AS_OF_TEXT}"


def page(client: Client, user: User, path: str) -> Any:
    client.force_login(user)
    return client.get(url(path))


def soup(response: Any) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def tile(html: BeautifulSoup, metric: str) -> tuple[str, str]:
    found = html.select_one(f'.tile[data-metric="{metric}"]')
    assert found is not None, metric
    value = found.select_one(".value")
    n = found.select_one(".n")
    assert value is not None
    assert n is not None
    return value.get_text(" ", strip=True), n.get_text(strip=True)


# -- the overview -----------------------------------------------------------------------


def test_overview_shows_every_number_with_its_n(client: Client, owner: User) -> None:
    html = soup(page(client, owner, "/ai-agents/"))
    assert tile(html, "conversations") == ("4", "n = 4")
    assert tile(html, "ai_handled_rate")[0].startswith("50.0%")
    assert tile(html, "escalation_rate")[0].startswith("50.0%")
    assert tile(html, "first_resolution_mean")[0].startswith("26m")  # 1,575 s
    assert tile(html, "csat_mean") == ("3.25 few samples", "n = 4")
    assert tile(html, "csat_detractor_rate")[0].startswith("50.0%")
    assert tile(html, "cost_per_conversation")[0].startswith("$0.275")
    assert tile(html, "cost_total")[0].startswith("$1.10")
    assert "half-life 7 days" in html.get_text()
    agents = [row["data-agent"] for row in html.select("table.ai-agents tr[data-agent]")]
    assert agents == ["bot", "bot2"]
    bot = html.select_one('table.ai-agents tr[data-agent="bot"]')
    assert bot is not None
    assert "Billing Bot" in bot.get_text()
    assert bot.select_one('td[data-metric="conversations"]').get_text(" ", strip=True) == (  # type: ignore[union-attr]
        "3 n 3"
    )
    reasons = [row["data-reason"] for row in html.select("table.ai-reasons tr[data-reason]")]
    assert reasons == ["customer_request", "low_confidence"]
    shown = [th.get_text(strip=True) for th in html.select("table.ai-reasons th[scope=row]")]
    assert shown == ["Customer request", "Low confidence"]  # the slug stays in data-reason
    languages = html.select('table[data-breakdown="language"] tr[data-key]')
    assert [row["data-key"] for row in languages] == ["en", "de"]
    hours = html.select('table[data-breakdown="hour"] tr[data-key]')
    assert [row["data-key"] for row in hours] == ["09", "10", "11", "12"]
    comparison = html.select_one('table.ai-comparison tr[data-metric="csat_mean"]')
    assert comparison is not None
    assert "3.25" in comparison.get_text()
    assert "4.00" in comparison.get_text()
    # Explanations of every number, in plain words.
    assert "What these numbers mean" in html.get_text()
    assert html.select_one("#figures") is not None  # Plotly figures, as on /analytics
    assert html.select_one('nav a[href="/ai-agents/"][aria-current="page"]') is not None


def test_no_person_is_named_on_the_ai_pages(client: Client, agent: User) -> None:
    for path in ("/ai-agents/", "/ai-agents/bot/", "/ai-agents/quality/"):
        text = soup(page(client, agent, path)).get_text()
        assert "Alice Archer" not in text
        assert "Bob Baker" not in text


def test_one_ai_agent(client: Client, agent: User) -> None:
    html = soup(page(client, agent, "/ai-agents/bot2/"))
    assert html.h1 is not None
    assert "Login Bot" in html.h1.get_text()
    assert tile(html, "conversations") == ("1", "n = 1")
    assert tile(html, "escalation_rate")[0].startswith("100.0%")


@pytest.mark.parametrize("who", ["owner", "admin", "agent"])
@pytest.mark.parametrize("agent_id", ["alice", "bob", "nobody"])
def test_a_human_or_unknown_id_is_a_404(
    client: Client, db: None, request: pytest.FixtureRequest, who: str, agent_id: str
) -> None:
    user = request.getfixturevalue(who)
    assert page(client, user, f"/ai-agents/{agent_id}/").status_code == 404
    assert page(client, user, f"/ai-agents/quality/?agent={agent_id}").status_code == 404
    assert page(client, user, f"/ai-agents/quality.csv?agent={agent_id}").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/ai-agents/", "/ai-agents/bot/", "/ai-agents/quality/", "/ai-agents/quality.csv"],
)
def test_who_may_open_the_pages(
    client: Client, owner: User, admin: User, agent: User, outsider: User, path: str
) -> None:
    for user in (owner, admin, agent):
        assert page(client, user, path).status_code == 200, user
    assert page(client, outsider, path).status_code == 403
    client.logout()
    anonymous = client.get(url(path))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(f"{LOGIN}?next=")


def test_a_bad_period_is_named_and_30_days_shown(client: Client, owner: User) -> None:
    client.force_login(owner)
    response = client.get("/ai-agents/?period=13d")
    assert response.status_code == 400  # the page, with its defaults, says what was wrong
    assert "period: choose one of" in response.content.decode()


# -- the quality report -------------------------------------------------------------------


def test_quality_report(client: Client, agent: User) -> None:
    html = soup(page(client, agent, "/ai-agents/quality/"))
    issues = [issue["data-area"] for issue in html.select("article.ai-issue")]
    assert issues == ["CSAT", "Escalation"]
    csat = html.select_one('article.ai-issue[data-area="CSAT"]')
    assert csat is not None
    assert "high severity" in csat.get_text()
    assert "Read the AI conversations scored 1\u20132 first" in csat.get_text()
    statuses = {
        row["data-area"]: row["data-status"] for row in html.select("table.ai-checks tr")[1:]
    }
    assert statuses == {"CSAT": "issue", "Escalation": "issue", "Cost": "short"}
    saved = html.select_one('[data-summary="cost_saved"]')
    assert saved is not None
    assert "$18.90" in saved.get_text()  # 2 x $10.00 - $1.10 (all four AI conversations)
    share = html.select_one('[data-summary="ai_share"]')
    assert share is not None
    assert "40.0%" in share.get_text()
    assert "2 of 5" in share.get_text()
    difference = html.select_one('[data-summary="csat_difference"]')
    assert difference is not None
    assert "-0.75" in difference.get_text()
    benchmark = html.select_one('tr[data-benchmark="CSAT score"]')
    assert benchmark is not None
    cells = [td.get_text(" ", strip=True) for td in benchmark.select("td")]
    assert cells[:3] == ["3.8/5.0", "4.2/5.0", "4.6/5.0"]
    assert cells[3] == "3.25 n 4"
    assert cells[4] == "4.00 n 1"
    cost = html.select_one('tr[data-benchmark="Cost per issue"]')
    assert cost is not None
    assert "$10.00 (your setting)" in cost.get_text()
    # Agents cannot edit the targets; the link is not offered.
    assert html.select_one('a[href="/settings/ai-targets/"]') is None


def test_printable_quality_report(client: Client, owner: User) -> None:
    response = page(client, owner, "/ai-agents/quality/?print=1")
    html = soup(response)
    assert "printing" in (html.select_one(".ai-quality") or {}).get("class", [])  # type: ignore[union-attr]
    # The page's own stylesheet hides the navigation (a file: the CSP refuses <style>).
    assert html.select_one("link[href='/static/deskpulse/printing.css']") is not None
    assert ".topbar" in client.get("/static/deskpulse/printing.css").getvalue().decode()
    assert html.select_one("form.toolbar") is None  # no period form on paper
    assert html.select_one('[data-summary="cost_saved"]') is not None


def test_quality_csv(client: Client, admin: User) -> None:
    response = page(client, admin, "/ai-agents/quality.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "ai-quality-2026-03-02-2026-03-08.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Section", "Item", "AI value", "AI n"]
    saved = next(row for row in rows if row[1] == "Cost saved")
    assert saved[2] == "18.90"


def test_one_agents_quality_report(client: Client, owner: User) -> None:
    html = soup(page(client, owner, "/ai-agents/quality/?agent=bot2"))
    assert html.h1 is not None
    assert "Login Bot" in html.h1.get_text()
    check = html.select_one('table.ai-checks tr[data-area="Escalation"]')
    assert check is not None
    assert "100.0%" in check.get_text()


# -- the targets --------------------------------------------------------------------------

VALID = {
    "csat_floor": "3.0",
    "csat_target": "3.5",
    "escalation_ceiling": "60",
    "escalation_target": "40",
    "cost_ceiling": "0.2",
    "cost_target": "0.1",
    "human_cost_per_conversation": "12",
    "half_life_days": "3.5",
}


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("admin", 200), ("agent", 404)])
def test_targets_page_access(
    client: Client, db: None, request: pytest.FixtureRequest, who: str, status: int
) -> None:
    client.force_login(request.getfixturevalue(who))
    assert client.get("/settings/ai-targets/").status_code == status
    assert client.post("/settings/ai-targets/", VALID).status_code in (
        (302,) if status == 200 else (404,)
    )


def test_targets_page_for_outsiders_and_anonymous(client: Client, outsider: User) -> None:
    assert client.get("/settings/ai-targets/").status_code == 302
    client.force_login(outsider)
    assert client.get("/settings/ai-targets/").status_code == 404
    assert not AiTargets.objects.exists()


def test_targets_show_seed_003_defaults(client: Client, owner: User) -> None:
    client.force_login(owner)
    html = soup(client.get("/settings/ai-targets/"))
    values = {field["name"]: field["value"] for field in html.select("form input[type=number]")}
    assert values == {
        "csat_floor": "4.0",
        "csat_target": "4.2",
        "escalation_ceiling": "15.0",
        "escalation_target": "10.0",
        "cost_ceiling": "0.4",
        "cost_target": "0.25",
        "human_cost_per_conversation": "10.0",
        "half_life_days": "7.0",
    }


def test_saved_targets_drive_the_report(client: Client, admin: User) -> None:
    client.force_login(admin)
    response = client.post("/settings/ai-targets/", VALID)
    assert response.status_code == 302
    saved = AiTargets.current()
    assert saved.updated_by == admin
    assert saved.targets().escalation_ceiling == 0.6
    html = soup(client.get(url("/ai-agents/quality/")))
    statuses = {
        row["data-area"]: row["data-status"] for row in html.select("table.ai-checks tr")[1:]
    }
    assert statuses == {"CSAT": "short", "Escalation": "short", "Cost": "issue"}
    saved_text = html.select_one('[data-summary="cost_saved"]')
    assert saved_text is not None
    assert "$22.90" in saved_text.get_text()  # 2 x $12.00 - $1.10
    overview = soup(client.get(url("/ai-agents/")))
    assert "half-life 3.5 days" in overview.get_text()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"csat_floor": "4.5"}, "CSAT issue below: must not be above the CSAT target"),
        ({"csat_target": "6"}, "CSAT target: must be between 1 and 5"),
        ({"escalation_ceiling": "150"}, "Escalation issue above (%): must be between 0 and 100"),
        (
            {"cost_ceiling": "0.05"},
            "Cost per conversation issue above: must not be below the cost per conversation target",
        ),
        ({"half_life_days": "0"}, "CSAT half-life (days): must be between 0.1 and 365"),
        ({"human_cost_per_conversation": "lots"}, "Human cost per conversation: Enter a number."),
    ],
)
def test_invalid_targets_name_the_field(
    client: Client, owner: User, changes: dict[str, str], message: str
) -> None:
    client.force_login(owner)
    response = client.post("/settings/ai-targets/", {**VALID, **changes})
    assert response.status_code == 400
    errors = [li.get_text() for li in soup_any(response).select("ul.errorlist li")]
    assert message in errors, errors
    assert not AiTargets.objects.exists()


def soup_any(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")
