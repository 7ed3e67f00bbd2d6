"""Sign-in by email (any case) or username, as one authentication.

The sign-in form makes exactly one `authenticate()` call per submission, so a wrong
password counts as one failure for login throttling however many accounts the text
could name.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest


def usernames_for(identifier: str) -> list[str]:
    """Usernames to try: the accounts with this email, then the text as a username."""
    found: list[str] = []
    if "@" in identifier:
        found = list(
            get_user_model()
            .objects.filter(email__iexact=identifier)
            .order_by("pk")
            .values_list("username", flat=True)[:3]
        )
    if identifier not in found:
        found.append(identifier)
    return found


class EmailOrUsernameBackend(ModelBackend):
    """Django's model backend, trying each account an email or username may name."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None or password is None:
            return None
        identifier = username.strip()
        for candidate in usernames_for(identifier):
            user = super().authenticate(request, username=candidate, password=password, **kwargs)
            if user is not None:
                return user
        return None
