"""Settings → Users, Teams, API tokens: who may open them, and what they change."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings

from deskpulse.events.store import Store
from deskpulse.web.accounts.models import ApiToken, Profile, Role, Team
from deskpulse.web.accounts.tokens import TokenRejectedError, authenticate_token, create_token
from tests.factories import Events, ingest_and_build

pytestmark = pytest.mark.django_db

USERS = "/settings/users/"
TEAMS = "/settings/teams/"
TOKENS = "/settings/tokens/"


@pytest.fixture(autouse=True)
def fast_hashing() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def people(owner: User, admin: User, agent: User, outsider: User) -> dict[str, User | None]:
    return {"owner": owner, "admin": admin, "agent": agent, "outsider": outsider, "anonymous": None}


@pytest.fixture
def directory(api_store: Store) -> Store:
    """Agents in the events: two humans in two teams, an AI agent, one who left."""
    events = (
        Events()
        .agent("agent-001", name="Ann Archer", teams=["team-billing"])
        .agent("agent-002", name="Ben Baker", teams=["team-billing", "team-tech"])
        .agent("agent-ai-1", name="Robo", kind="ai", teams=["team-tech"])
        .agent("agent-009", name="Gone", teams=["team-tech"], active=False)
    )
    ingest_and_build(api_store, events.events)
    return api_store


def as_(client: Client, user: User | None) -> Client:
    if user is not None:
        client.force_login(user)
    return client


def text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


# -- who may open what ------------------------------------------------------------------------


EXPECTED = {
    USERS: {"owner": 200, "admin": 404, "agent": 404, "outsider": 404},
    TEAMS: {"owner": 200, "admin": 404, "agent": 404, "outsider": 404},
    # Every member has tokens of their own; an account without a role gets the "no access
    # yet" page.
    TOKENS: {"owner": 200, "admin": 200, "agent": 200, "outsider": 403},
}


@pytest.mark.parametrize("url", list(EXPECTED))
@pytest.mark.parametrize("who", ["owner", "admin", "agent", "outsider"])
def test_settings_pages_by_role(
    client: Client, people: dict[str, User | None], url: str, who: str
) -> None:
    response = as_(client, people[who]).get(url)
    assert response.status_code == EXPECTED[url][who]


@pytest.mark.parametrize(
    "url",
    [USERS, TEAMS, TOKENS, "/settings/users/1/", "/settings/tokens/1/revoke/"],
)
def test_anonymous_people_are_sent_to_sign_in(client: Client, db: None, url: str) -> None:
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize(
    "url", ["/settings/users/", "/settings/users/{pk}/", "/settings/users/{pk}/active/"]
)
@pytest.mark.parametrize("who", ["admin", "agent"])
def test_non_owners_cannot_post_to_the_users_pages(
    client: Client, people: dict[str, User | None], url: str, who: str
) -> None:
    owner = people["owner"]
    assert owner is not None
    response = as_(client, people[who]).post(
        url.format(pk=owner.pk),
        {"active": "0", "role": "agent", "agent_id": "x", "email": "e@x.io"},
    )
    assert response.status_code == 404
    owner.refresh_from_db()
    assert owner.is_active
    assert not User.objects.filter(email="e@x.io").exists()


def test_forms_are_csrf_protected(owner: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    response = strict.post(USERS, {"email": "e@example.com", "role": "admin"})
    assert response.status_code == 403
    assert not User.objects.filter(email="e@example.com").exists()
    page = strict.get(USERS)
    assert text(page).count("csrfmiddlewaretoken") >= 3


# -- users ------------------------------------------------------------------------------------


def test_users_page_lists_people_and_offers_agent_ids(
    client: Client, owner: User, agent: User, directory: Store
) -> None:
    page = text(as_(client, owner).get(USERS))
    assert "olivia@example.com" in page
    assert "alice@example.com" in page
    assert '<datalist id="known-agents">' in page
    assert '<option value="agent-001">Ann Archer</option>' in page
    assert '<option value="agent-ai-1">Robo (AI)</option>' in page
    # alice's agent id is not in these events: the page says so.
    assert "not in the events yet" in page
    assert 'aria-current="page">Users<' in page


def test_adding_a_person_with_a_generated_password_shows_it_once(
    client: Client, owner: User, directory: Store
) -> None:
    response = as_(client, owner).post(
        USERS,
        {
            "email": "Ann@Example.com",
            "name": "Ann Archer",
            "role": "agent",
            "agent_id": "agent-001",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    found = re.search(r'<p class="secret" id="new-password">([^<]+)</p>', text(response))
    assert found is not None
    password = found.group(1)
    ann = User.objects.get(email="ann@example.com")
    assert ann.check_password(password)
    assert ann.profile.role == Role.AGENT
    assert ann.profile.agent_id == "agent-001"
    # Never again: the list shows no password.
    assert password not in text(client.get(USERS))


def test_adding_a_person_with_a_password_redirects(client: Client, owner: User) -> None:
    response = as_(client, owner).post(
        USERS, {"email": "boss@example.com", "role": "admin", "password": "a long passphrase"}
    )
    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert "Added boss@example.com as admin." in page
    assert User.objects.get(email="boss@example.com").check_password("a long passphrase")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "n@example.com", "role": "agent"}, "an agent needs an agent id"),
        (
            {"email": "n@example.com", "role": "agent", "agent_id": "alice"},
            "agent id &#x27;alice&#x27; is already linked to alice@example.com",
        ),
        (
            {"email": "ALICE@example.com", "role": "admin"},
            "alice@example.com already has an account",
        ),
        ({"email": "nope", "role": "admin"}, "Enter a valid email address."),
    ],
)
def test_adding_a_person_shows_errors_by_their_field(
    client: Client, owner: User, agent: User, data: dict[str, str], message: str
) -> None:
    response = as_(client, owner).post(USERS, data)
    assert response.status_code == 400
    page = text(response)
    assert message in page
    # The message sits under its input, in that field's error list.
    field = page.split(message)[0].rsplit('<div class="field">', 1)[1]
    assert f'name="{"agent_id" if "agent" in message else "email"}"' in field
    assert User.objects.filter(email="n@example.com").count() == 0


def test_editing_role_and_agent_id(client: Client, owner: User, admin: User) -> None:
    response = as_(client, owner).post(
        f"/settings/users/{admin.pk}/", {"role": "agent", "agent_id": "agent-002"}
    )
    assert response.status_code == 302
    profile = Profile.objects.get(user=admin)
    assert (profile.role, profile.agent_id) == ("agent", "agent-002")


def test_editing_to_agent_without_an_agent_id_is_refused(
    client: Client, owner: User, admin: User
) -> None:
    response = as_(client, owner).post(
        f"/settings/users/{admin.pk}/", {"role": "agent", "agent_id": ""}
    )
    assert response.status_code == 400
    assert "Agent id: an agent needs an agent id" in text(response)
    assert Profile.objects.get(user=admin).role == Role.ADMIN


def test_the_last_owner_cannot_demote_or_deactivate_themself(client: Client, owner: User) -> None:
    as_(client, owner)
    demoted = client.post(f"/settings/users/{owner.pk}/", {"role": "admin", "agent_id": ""})
    assert demoted.status_code == 400
    assert "olivia@example.com is the last active owner" in text(demoted)
    assert "Make someone else an owner first." in text(demoted)
    off = client.post(f"/settings/users/{owner.pk}/active/", {"active": "0"})
    assert off.status_code == 400
    assert "last active owner" in text(off)
    owner.refresh_from_db()
    assert owner.is_active
    assert owner.profile.role == Role.OWNER


def test_deactivate_and_reactivate(client: Client, owner: User, agent: User) -> None:
    as_(client, owner)
    assert client.post(f"/settings/users/{agent.pk}/active/", {"active": "0"}).status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active
    assert "deactivated" in text(client.get(USERS))
    assert client.post(f"/settings/users/{agent.pk}/active/", {"active": "1"}).status_code == 302
    agent.refresh_from_db()
    assert agent.is_active


def test_a_deactivated_person_is_signed_out(client: Client, owner: User, agent: User) -> None:
    other = Client()
    other.force_login(agent)
    assert other.get(TOKENS).status_code == 200
    as_(client, owner).post(f"/settings/users/{agent.pk}/active/", {"active": "0"})
    assert other.get(TOKENS).status_code == 302


def test_new_password_is_shown_once(client: Client, owner: User, agent: User) -> None:
    response = as_(client, owner).post(f"/settings/users/{agent.pk}/password/")
    assert response.status_code == 200
    found = re.search(r'id="new-password">([^<]+)<', text(response))
    assert found is not None
    agent.refresh_from_db()
    assert agent.check_password(found.group(1))


def test_unknown_person_is_404(client: Client, owner: User) -> None:
    assert (
        as_(client, owner).post("/settings/users/999999/active/", {"active": "0"}).status_code
        == 404
    )


# -- teams ------------------------------------------------------------------------------------


def test_teams_page_lists_teams_from_the_events_with_agent_counts(
    client: Client, owner: User, directory: Store
) -> None:
    Team.objects.create(team_id="team-billing", name="Billing")
    page = text(as_(client, owner).get(TEAMS))
    rows = dict(re.findall(r"<tr>\s*<td><code>([^<]+)</code>(.*?)</tr>", page, re.S))
    assert set(rows) == {"team-billing", "team-tech"}
    assert 'value="Billing"' in rows["team-billing"]
    assert '<td class="num">2</td>' in rows["team-billing"]
    # agent-002 and the AI agent; agent-009 has left.
    assert '<td class="num">2</td>' in rows["team-tech"]
    assert 'placeholder="team-tech"' in rows["team-tech"]


def test_owner_adds_and_renames_teams(client: Client, owner: User) -> None:
    as_(client, owner)
    added = client.post(TEAMS, {"action": "add", "team_id": "team-vip", "name": "VIP"})
    assert added.status_code == 302
    assert Team.objects.get(team_id="team-vip").name == "VIP"
    renamed = client.post(
        TEAMS, {"action": "rename", "team_id": "team-vip", "name": "Key accounts"}
    )
    assert renamed.status_code == 302
    assert Team.objects.get(team_id="team-vip").name == "Key accounts"
    again = client.post(TEAMS, {"action": "add", "team_id": "team-vip", "name": "Other"})
    assert again.status_code == 400
    assert "Team id: team &#x27;team-vip&#x27; already has a name" in text(again)
    empty = client.post(TEAMS, {"action": "rename", "team_id": "team-vip", "name": " "})
    assert empty.status_code == 400
    assert "Name: a team needs a name" in text(empty)
    client.post(TEAMS, {"action": "forget", "team_id": "team-vip"})
    assert not Team.objects.filter(team_id="team-vip").exists()


@pytest.mark.parametrize("who", ["admin", "agent"])
def test_non_owners_cannot_name_teams(
    client: Client, people: dict[str, User | None], who: str
) -> None:
    response = as_(client, people[who]).post(
        TEAMS, {"action": "add", "team_id": "team-x", "name": "X"}
    )
    assert response.status_code == 404
    assert not Team.objects.exists()


# -- API tokens -------------------------------------------------------------------------------


def created_plaintext(response: object) -> str:
    found = re.search(r'<p class="secret" id="new-token">(dp_[^<]+)</p>', text(response))
    assert found is not None, text(response)
    return found.group(1)


@pytest.mark.parametrize("who", ["owner", "admin", "agent"])
def test_a_member_creates_a_read_token_for_themself_shown_once(
    client: Client, people: dict[str, User | None], who: str
) -> None:
    person = people[who]
    response = as_(client, person).post(TOKENS, {"name": "my export", "scopes": ["read"]})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plaintext = created_plaintext(response)
    token = authenticate_token(plaintext)
    assert token.user == person
    assert token.scopes == ["read"]
    secret = plaintext.split("_", 2)[2]
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert secret not in stored
    # Listed afterwards by its prefix only.
    page = text(client.get(TOKENS))
    assert f"dp_{token.prefix}_…" in page
    assert secret not in page


@pytest.mark.parametrize("who", ["admin", "agent"])
def test_only_owners_may_create_ingest_tokens(
    client: Client, people: dict[str, User | None], who: str
) -> None:
    as_(client, people[who])
    assert 'value="ingest"' not in text(client.get(TOKENS))
    response = client.post(TOKENS, {"name": "push", "scopes": ["read", "ingest"]})
    assert response.status_code == 400
    assert "only owners may create ingest tokens" in text(response)
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("who", ["admin", "agent"])
def test_members_create_write_tokens(
    client: Client, people: dict[str, User | None], who: str
) -> None:
    # A write token acts as its user does on the pages (an agent's: their own plans).
    as_(client, people[who])
    assert 'value="write"' in text(client.get(TOKENS))
    response = client.post(TOKENS, {"name": "plans", "scopes": ["read", "write"]})
    assert authenticate_token(created_plaintext(response)).scopes == ["read", "write"]


def test_owner_creates_an_ingest_token(client: Client, owner: User) -> None:
    response = as_(client, owner).post(TOKENS, {"name": "zendesk", "scopes": ["ingest", "read"]})
    assert authenticate_token(created_plaintext(response)).scopes == ["ingest", "read"]


def test_token_form_needs_a_name_and_a_scope(client: Client, agent: User) -> None:
    response = as_(client, agent).post(TOKENS, {"name": "", "scopes": []})
    assert response.status_code == 400
    assert text(response).count('<ul class="errorlist"') == 2
    assert not ApiToken.objects.exists()


def test_members_see_only_their_own_tokens(
    client: Client, owner: User, admin: User, agent: User
) -> None:
    create_token(name="owner-token", scopes=["ingest"], user=owner)
    create_token(name="alice-token", scopes=["read"], user=agent)
    page = text(as_(client, admin).get(TOKENS))
    assert "owner-token" not in page
    assert "alice-token" not in page
    page = text(Client().get(TOKENS))  # anonymous
    assert "alice-token" not in page


def test_owner_sees_everyones_tokens_with_their_email(
    client: Client, owner: User, agent: User
) -> None:
    create_token(name="alice-token", scopes=["read"], user=agent)
    create_token(name="integration", scopes=["ingest"])
    page = text(as_(client, owner).get(TOKENS))
    assert "Everyone else's tokens" in page
    assert "alice@example.com" in page
    assert "alice-token" in page
    assert "integration" in page


def test_a_member_revokes_their_own_token_by_post(client: Client, agent: User) -> None:
    token, plaintext = create_token(name="mine", scopes=["read"], user=agent)
    as_(client, agent)
    url = f"/settings/tokens/{token.pk}/revoke/"
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.is_revoked
    assert "Revoked mine" in text(client.get(TOKENS))
    with pytest.raises(TokenRejectedError):
        authenticate_token(plaintext)


@pytest.mark.parametrize("who", ["admin", "agent"])
def test_a_member_cannot_revoke_someone_elses_token(
    client: Client, people: dict[str, User | None], who: str
) -> None:
    owner = people["owner"]
    token, _ = create_token(name="owner's", scopes=["ingest"], user=owner)
    response = as_(client, people[who]).post(f"/settings/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert not token.is_revoked


def test_the_owner_revokes_anyones_token(client: Client, owner: User, agent: User) -> None:
    token, _ = create_token(name="alice's", scopes=["read"], user=agent)
    response = as_(client, owner).post(f"/settings/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.is_revoked


def test_outsider_cannot_revoke(client: Client, outsider: User, agent: User) -> None:
    token, _ = create_token(name="alice's", scopes=["read"], user=agent)
    assert as_(client, outsider).post(f"/settings/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert not token.is_revoked


def test_an_owner_who_steps_down_leaves_the_owners_pages(client: Client, owner: User) -> None:
    second = User.objects.create_user("second", email="second@example.com")
    Profile.objects.create(user=second, role=Role.OWNER)
    response = as_(client, owner).post(f"/settings/users/{owner.pk}/", {"role": "admin"})
    assert response.status_code == 302
    assert response["Location"] == TOKENS
    assert Profile.objects.get(user=owner).role == Role.ADMIN
    assert client.get(USERS).status_code == 404
