"""Who may call /api/v1: one rule for every endpoint, sessions and tokens alike.

1. A request that sends an Authorization header is judged by its token alone, even from
   a signed-in browser: the header must read `Bearer <token>` (else 401
   malformed_authorization), the token must exist and be live (401 invalid_token,
   revoked_token) and carry the scope the endpoint needs (403 insufficient_scope).
2. Otherwise a signed-in session works on every endpoint. A request that changes
   something (POST, PUT, PATCH, DELETE) must carry Django's CSRF token, the csrftoken
   cookie's value in an X-CSRFToken header, as forms do (403 csrf_failed).
3. Otherwise: 401 missing_token.

Scopes: `read` to read (every GET, and POST /query, which only reads), `write` to change
(coaching plans, experiments, alert rules and checks, topic decisions), `ingest` to send
events. A session needs no scope.

Either way the person's role decides next, the same for both: a token acts for its user
(tokens made without one act for the install's service owner). Owners and admins see
the whole team, an agent sees their own numbers (another agent's objects answer 404), an
account without a role gets 403 no_profile, endpoints for owners and admins answer an
agent 403 admins_only, and sending events from a session is for owners and admins.

Every router takes its `auth=` from READ, WRITE or INGEST here; the public endpoints
(health, the event schema, the OpenAPI document, connector webhooks signed by their
URL's secret) have none.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security.base import AuthBase
from ninja.security.http import HttpBearer
from ninja.utils import check_csrf

from deskpulse.metrics.query import Viewer
from deskpulse.web.accounts.models import ApiToken
from deskpulse.web.accounts.tokens import TokenRejectedError, authenticate_token
from deskpulse.web.api.errors import ApiError
from deskpulse.web.api.viewer import NoRoleError, profile_of, viewer_for_user

_REALM = 'Bearer realm="deskpulse"'
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_MESSAGE = (
    "a signed-in request that changes something needs the CSRF token: send the csrftoken "
    "cookie's value in an X-CSRFToken header (or use a bearer token)"
)


class SessionAuth(AuthBase):
    """A signed-in session (rule 2); None hands the request to the bearer token."""

    openapi_type = "apiKey"
    openapi_in = "cookie"
    openapi_name = "sessionid"
    openapi_description = (
        "A signed-in browser session. Requests that change something also send the "
        "csrftoken cookie's value in an X-CSRFToken header."
    )

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> Any:
        if "Authorization" in request.headers:
            return None  # rule 1: judged by the token alone
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise ApiError(403, "csrf_failed", CSRF_MESSAGE)
        if self.scope == "ingest":
            _require_whole_team(user, "sending events from a session is for owners and admins")
        return user


class TokenAuth(HttpBearer):
    """`Authorization: Bearer dp_…` carrying `scope` (rule 1); request.auth is the token.

    Failures raise ApiError instead of returning None so each gets its own status and
    code (ninja would collapse them all into one 401).
    """

    openapi_description = "A token from `deskpulse token create` or Settings → API tokens."

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> ApiToken:
        header = request.headers.get("Authorization", "").strip()
        if not header:
            raise ApiError(
                401,
                "missing_token",
                "authentication required: sign in, or send Authorization: Bearer <token>",
                headers={"WWW-Authenticate": _REALM},
            )
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip() or " " in value.strip():
            raise ApiError(
                401,
                "malformed_authorization",
                "the Authorization header must read: Bearer <token>",
                headers={"WWW-Authenticate": f'{_REALM}, error="invalid_request"'},
            )
        return self.authenticate(request, value.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        try:
            api_token = authenticate_token(token)
        except TokenRejectedError as rejected:
            raise ApiError(
                401,
                rejected.code,
                rejected.message,
                headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'},
            ) from None
        if not api_token.has_scope(self.scope):
            raise ApiError(
                403,
                "insufficient_scope",
                f"this token lacks the {self.scope!r} scope",
                headers={
                    "WWW-Authenticate": (
                        f'{_REALM}, error="insufficient_scope", scope="{self.scope}"'
                    )
                },
            )
        return api_token


def session_or_token(scope: str) -> list[AuthBase]:
    """The `auth=` of an endpoint that needs `scope`: the session first, then the token."""
    return [SessionAuth(scope), TokenAuth(scope)]


READ = session_or_token("read")
WRITE = session_or_token("write")
INGEST = session_or_token("ingest")


def user_of(request: HttpRequest) -> Any:
    """The person asking: the session's user, or the token's."""
    auth: Any = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        return auth.user
    if auth is None:  # only reachable if a route forgot its auth
        raise ApiError(401, "missing_token", "authentication required")
    return auth


def viewer_of(request: HttpRequest) -> Viewer:
    """What the person asking may see: the whole team (owner, admin) or one agent."""
    try:
        return viewer_for_user(user_of(request))
    except NoRoleError as error:
        raise ApiError(403, error.code, error.message) from None


def token_source(request: HttpRequest) -> str:
    """Where events sent by this request come from, for the rejected-events list."""
    auth: Any = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        return f"api:{auth.prefix}"
    return f"api:session:{getattr(user_of(request), 'pk', '?')}"


def _require_whole_team(user: Any, message: str) -> None:
    profile = profile_of(user)
    if profile is None:
        raise ApiError(403, "no_profile", "this account has no role on the team; ask an owner")
    if not profile.sees_whole_team:
        raise ApiError(403, "admins_only", message)
