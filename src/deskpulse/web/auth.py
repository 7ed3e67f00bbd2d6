"""Bearer-token authentication with scopes, and who a token may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from deskpulse.web.accounts.models import ApiToken, Profile
from deskpulse.web.accounts.tokens import TokenRejectedError, authenticate_token
from deskpulse.web.errors import ApiError

if TYPE_CHECKING:
    from deskpulse.metrics.query import Viewer

_REALM = 'Bearer realm="deskpulse"'


class TokenAuth(HttpBearer):
    """`Authorization: Bearer dp_…` carrying `scope`; sets request.auth to the ApiToken.

    Failures raise ApiError instead of returning None so each gets its own status and
    code (ninja would collapse them all into one 401).
    """

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> ApiToken:
        header = request.headers.get("Authorization", "").strip()
        if not header:
            raise ApiError(
                401,
                "missing_token",
                "authentication required: send Authorization: Bearer <token>",
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


def token_of(request: HttpRequest) -> ApiToken:
    token: Any = getattr(request, "auth", None)
    if not isinstance(token, ApiToken):  # only reachable if a route forgot its auth
        raise ApiError(401, "missing_token", "authentication required")
    return token


def viewer_for(token: ApiToken) -> Viewer:
    """What the token's user may see: the whole team (owner, admin) or one agent."""
    from deskpulse.metrics.query import Viewer

    profile = Profile.objects.filter(user_id=token.user_id).first()
    if profile is None:
        raise ApiError(403, "no_profile", "this token's user has no role on the team; ask an owner")
    if profile.sees_whole_team:
        return Viewer(agent_id=None)
    if not profile.agent_id:
        # Never fall back to team-wide: an agent sees their own numbers or nothing.
        raise ApiError(403, "no_agent_id", "this agent is not linked to an agent id yet")
    return Viewer(agent_id=profile.agent_id)
