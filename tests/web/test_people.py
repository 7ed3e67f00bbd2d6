"""The rules for people (people.py) and team names (teams.py), shared by CLI and pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from deskpulse.web.accounts.models import Profile, Role, Team
from deskpulse.web.accounts.people import (
    PersonError,
    add_user,
    deactivate,
    find_person,
    list_people,
    reactivate,
    set_password,
    update_person,
)
from deskpulse.web.accounts.teams import (
    TeamError,
    add_team,
    forget_team,
    name_team,
    team_names,
    team_rows,
)
from deskpulse.web.accounts.tokens import create_token

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashing() -> Iterator[None]:
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def test_add_user_generates_a_password_shown_once() -> None:
    user, generated = add_user(
        email="  Ada@Example.com ", role="agent", agent_id="agent-007", name="Ada  Lovelace"
    )
    assert generated is not None
    assert len(generated) >= 20
    assert user.email == "ada@example.com"
    assert user.username == "ada@example.com"
    assert user.get_full_name() == "Ada Lovelace"
    assert user.check_password(generated)
    assert generated not in user.password  # only the hash is stored
    profile = Profile.objects.get(user=user)
    assert (profile.role, profile.agent_id) == ("agent", "agent-007")


def test_add_user_with_a_chosen_password_returns_none() -> None:
    user, generated = add_user(email="b@example.com", role="admin", password="a long passphrase")
    assert generated is None
    assert user.check_password("a long passphrase")


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"email": "not-an-email", "role": "admin"}, "email", "not a valid email"),
        ({"email": "", "role": "admin"}, "email", "required"),
        ({"email": "x@example.com", "role": "boss"}, "role", "'boss' is not a role"),
        ({"email": "x@example.com", "role": "agent"}, "agent_id", "an agent needs an agent id"),
        (
            {"email": "x@example.com", "role": "agent", "agent_id": "  "},
            "agent_id",
            "an agent needs an agent id",
        ),
        ({"email": "x@example.com", "role": "admin", "password": "short"}, "password", "short"),
        (
            {"email": "x@example.com", "role": "admin", "password": "1234567890123"},
            "password",
            "numeric",
        ),
    ],
)
def test_add_user_names_the_field_at_fault(kwargs: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(PersonError, match=words) as error:
        add_user(**kwargs)
    assert error.value.field == field
    assert not User.objects.filter(email="x@example.com").exists()


def test_an_email_has_one_account_whatever_its_case(owner: User) -> None:
    with pytest.raises(PersonError, match="already has an account") as error:
        add_user(email="OLIVIA@example.com", role="admin")
    assert error.value.field == "email"


def test_an_agent_id_belongs_to_one_person(agent: User) -> None:
    with pytest.raises(PersonError, match=r"'alice' is already linked to alice@example\.com") as e:
        add_user(email="new@example.com", role="agent", agent_id="alice")
    assert e.value.field == "agent_id"
    assert not User.objects.filter(email="new@example.com").exists()


def test_owners_and_admins_may_carry_an_agent_id() -> None:
    user, _ = add_user(email="lead@example.com", role="admin", agent_id="agent-001")
    assert user.profile.agent_id == "agent-001"


def test_update_person_changes_role_and_agent_id(agent: User, owner: User) -> None:
    update_person(agent, role="admin", agent_id=None)
    agent.profile.refresh_from_db()
    assert (agent.profile.role, agent.profile.agent_id) == ("admin", None)
    # Keeping one's own agent id is not "taken by someone else".
    update_person(agent, role="agent", agent_id="alice")
    update_person(agent, role="agent", agent_id="alice")
    with pytest.raises(PersonError, match="an agent needs an agent id"):
        update_person(agent, role="agent", agent_id="")


def test_update_refuses_someone_elses_agent_id(agent: User, admin: User) -> None:
    with pytest.raises(PersonError, match=r"already linked to alice@example\.com") as error:
        update_person(admin, role="agent", agent_id="alice")
    assert error.value.field == "agent_id"
    admin.profile.refresh_from_db()
    assert admin.profile.role == Role.ADMIN


def test_update_gives_a_role_to_someone_without_one(outsider: User) -> None:
    update_person(outsider, role="admin", agent_id=None)
    assert Profile.objects.get(user=outsider).role == Role.ADMIN


def test_the_last_active_owner_cannot_be_demoted_or_deactivated(owner: User) -> None:
    # The service user behind CLI-made tokens is an owner too, but not a person: it does
    # not count as someone who can manage the team.
    create_token(name="integration", scopes=["ingest"])
    with pytest.raises(PersonError, match="last active owner") as error:
        update_person(owner, role="admin", agent_id=None)
    assert error.value.field == "role"
    with pytest.raises(PersonError, match="last active owner") as error:
        deactivate(owner)
    assert error.value.field == "active"
    owner.refresh_from_db()
    assert owner.is_active
    assert owner.profile.role == Role.OWNER


def test_with_a_second_owner_either_may_step_down(owner: User) -> None:
    second, _ = add_user(email="second@example.com", role="owner")
    deactivate(owner)
    owner.refresh_from_db()
    assert not owner.is_active
    # Now `second` is the last active one.
    with pytest.raises(PersonError, match="last active owner"):
        update_person(second, role="admin", agent_id=None)
    reactivate(owner)
    update_person(second, role="admin", agent_id=None)
    assert Profile.objects.get(user=second).role == Role.ADMIN


def test_set_password_generates_or_takes_one(agent: User) -> None:
    generated = set_password("ALICE@example.com")
    assert generated is not None
    agent.refresh_from_db()
    assert agent.check_password(generated)
    assert set_password(agent, "another long one") is None
    agent.refresh_from_db()
    assert agent.check_password("another long one")
    with pytest.raises(PersonError, match="too short") as error:
        set_password(agent, "short")
    assert error.value.field == "password"


def test_find_person_by_email(agent: User) -> None:
    assert find_person(" Alice@Example.com ") == agent
    with pytest.raises(PersonError, match="no one has the email") as error:
        find_person("nobody@example.com")
    assert error.value.field == "email"


def test_list_people_shows_roles_and_leaves_out_the_service_user(
    owner: User, agent: User, outsider: User
) -> None:
    create_token(name="integration", scopes=["ingest"])
    deactivate(agent)
    people = {person.email: person for person in list_people()}
    assert set(people) == {"olivia@example.com", "alice@example.com", "oscar@example.com"}
    assert people["olivia@example.com"].role == "owner"
    assert people["alice@example.com"].agent_id == "alice"
    assert not people["alice@example.com"].is_active
    assert people["oscar@example.com"].role is None
    assert [p.is_active for p in list_people()] == [True, True, False]


# -- teams ------------------------------------------------------------------------------------


DIRECTORY = {
    "a1": {"agent_id": "a1", "team_ids": ["team-billing"], "active": True},
    "a2": {"agent_id": "a2", "team_ids": ["team-billing", "team-tech"], "active": True},
    "a3": {"agent_id": "a3", "team_ids": ["team-tech"], "active": False},
    "a4": {"agent_id": "a4", "team_ids": None, "active": True},
}


def test_team_rows_merge_the_events_and_the_saved_names(db: None) -> None:
    name_team("team-billing", "Billing")
    add_team("team-future", "Future")
    rows = {row.team_id: row for row in team_rows(DIRECTORY)}
    assert set(rows) == {"team-billing", "team-tech", "team-future"}
    assert (rows["team-billing"].name, rows["team-billing"].agents) == ("Billing", 2)
    # a3 left (inactive): not counted.
    assert (rows["team-tech"].name, rows["team-tech"].named, rows["team-tech"].agents) == (
        "team-tech",
        False,
        1,
    )
    assert not rows["team-future"].in_events


def test_team_names_fall_back_to_the_id(db: None) -> None:
    name_team("team-billing", "Billing")
    assert team_names() == {"team-billing": "Billing"}
    assert team_names(["team-billing", "team-tech"]) == {
        "team-billing": "Billing",
        "team-tech": "team-tech",
    }
    name_team("team-billing", "  Billing   & Invoices ")
    assert team_names()["team-billing"] == "Billing & Invoices"
    forget_team("team-billing")
    assert team_names() == {}


@pytest.mark.parametrize(
    ("team_id", "name", "field"),
    [("", "Name", "team_id"), ("t", "  ", "name"), ("t", "x" * 101, "name")],
)
def test_team_input_is_checked(db: None, team_id: str, name: str, field: str) -> None:
    with pytest.raises(TeamError) as error:
        add_team(team_id, name)
    assert error.value.field == field


def test_adding_a_named_team_again_is_refused(db: None) -> None:
    add_team("team-x", "X")
    with pytest.raises(TeamError, match="already has a name"):
        add_team("team-x", "Y")
    assert Team.objects.get(team_id="team-x").name == "X"
