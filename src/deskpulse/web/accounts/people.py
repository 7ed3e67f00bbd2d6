"""People on the team: add, change role or agent id, set passwords, deactivate.

One implementation for `deskpulse user …` and the owners' Settings → Users page. Every
rule lives here and every refusal is a `PersonError` naming the field it is about, so the
CLI can say `--agent-id: …` and the page can put the message under the right input.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    MinimumLengthValidator,
    NumericPasswordValidator,
    validate_password,
)
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from deskpulse.web.accounts.models import Profile, Role
from deskpulse.web.accounts.throttle import unlock_account
from deskpulse.web.accounts.tokens import SERVICE_USERNAME

if TYPE_CHECKING:
    from django.contrib.auth.password_validation import PasswordValidator

MIN_PASSWORD_LENGTH = 10
GENERATED_PASSWORD_BYTES = 18  # 24 base64url characters, 144 bits
ROLES: tuple[str, ...] = tuple(Role.values)
# Applied explicitly rather than through AUTH_PASSWORD_VALIDATORS so the rules hold for
# the CLI and the pages alike without touching the shared Django settings.
_PASSWORD_RULES: list[PasswordValidator] = [
    MinimumLengthValidator(MIN_PASSWORD_LENGTH),
    CommonPasswordValidator(),
    NumericPasswordValidator(),
]


class PersonError(ValueError):
    """A request about a person that cannot be done; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Person:
    """One row of the people list."""

    user: User
    email: str
    name: str
    role: str | None
    agent_id: str | None
    is_active: bool
    last_login: datetime | None

    @property
    def pk(self) -> int:
        return int(self.user.pk)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not cleaned:
        raise PersonError("email", "an email address is required")
    try:
        validate_email(cleaned)
    except ValidationError:
        raise PersonError("email", f"{email.strip()!r} is not a valid email address") from None
    # The email doubles as the username, which Django caps at 150 characters.
    if len(cleaned) > 150:
        raise PersonError("email", "an email address here has at most 150 characters")
    return cleaned


def _role(role: str) -> str:
    cleaned = role.strip().lower()
    if cleaned not in ROLES:
        raise PersonError("role", f"{role!r} is not a role; choose one of {', '.join(ROLES)}")
    return cleaned


def _agent_id(agent_id: str | None) -> str | None:
    if agent_id is None:
        return None
    cleaned = agent_id.strip()
    if not cleaned:
        return None
    if len(cleaned) > 256:
        raise PersonError("agent_id", "an agent id has at most 256 characters")
    return cleaned


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user, password_validators=_PASSWORD_RULES)
    except ValidationError as error:
        raise PersonError("password", " ".join(error.messages)) from None


def _check_role_and_agent(role: str, agent_id: str | None, *, user: User | None) -> None:
    if role == Role.AGENT and agent_id is None:
        raise PersonError("agent_id", "an agent needs an agent id: the agent_id their events carry")
    if agent_id is None:
        return
    holder = Profile.objects.filter(agent_id=agent_id).select_related("user").first()
    if holder is not None and (user is None or holder.user_id != user.pk):
        raise PersonError(
            "agent_id", f"agent id {agent_id!r} is already linked to {_label(holder.user)}"
        )


def _label(user: User) -> str:
    return user.email or user.username


def _email_taken(email: str, *, other_than: User | None = None) -> bool:
    users = get_user_model().objects.filter(email__iexact=email) | get_user_model().objects.filter(
        username__iexact=email
    )
    if other_than is not None:
        users = users.exclude(pk=other_than.pk)
    return users.exists()


def _active_owners() -> list[int]:
    """Ids of the active owners who are people (the service user holds tokens, not a seat)."""
    return list(
        Profile.objects.select_for_update()
        .filter(role=Role.OWNER, user__is_active=True)
        .exclude(user__username=SERVICE_USERNAME)
        .values_list("user_id", flat=True)
    )


def _guard_last_owner(user: User, field: str, doing: str) -> None:
    owners = _active_owners()
    if owners == [user.pk]:
        raise PersonError(
            field,
            f"{_label(user)} is the last active owner; {doing} would leave nobody to manage "
            "users and tokens. Make someone else an owner first.",
        )


