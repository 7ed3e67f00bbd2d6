"""Profiles and the app database's migrations."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import IntegrityError, transaction

from deskpulse.web.accounts.models import Profile, Role

pytestmark = pytest.mark.django_db


def test_migrations_match_the_models() -> None:
    # Fails when a model changed without its migration being written and committed.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_an_agent_needs_an_agent_id(db: None) -> None:
    user = User.objects.create_user("nobody")
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.create(user=user, role=Role.AGENT, agent_id=None)


def test_one_person_per_agent_id(agent: User) -> None:
    other = User.objects.create_user("alice2")
    with pytest.raises(IntegrityError), transaction.atomic():
        Profile.objects.create(user=other, role=Role.AGENT, agent_id="alice")
    # Several people without an agent id are fine.
    Profile.objects.create(user=other, role=Role.ADMIN)
    Profile.objects.create(user=User.objects.create_user("third"), role=Role.OWNER)


def test_role_fixtures(owner: User, admin: User, agent: User, outsider: User) -> None:
    assert owner.profile.sees_whole_team
    assert admin.profile.sees_whole_team
    assert not agent.profile.sees_whole_team
    assert agent.profile.agent_id == "alice"
    assert not Profile.objects.filter(user=outsider).exists()
