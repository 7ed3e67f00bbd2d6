"""/settings/digest/: each person chooses their digest; agents see only what applies to
them; the preview renders this week's digest; the ledger says what was sent when."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client

from deskpulse import clock
from deskpulse.events.store import Store, open_store
from deskpulse.settings import Settings
from deskpulse.web.digest.models import DigestPreference, DigestSend
from deskpulse.web.runtime import using_store
from tests.factories import ingest_and_build
from tests.notify.test_digest import organisation

pytestmark = pytest.mark.django_db
URL = "/settings/digest/"


@pytest.fixture(scope="module")
def org_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(Settings(data_dir=tmp_path_factory.mktemp("digest-pages")))
    ingest_and_build(store, organisation())
    yield store
    store.close()


@pytest.fixture(autouse=True)
def api_store(org_store: Store) -> Iterator[Store]:
    with using_store(org_store):
        yield org_store


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def test_an_owner_chooses_teams_day_and_hour(client: Client, owner: User) -> None:
    page = signed_in(client, owner).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="billing"' in html
    assert 'value="tech"' in html
    assert "UTC" in html
    assert "Your digest is off." in html
    saved = client.post(
        URL,
        {
            "enabled": "on",
            "teams": ["billing", "tech"],
            "weekday": "0",
            "hour": "8",
            "by_email": "on",
            "to_webhook": "on",
        },
    )
    assert saved.status_code == 302
    preference = DigestPreference.objects.get(user=owner)
    assert (preference.enabled, preference.teams, preference.weekday, preference.hour) == (
        True,
        ["billing", "tech"],
        0,
        8,
    )
    assert preference.to_webhook
    again = client.get(URL).content.decode()
    assert "Mondays at 08:00" in again


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("hour", "24", "hour"),
        ("weekday", "9", "weekday"),
        ("teams", "nobody", "teams"),
        ("timezone", "Mars/Olympus", "timezone"),
    ],
)
def test_a_bad_value_is_named_and_nothing_is_saved(
    client: Client, owner: User, field: str, value: str, named: str
) -> None:
    data = {"enabled": "on", "weekday": "0", "hour": "8", "by_email": "on", field: value}
    answer = signed_in(client, owner).post(URL, data)
    assert answer.status_code == 400
    assert f"<li>{named}: " in answer.content.decode()
    assert not DigestPreference.objects.exists()


def test_a_person_picks_their_own_time_zone(client: Client, owner: User) -> None:
    data = {"enabled": "on", "weekday": "0", "hour": "8", "by_email": "on"}
    saved = signed_in(client, owner).post(URL, {**data, "timezone": "America/New_York"})
    assert saved.status_code == 302
    assert DigestPreference.objects.get(user=owner).timezone == "America/New_York"
    page = client.get(URL).content.decode()
    assert "your time zone, <strong data-timezone>America/New_York</strong>" in page
    # This week's Monday 08:00 in New York (13:00 UTC) is shown in the person's zone.
    assert "this week's slot: Mon 11 Jan 2027, 08:00." in page


def test_a_digest_needs_a_way_to_arrive(client: Client, owner: User) -> None:
    answer = signed_in(client, owner).post(URL, {"enabled": "on", "weekday": "0", "hour": "8"})
    assert answer.status_code == 400
    assert "choose at least one way" in answer.content.decode()


def test_an_agent_opts_in_to_their_own_digest_without_team_or_webhook_controls(
    client: Client, agent: User
) -> None:
    html = signed_in(client, agent).get(URL).content.decode()
    assert "Send me my own weekly digest" in html
    assert 'name="teams"' not in html
    assert 'name="to_webhook"' not in html
    # Fields the form does not show are not taken either.
    data = {"enabled": "on", "weekday": "4", "hour": "17", "by_email": "on"}
    assert client.post(URL, {**data, "teams": "billing", "to_webhook": "on"}).status_code == 302
    preference = DigestPreference.objects.get(user=agent)
    assert (preference.teams, preference.to_webhook, preference.weekday) == ([], False, 4)


def test_the_preview_is_this_weeks_digest(client: Client, owner: User) -> None:
    DigestPreference.objects.create(user=owner, teams=["tech"])
    html = signed_in(client, owner).get(URL + "preview/")
    assert html.status_code == 200
    assert html["Content-Type"].startswith("text/html")
    assert "Team tech" in html.content.decode()
    text = client.get(URL + "preview/?format=text")
    assert text["Content-Type"].startswith("text/plain")
    assert "  Conversations: 1 (n = 1)" in text.content.decode()


def test_an_agents_preview_is_their_own(client: Client, agent: User) -> None:
    text = signed_in(client, agent).get(URL + "preview/?format=text").content.decode()
    assert "Your numbers" in text
    assert "Conversations handled: 2" in text
    assert "Team" not in text


def test_the_ledger_shows_everyone_to_a_lead_and_only_their_own_to_an_agent(
    client: Client, owner: User, agent: User
) -> None:
    now = clock.now()
    DigestSend.objects.create(user=owner, week="2027-W01", status="sent", claimed_at=now)
    DigestSend.objects.create(user=agent, week="2027-W02", status="sent", claimed_at=now)
    lead = signed_in(client, owner).get(URL).content.decode()
    assert 'data-week="2027-W01"' in lead
    assert 'data-week="2027-W02"' in lead
    client.logout()
    mine = signed_in(client, agent).get(URL).content.decode()
    assert 'data-week="2027-W02"' in mine
    assert 'data-week="2027-W01"' not in mine


def test_anonymous_visitors_sign_in_first(client: Client, db: None) -> None:
    for url in (URL, URL + "preview/"):
        answer = client.get(url)
        assert answer.status_code == 302
        assert answer["Location"].startswith("/accounts/login/")


def test_a_person_without_an_email_address_is_told(client: Client, db: None) -> None:
    from deskpulse.web.accounts.models import Profile, Role

    nobody = User.objects.create_user(username="no-mail")
    Profile.objects.create(user=nobody, role=Role.ADMIN)
    html = signed_in(client, nobody).get(URL).content.decode()
    assert "Your account has no e-mail address" in html
