"""Settings → Connectors: owners and admins set, rotate and remove a connector's
signing secret and its allow-unsigned flag; agents and outsiders cannot; the secret is
never rendered back."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.test import Client

from deskpulse.web.connectors.models import Connector
from deskpulse.web.connectors.service import create_connector, signing_secret_of

pytestmark = pytest.mark.django_db

SECRET = "xQ7rT2mWv9ZkLp4NsB8cYd3F"
LIST = "/settings/connectors/"


@pytest.fixture
def connector(db: None) -> Connector:
    made, _ = create_connector("chatwoot", "support", account_id=1)
    return made


def edit_url(connector: Connector) -> str:
    return f"/settings/connectors/{connector.pk}/"


def reload(connector: Connector) -> Connector:
    return Connector.objects.get(pk=connector.pk)


def signing_cell(html: str, connector: Connector) -> str:
    row = BeautifulSoup(html, "html.parser").select_one(f'tr[data-connector="{connector.pk}"]')
    assert row is not None
    cell = row.select_one("td[data-signing]")
    assert cell is not None
    return str(cell["data-signing"])


def test_owner_sets_the_secret_and_it_is_never_shown(
    client: Client, owner: User, connector: Connector
) -> None:
    client.force_login(owner)
    page = client.get(LIST)
    assert page.status_code == 200
    assert signing_cell(page.content.decode(), connector) == "refusing: no secret"
    assert 'aria-current="page">Connectors<' in page.content.decode()

    response = client.post(edit_url(connector), {"signing_secret": SECRET})
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert signing_secret_of(reload(connector)) == SECRET
    assert reload(connector).allow_unsigned is False

    listed = client.get(LIST).content.decode()
    assert signing_cell(listed, connector) == "signed"
    form_page = client.get(edit_url(connector)).content.decode()
    for html in (listed, form_page):
        assert SECRET not in html
        assert reload(connector).signing_secret_sealed not in html
    soup = BeautifulSoup(form_page, "html.parser")
    secret_input = soup.select_one('input[name="signing_secret"]')
    assert secret_input is not None
    assert secret_input["type"] == "password"
    assert not secret_input.get("value")
    marker = soup.select_one('[data-secret="signing"]')
    assert marker is not None
    assert marker.text.startswith("set")


def test_admin_allows_unsigned_and_the_list_warns(
    client: Client, admin: User, connector: Connector
) -> None:
    client.force_login(admin)
    response = client.post(edit_url(connector), {"allow_unsigned": "on"})
    assert response.status_code == 302
    assert reload(connector).allow_unsigned is True
    html = client.get(LIST).content.decode()
    assert signing_cell(html, connector) == "unsigned allowed"
    warning = BeautifulSoup(html, "html.parser").select_one('[data-warning="unsigned"]')
    assert warning is not None
    assert "support" in warning.text


def test_leaving_the_secret_empty_keeps_it_and_remove_removes_it(
    client: Client, owner: User
) -> None:
    connector, _ = create_connector("chatwoot", "support", signing_secret=SECRET)
    client.force_login(owner)
    assert client.post(edit_url(connector), {"signing_secret": ""}).status_code == 302
    assert signing_secret_of(reload(connector)) == SECRET
    assert client.post(edit_url(connector), {"remove_secret": "on"}).status_code == 302
    assert signing_secret_of(reload(connector)) is None


@pytest.mark.parametrize(
    ("post", "field", "words"),
    [
        ({"signing_secret": "short"}, "Signing secret", "5 characters, fewer than 16"),
        ({"signing_secret": "has spaces in the middle"}, "Signing secret", "has spaces"),
        (
            {"signing_secret": SECRET, "remove_secret": "on"},
            "Remove the signing secret",
            "not both",
        ),
    ],
    ids=["too short", "spaces", "set and remove"],
)
def test_bad_input_names_the_field_and_changes_nothing(
    client: Client, owner: User, connector: Connector, post: dict[str, str], field: str, words: str
) -> None:
    client.force_login(owner)
    response = client.post(edit_url(connector), post)
    assert response.status_code == 400
    errors = BeautifulSoup(response.content, "html.parser").select_one("ul.errorlist")
    assert errors is not None
    assert f"{field}: " in errors.text
    assert words in errors.text
    if post["signing_secret"] != SECRET:
        assert post["signing_secret"] not in errors.text  # what was typed is not echoed
    assert reload(connector).signing_secret_sealed == ""
    assert reload(connector).allow_unsigned is False


def test_agent_cannot_see_or_change_a_connector(
    client: Client, agent: User, connector: Connector
) -> None:
    client.force_login(agent)
    assert client.get(LIST).status_code == 403
    assert client.get(edit_url(connector)).status_code == 403
    response = client.post(edit_url(connector), {"signing_secret": SECRET, "allow_unsigned": "on"})
    assert response.status_code == 403
    assert reload(connector).signing_secret_sealed == ""
    assert reload(connector).allow_unsigned is False


def test_outsider_and_anonymous_cannot_change_a_connector(
    client: Client, outsider: User, connector: Connector
) -> None:
    response = client.post(edit_url(connector), {"allow_unsigned": "on"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    client.force_login(outsider)
    assert client.post(edit_url(connector), {"allow_unsigned": "on"}).status_code == 403
    assert reload(connector).allow_unsigned is False


def test_change_without_csrf_token_is_refused(owner: User, connector: Connector) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    response = strict.post(edit_url(connector), {"allow_unsigned": "on"})
    assert response.status_code == 403
    assert reload(connector).allow_unsigned is False


def test_settings_nav_links_to_connectors(client: Client, owner: User) -> None:
    client.force_login(owner)
    nav = BeautifulSoup(client.get("/settings/data-health/").content, "html.parser")
    assert nav.select_one(f'nav.settings-tabs a[href="{LIST}"]') is not None
