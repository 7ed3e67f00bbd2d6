"""The CLI's way in to a running `deskpulse serve`.

While a server owns a DuckDB data folder (data_folder.py) no other process may open its
store, so the read commands ask the server's JSON API instead, with the token the server
wrote into server.json for the CLI of this machine, and `import` sends its events to the
server's ingest. Each such command has one data function, which returns exactly the JSON
the API answers, read from the store when no server runs (`as_served`) or from the API
when one does, and one renderer that prints from that JSON: local and remote output
cannot drift apart.

Errors come back in the API's one shape and leave here as the CLI's one-line errors,
naming the option a person typed (`--as-of`) rather than the API's parameter (`as_of`).
"""

from __future__ import annotations

import gzip
import http.client
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from deskpulse.cli.context import fail

if TYPE_CHECKING:
    from deskpulse.data_folder import RunningServer
    from deskpulse.metrics.window import Window
    from deskpulse.settings import Settings

# The API's parameter -> the option a CLI user typed, so errors name what to fix.
OPTIONS = {
    "period": "--period",
    "as_of": "--as-of",
    "from": "--from",
    "start": "--from",
    "to": "--to",
    "end": "--to",
    "team": "--team",
    "channel": "--channel",
    "inquiry": "--inquiry",
    "agent": "--agent",
    "limit": "--limit",
    "rule": "--rule",
}

# Reads wait for the server's own query time limit (it answers 504 past it); an import
# request also waits for the facts refresh that follows each batch.
READ_TIMEOUT_SECONDS = 600.0
INGEST_TIMEOUT_SECONDS = 1800.0

Params = Mapping[str, str | int | None]


class RemoteError(Exception):
    """A request the server refused or never answered; `message` is one line for a person."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def client_for(settings: Settings) -> ServerClient | None:
    """A client of the server that holds the data folder, or None when none runs."""
    from deskpulse.data_folder import running_server

    server = running_server(settings)
    return None if server is None else ServerClient(server)


def moment_param(moment: datetime | None) -> str | None:
    """A moment the CLI has already read, sent as the exact instant it stands for.

    The CLI reads `--as-of`, `--from` and `--to` itself, so a date means the same thing
    whether the store is local or behind the server.
    """
    return None if moment is None else moment.isoformat()


def window_params(window: Window) -> dict[str, str | None]:
    """A period read by the CLI as the API's parameters, in the order the API's links
    carry them (period, from, to, as_of); from and to belong to a custom period only."""
    custom = window.period == "custom"
    return {
        "period": window.period,
        "from": moment_param(window.start) if custom else None,
        "to": moment_param(window.end) if custom else None,
        "as_of": moment_param(window.as_of),
    }


def as_served(body: Any) -> Any:
    """`body` exactly as the API would send it: JSON types only, encoded the way the API
    encodes them, so a local answer and the server's are equal value for value.

    django-ninja's encoder is Django's plus pydantic models, enums and URLs, none of which
    an answer holds; ninja itself cannot be imported before Django is configured.
    """
    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def write_json(data: Any) -> None:
    """The `--format json` output of every command that reads through the server."""
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


class ServerClient:
    """Requests to one running server with the token it made for this machine's CLI."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server

    # -- reads: a failure is the command's one-line error ----------------------------

    def get_json(
        self, path: str, params: Params | None = None, *, missing: str | None = None
    ) -> Any:
        """The JSON answer to GET `path`; `missing` is the error line for a 404."""
        return json.loads(self._read("GET", path, params, missing))

    def get_text(
        self, path: str, params: Params | None = None, *, missing: str | None = None
    ) -> str:
        return self._read("GET", path, params, missing).decode("utf-8")

    def post_json(self, path: str, params: Params | None = None) -> Any:
        """POST `path` with no body (the parameters say what to do); its JSON answer."""
        return json.loads(self._read("POST", path, params, None))

    def _read(self, method: str, path: str, params: Params | None, missing: str | None) -> bytes:
        try:
            return self._send(method, path, params, None, {}, READ_TIMEOUT_SECONDS)
        except RemoteError as error:
            if error.status == 404 and missing is not None:
                raise fail(missing) from None
            raise fail(error.message) from None

    # -- ingest: the caller reports what was accepted before a failure ---------------

    def post_events(self, lines: list[str]) -> dict[str, Any]:
        """Send events (JSON texts, one per line) as gzip'd JSON Lines; the server's
        {"accepted", "duplicates", "rejected"}. Raises RemoteError."""
        body = gzip.compress("\n".join(lines).encode("utf-8"), compresslevel=5)
        headers = {"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}
        answer = self._send("POST", "/api/v1/events", None, body, headers, INGEST_TIMEOUT_SECONDS)
        found: dict[str, Any] = json.loads(answer)
        return found

    # -- the wire --------------------------------------------------------------------

    def url(self, path: str, params: Params | None = None) -> str:
        kept = {name: value for name, value in (params or {}).items() if value is not None}
        query = f"?{urllib.parse.urlencode(kept)}" if kept else ""
        return f"{self.server.url}{path}{query}"

    def _send(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float,
    ) -> bytes:
        request = urllib.request.Request(
            self.url(path, params),
            data=body,
            method=method,
            headers={
                **headers,
                "Authorization": f"Bearer {self.server.token}",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer: bytes = response.read()
                return answer
        except urllib.error.HTTPError as error:
            raise RemoteError(refusal(error.code, error.read()), status=error.code) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            raise RemoteError(self._silence(error)) from None

    def _silence(self, error: BaseException) -> str:
        reason: Any = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            what = "gave no answer in time"
        elif isinstance(reason, ConnectionRefusedError):
            what = "refused the connection"
        else:
            what = f"does not answer ({reason or type(error).__name__})"
        return (
            f"{self.server.describe()} holds this data folder but {what}: is it still "
            "running? (stop it to use the folder directly)"
        )


def refusal(status: int, body: bytes) -> str:
    """The one line for an error answer: the API's message, naming the CLI's option."""
    try:
        error = json.loads(body)["error"]
        message = str(error["message"])
        field = error.get("field")
    except (ValueError, KeyError, TypeError):
        return f"the server answered {status} without an explanation"
    if status in (401, 403) and field is None:
        return f"the server refused this machine's CLI ({status}: {message})"
    if status >= 500:
        return f"the server failed ({status}): {message}"
    option = OPTIONS.get(str(field)) if field is not None else None
    if option is None:
        return message
    return f"{option}: {message.removeprefix(f'{field}: ')}"
