"""Login throttling: django-axes, told who the client is and what a lockout page says.

Failed sign-ins are counted twice: for the account from one address (default limit 5)
and for the address whatever the account (default 30, since an office may share one
address). Reaching either limit refuses every sign-in it covers, a correct password
included, until the lockout time (default 15 minutes) has passed since the last counted
failure. Limits come from DESKPULSE_LOGIN_* (web/frontdoor.py). An owner lifts a lockout
with `deskpulse user unlock` or the Unlock button on Settings → Users.

Times here are the real time, never the pinned product clock: a lockout is a security
mechanism, like a session's expiry.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from deskpulse.web.accounts.backends import usernames_for
from deskpulse.web.accounts.forms import SignInForm
from deskpulse.web.frontdoor import LoginLimits


def limits() -> LoginLimits:
    # Our own setting (web/conf.py), unknown to django-stubs.
    found: LoginLimits = settings.DESKPULSE_LOGIN_LIMITS  # type: ignore[misc]
    return found


# -- who is trying -------------------------------------------------------------------------------


def client_address(request: HttpRequest) -> str | None:
    """The address failures are counted against.

    REMOTE_ADDR, unless the TLS switch says a proxy stands in front
    (DESKPULSE_PUBLIC_URL=https://…): then the last X-Forwarded-For entry, the one that
    proxy appended. Entries before it come from the client and could be anything.
    """
    if getattr(settings, "DESKPULSE_TRUST_PROXY", False):
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops and _is_address(hops[-1]):
            return hops[-1]
    remote: object = request.META.get("REMOTE_ADDR")
    return remote if isinstance(remote, str) and _is_address(remote) else None


def _is_address(text: str) -> bool:
    # No IPv6 zone ("%eth0"): the attempts table (an inet column on PostgreSQL) refuses it.
    if "%" in text:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def account_key(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The account a sign-in names, so "Ana@Example.com" and "ana" count as one.

    An existing account is known by its username; any other text by itself in lower
    case, so guesses at accounts that do not exist are counted (and locked) alike and
    reveal nothing.
    """
    raw = credentials.get("username") if credentials else request.POST.get("username")
    text = str(raw or "").strip()
    if not text:
        return None
    users = get_user_model().objects
    for username in usernames_for(text):
        if users.filter(username=username).exists():
            return username
    return text.lower()


# -- counting ------------------------------------------------------------------------------------


def _failures(attempts: QuerySet[AccessAttempt]) -> int:
    total = attempts.aggregate(total=Sum("failures_since_start"))["total"]
    return int(total or 0)


class LoginThrottleHandler(AxesDatabaseHandler):  # type: ignore[misc]  # axes is untyped
    """axes' database handler with a limit per account and address and one per address.

    AXES_LOCKOUT_PARAMETERS lists the two counts in that order.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        by_account, by_address = (
            _failures(attempts) for attempts in self.get_user_attempts(request, credentials)
        )
        limit = limits()
        # axes compares one count with one limit (AXES_FAILURE_LIMIT, the per-account
        # one). The address's count is scaled so that it reaches that limit exactly when
        # it reaches its own: n * a // b >= a exactly when n >= b.
        return max(by_account, by_address * limit.per_account // limit.per_address)

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        # After a correct password: forget this account's failures from this address,
        # never the address's failures for other accounts (else signing in to one's own
        # account would reset the count of someone trying every account).
        by_account = self.filter_user_attempts(request, credentials)[0]
        count, _ = by_account.delete()
        return int(count)


# -- the lockout page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lockout:
    """What a locked-out person is told."""

    whole_address: bool
    address: str | None
    until: datetime

    @property
    def minutes(self) -> int:
        seconds = (self.until - timezone.now()).total_seconds()
        return max(1, math.ceil(seconds / 60))

    @property
    def seconds(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))


def current_lockout(request: HttpRequest, credentials: dict[str, Any] | None = None) -> Lockout:
    """Which limit holds this sign-in back, and until when at the latest."""
    limit = limits()
    since = timezone.now() - limit.lockout
    address = client_address(request)
    by_address = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since)
    whole_address = _failures(by_address) >= limit.per_address
    counted = (
        by_address
        if whole_address
        else by_address.filter(username=account_key(request, credentials))
    )
    last = counted.aggregate(last=Max("attempt_time"))["last"] or timezone.now()
    return Lockout(whole_address=whole_address, address=address, until=last + limit.lockout)


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The sign-in page with the lockout explained, as 429 Too Many Requests."""
    lockout = current_lockout(request, credentials)
    typed = str(request.POST.get("username", ""))[:254]
    context = {
        "form": SignInForm(request, initial={"username": typed}),
        "lockout": lockout,
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    response = render(request, "accounts/login.html", context, status=429)
    response["Retry-After"] = str(lockout.seconds)
    return response


# -- lifting lockouts ----------------------------------------------------------------------------


def locked_accounts(usernames: Iterable[str]) -> set[str]:
    """The usernames among these locked out from at least one address right now."""
    limit = limits()
    since = timezone.now() - limit.lockout
    rows = (
        AccessAttempt.objects.filter(username__in=list(usernames), attempt_time__gte=since)
        .values("username", "ip_address")
        .annotate(total=Sum("failures_since_start"))
    )
    return {row["username"] for row in rows if row["total"] >= limit.per_account}


def unlock_account(user: User) -> int:
    """Forget every failed sign-in for this account, from any address; returns how many
    addresses' records went."""
    return int(reset(username=user.get_username()))


def unlock_address(address: str) -> int:
    """Forget every failed sign-in from this address, for any account."""
    if not _is_address(address.strip()):
        raise ValueError(f"{address!r} is not an IP address")
    return int(reset(ip=address.strip()))