def find_person(email: str) -> User:
    """The person with this email (case-insensitive), or a PersonError on `email`."""
    cleaned = email.strip()
    matches = list(
        get_user_model()
        .objects.filter(email__iexact=cleaned)
        .exclude(username=SERVICE_USERNAME)[:2]
    )
    if not matches:
        raise PersonError("email", f"no one has the email {cleaned!r} (see `deskpulse user list`)")
    if len(matches) > 1:
        raise PersonError("email", f"several accounts have the email {cleaned!r}")
    user: User = matches[0]
    return user


def get_person(pk: int) -> User | None:
    """A person by id; None for unknown ids and for the service user."""
    found: User | None = (
        get_user_model().objects.exclude(username=SERVICE_USERNAME).filter(pk=pk).first()
    )
    return found


def _user(who: User | str) -> User:
    return find_person(who) if isinstance(who, str) else who


def add_user(
    *,
    email: str,
    role: str,
    agent_id: str | None = None,
    name: str = "",
    password: str | None = None,
) -> tuple[User, str | None]:
    """Create a person with a role; returns them and the password if one was generated.

    A generated password is returned exactly once, for the caller to show; only its
    hash is stored.
    """
    address = normalise_email(email)
    chosen_role = _role(role)
    linked = _agent_id(agent_id)
    full_name = " ".join(name.split())
    if len(full_name) > 150:
        raise PersonError("name", "a name has at most 150 characters")
    if _email_taken(address):
        raise PersonError("email", f"{address} already has an account")
    generated = None
    if password is None or password == "":
        generated = password = generate_password()
    else:
        _check_password(password)
    try:
        with transaction.atomic():
            _check_role_and_agent(chosen_role, linked, user=None)
            first, _, last = full_name.partition(" ")
            user = get_user_model().objects.create_user(
                username=address,
                email=address,
                password=password,
                first_name=first,
                last_name=last,
            )
            Profile.objects.create(user=user, role=chosen_role, agent_id=linked)
    except IntegrityError:
        # Someone else took the email or agent id between the check and the insert.
        if linked is not None and Profile.objects.filter(agent_id=linked).exists():
            raise PersonError("agent_id", f"agent id {linked!r} is already linked") from None
        raise PersonError("email", f"{address} already has an account") from None
    return user, generated


def update_person(who: User | str, *, role: str, agent_id: str | None) -> User:
    """Change a person's role and agent id (giving a role to someone without one)."""
    user = _user(who)
    chosen_role = _role(role)
    linked = _agent_id(agent_id)
    try:
        with transaction.atomic():
            profile = Profile.objects.select_for_update().filter(user=user).first()
            if profile is not None and profile.role == Role.OWNER and chosen_role != Role.OWNER:
                _guard_last_owner(user, "role", "changing their role")
            _check_role_and_agent(chosen_role, linked, user=user)
            Profile.objects.update_or_create(
                user=user, defaults={"role": chosen_role, "agent_id": linked}
            )
    except IntegrityError:
        raise PersonError("agent_id", f"agent id {linked!r} is already linked") from None
    # api/viewer.profile_of caches the profile on the user object.
    user.__dict__.pop("_deskpulse_profile", None)
    return user


def set_password(who: User | str, password: str | None = None) -> str | None:
    """Set a new password; returns it if it was generated (to be shown once).

    The account's sign-in lockout goes too: wrong guesses at the old password say
    nothing about the new one, and the person is about to use it.
    """
    user = _user(who)
    generated = None
    if password is None or password == "":
        generated = password = generate_password()
    else:
        _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    unlock_account(user)
    return generated


def deactivate(who: User | str) -> User:
    """Switch a person off: no sign-in, no API; their data and history stay."""
    user = _user(who)
    with transaction.atomic():
        if Profile.objects.filter(user=user, role=Role.OWNER).exists() and user.is_active:
            _guard_last_owner(user, "active", "deactivating them")
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
    return user


def reactivate(who: User | str) -> User:
    user = _user(who)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


def list_people() -> list[Person]:
    """Everyone with an account (people without a role too), active ones first."""
    users = (
        get_user_model()
        .objects.exclude(username=SERVICE_USERNAME)
        .select_related("profile")
        .order_by("-is_active", "email", "username")
    )
    people = []
    for user in users:
        profile: Profile | None = getattr(user, "profile", None)
        people.append(
            Person(
                user=user,
                email=user.email or user.username,
                name=user.get_full_name(),
                role=profile.role if profile else None,
                agent_id=profile.agent_id if profile else None,
                is_active=user.is_active,
                last_login=user.last_login,
            )
        )
    return people
