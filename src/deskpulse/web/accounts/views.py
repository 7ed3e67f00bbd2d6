"""Sign-in, sign-out and the settings pages: users and teams (owners), API tokens (everyone).

Every change is a CSRF-protected POST. A page that shows a secret (a generated password,
a new token) renders it in the POST's own response, marked no-store, instead of keeping
it anywhere for a redirect to pick up: the plaintext lives only in that one response.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.contrib.auth.views import LoginView, LogoutView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from deskpulse.web.access import member_required, owner_required
from deskpulse.web.accounts.forms import AddPersonForm, EditPersonForm, SignInForm, TokenForm
from deskpulse.web.accounts.models import ApiToken, Role
from deskpulse.web.accounts.people import (
    PersonError,
    add_user,
    deactivate,
    get_person,
    list_people,
    reactivate,
    set_password,
    update_person,
)
from deskpulse.web.accounts.teams import TeamError, add_team, forget_team, name_team, team_rows
from deskpulse.web.accounts.throttle import locked_accounts, unlock_account
from deskpulse.web.accounts.tokens import SERVICE_USERNAME, TokenError, create_token, revoke_token
from deskpulse.web.api.viewer import is_owner, signed_in_user

logger = logging.getLogger("deskpulse.web.accounts")

FIELD_LABELS = {
    "email": "Email",
    "name": "Name",
    "role": "Role",
    "agent_id": "Agent id",
    "password": "Password",
    "active": "Active",
    "team_id": "Team id",
}


# -- sign-in and sign-out ----------------------------------------------------------------------


class SignInView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    # A signed-in person who follows a sign-in link goes straight on (to ?next= if safe).
    redirect_authenticated_user = True


class SignOutView(LogoutView):
    """POST only (Django's LogoutView refuses GET), then back to the sign-in page."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


# -- helpers -----------------------------------------------------------------------------------


def _known_agents() -> dict[str, dict[str, Any]]:
    """The agent directory from the events; empty if the store cannot be read right now.

    Managing people must keep working when the event store is busy or broken: the
    directory only feeds suggestions and counts.
    """
    from deskpulse.metrics.report import agent_directory
    from deskpulse.web.runtime import get_store

    try:
        return agent_directory(get_store())
    except Exception:
        logger.exception("cannot read the agent directory for the settings pages")
        return {}


def _secret_response(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    return response


def _label(field: str) -> str:
    return FIELD_LABELS.get(field, field.replace("_", " ").capitalize())


# -- users -------------------------------------------------------------------------------------


def _users_page(
    request: HttpRequest,
    *,
    form: AddPersonForm | None = None,
    secret: dict[str, str] | None = None,
    row_error: tuple[int, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    directory = _known_agents()
    people = list_people()
    linked = {person.agent_id for person in people if person.agent_id}
    agents = [
        {
            "agent_id": agent_id,
            "name": row.get("name") or agent_id,
            "kind": row.get("kind") or "human",
            "linked": agent_id in linked,
        }
        for agent_id, row in sorted(directory.items())
    ]
    context = {
        "nav": "settings",
        "tab": "users",
        "people": people,
        "form": form or AddPersonForm(),
        "roles": [(role.value, role.label) for role in Role],
        "known_agents": agents,
        "unknown_agent_ids": {
            person.agent_id
            for person in people
            if person.agent_id and directory and person.agent_id not in directory
        },
        "secret": secret,
        "row_error": row_error,
        "locked": locked_accounts(person.user.get_username() for person in people),
    }
    return render(request, "accounts/users.html", context, status=status)


def _warn_unknown_agent(request: HttpRequest, agent_id: str | None) -> None:
    if not agent_id:
        return
    directory = _known_agents()
    if directory and agent_id.strip() not in directory:
        messages.warning(
            request,
            f"No agent {agent_id.strip()!r} in the events yet; their numbers appear once "
            "the helpdesk sends an agent.upserted with that id.",
        )


@owner_required
@require_http_methods(["GET", "POST"])
def users_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _users_page(request)
    form = AddPersonForm(request.POST)
    if not form.is_valid():
        return _users_page(request, form=form, status=400)
    data = form.cleaned_data
    try:
        user, generated = add_user(
            email=data["email"],
            role=data["role"],
            agent_id=data["agent_id"] or None,
            name=data["name"],
            password=data["password"] or None,
        )
    except PersonError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return _users_page(request, form=form, status=400)
    messages.success(request, f"Added {user.email} as {Role(data['role']).label.lower()}.")
    _warn_unknown_agent(request, data["agent_id"])
    if generated is None:
        return HttpResponseRedirect(reverse("settings_users"))
    return _secret_response(
        _users_page(request, secret={"email": user.email, "password": generated})
    )


def _person_or_404(pk: int) -> User:
    user = get_person(pk)
    if user is None:
        raise Http404("no such person")
    return user


@owner_required
@require_POST
def user_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = _person_or_404(pk)
    form = EditPersonForm(request.POST)
    if not form.is_valid():
        field, problems = next(iter(form.errors.items()))
        return _users_page(request, row_error=(pk, f"{_label(field)}: {problems[0]}"), status=400)
    try:
        update_person(
            user, role=form.cleaned_data["role"], agent_id=form.cleaned_data["agent_id"] or None
        )
    except PersonError as error:
        return _users_page(
            request, row_error=(pk, f"{_label(error.field)}: {error.message}"), status=400
        )
    messages.success(request, f"Saved {user.email or user.username}.")
    _warn_unknown_agent(request, form.cleaned_data["agent_id"])
    if user.pk == request.user.pk and form.cleaned_data["role"] != Role.OWNER:
        # An owner who stepped down may no longer open this page.
        return HttpResponseRedirect(reverse("settings_tokens"))
    return HttpResponseRedirect(reverse("settings_users"))


@owner_required
@require_POST
def user_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = _person_or_404(pk)
    label = user.email or user.username
    try:
        if request.POST.get("active") == "1":
            reactivate(user)
            messages.success(request, f"{label} can sign in again.")
        else:
            deactivate(user)
            messages.success(
                request, f"{label} is deactivated: no sign-in, and their API tokens stop working."
            )
    except PersonError as error:
        return _users_page(
            request, row_error=(pk, f"{_label(error.field)}: {error.message}"), status=400
        )
    return HttpResponseRedirect(reverse("settings_users"))


@owner_required
@require_POST
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = _person_or_404(pk)
    generated = set_password(user)
    assert generated is not None
    messages.success(request, f"New password set for {user.email or user.username}.")
    return _secret_response(
        _users_page(request, secret={"email": user.email or user.username, "password": generated})
    )


@owner_required
@require_POST
def user_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    user = _person_or_404(pk)
    unlock_account(user)
    messages.success(
        request,
        f"{user.email or user.username} can sign in again: their failed sign-ins are forgotten.",
    )
    return HttpResponseRedirect(reverse("settings_users"))


# -- teams -------------------------------------------------------------------------------------


@owner_required
@require_http_methods(["GET", "POST"])
def teams_page(request: HttpRequest) -> HttpResponse:
    error: tuple[str, str, str] | None = None  # (action, team id, message)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        team_id = request.POST.get("team_id", "")
        name = request.POST.get("name", "")
        try:
            if action == "add":
                team = add_team(team_id, name)
                messages.success(request, f"Added team {team.name} ({team.team_id}).")
            elif action == "rename":
                team = name_team(team_id, name)
                messages.success(request, f"{team.team_id} is now called {team.name}.")
            elif action == "forget":
                forget_team(team_id)
                messages.success(request, f"{team_id.strip()} shows by its id again.")
            else:
                return HttpResponse("unknown action", status=400)
        except TeamError as refused:
            error = (action, team_id, f"{_label(refused.field)}: {refused.message}")
            status = 400
        else:
            return HttpResponseRedirect(reverse("settings_teams"))
    context = {
        "nav": "settings",
        "tab": "teams",
        "teams": team_rows(_known_agents()),
        "error": error,
        "posted": request.POST if error else {},
    }
    return render(request, "accounts/teams.html", context, status=status)


# -- API tokens --------------------------------------------------------------------------------


def _allowed_scopes(request: HttpRequest) -> tuple[str, ...]:
    # Only owners may push events: ingest writes data the whole team's numbers rest on.
    # A write token acts as its owner does on the pages: an agent's changes only their
    # own coaching plans, so any role may have one.
    return ("read", "write", "ingest") if is_owner(request.user) else ("read", "write")


def _tokens_page(
    request: HttpRequest,
    *,
    form: TokenForm | None = None,
    created: tuple[ApiToken, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    me = signed_in_user(request)
    mine = list(ApiToken.objects.filter(user=me).order_by("-created_at", "-id"))
    others: list[ApiToken] = []
    if is_owner(request.user):
        others = list(
            ApiToken.objects.exclude(user=me)
            .select_related("user")
            .order_by("revoked_at", "-created_at", "-id")
        )
    context = {
        "nav": "settings",
        "tab": "tokens",
        "owner_view": is_owner(request.user),
        "mine": mine,
        "others": others,
        "service_username": SERVICE_USERNAME,
        "form": form or TokenForm(allowed=_allowed_scopes(request)),
        "created": created,
    }
    return render(request, "accounts/tokens.html", context, status=status)


@member_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _tokens_page(request)
    form = TokenForm(request.POST, allowed=_allowed_scopes(request))
    if not form.is_valid():
        return _tokens_page(request, form=form, status=400)
    try:
        token, plaintext = create_token(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            user=signed_in_user(request),
        )
    except TokenError as error:
        form.add_error("name", str(error))
        return _tokens_page(request, form=form, status=400)
    return _secret_response(
        _tokens_page(
            request,
            form=TokenForm(allowed=_allowed_scopes(request)),
            created=(token, plaintext),
        )
    )


def _token_for_user(request: HttpRequest, pk: int) -> ApiToken:
    """A token the signed-in person may manage: their own, or any one for owners.

    Anyone else's token answers 404, so token ids reveal nothing.
    """
    tokens = ApiToken.objects.select_related("user")
    if not is_owner(request.user):
        tokens = tokens.filter(user=signed_in_user(request))
    token = tokens.filter(pk=pk).first()
    if token is None:
        raise Http404("no such token")
    return token


@member_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = _token_for_user(request, pk)
    already = token.is_revoked
    revoke_token(token.prefix)
    if already:
        messages.info(request, f"Token {token.name} (dp_{token.prefix}_…) was already revoked.")
    else:
        messages.success(
            request,
            f"Revoked {token.name} (dp_{token.prefix}_…): requests with it now get 401.",
        )
    return HttpResponseRedirect(reverse("settings_tokens"))
