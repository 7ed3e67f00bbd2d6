"""Reading request bodies under size limits: gzip, JSON arrays and JSON Lines."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from django.http import HttpRequest

from deskpulse.web.api.errors import ApiError

JSON_TYPES = frozenset({"application/json"})
JSON_LINES_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/jsonl",
        "application/json-lines",
        "application/x-jsonlines",
    }
)
READ_CHUNK = 256 * 1024
_BOM = b"\xef\xbb\xbf"

BodyFormat = Literal["array", "lines"]


def media_type(request: HttpRequest) -> str:
    return str(request.META.get("CONTENT_TYPE", "")).split(";", 1)[0].strip().lower()


def events_format(request: HttpRequest) -> BodyFormat:
    found = media_type(request)
    if found in JSON_TYPES:
        return "array"
    if found in JSON_LINES_TYPES:
        return "lines"
    raise ApiError(
        415,
        "unsupported_media_type",
        "send events as application/json (an array) or application/x-ndjson (JSON Lines), "
        f"not {found or 'a body without Content-Type'}",
    )


def require_json(request: HttpRequest) -> None:
    found = media_type(request)
    if found not in JSON_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send application/json, not {found or 'a body without Content-Type'}",
        )


def _too_large(limit: int, what: str = "the request body") -> ApiError:
    return ApiError(413, "payload_too_large", f"{what} is larger than {limit:,} bytes")


def read_body(request: HttpRequest, limit: int) -> bytes:
    """The body, decompressed, refusing more than `limit` bytes before or after gzip."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in {"", "identity", "gzip", "x-gzip"}:
        raise ApiError(
            415,
            "unsupported_encoding",
            f"Content-Encoding {encoding!r} is not supported; send gzip or no encoding",
        )
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        if int(declared) > limit:
            raise _too_large(limit)
    except ValueError:
        raise ApiError(400, "bad_request", "the Content-Length header is not a number") from None
    stream: Any = request
    if not request.META.get("CONTENT_LENGTH") and request.META.get("wsgi.input_terminated"):
        # A chunked upload has no Content-Length, and Django reads nothing past the
        # length it was told. gunicorn de-chunks the body and marks its stream as ending
        # by itself (wsgi.input_terminated), so read that stream directly.
        stream = request.META["wsgi.input"]
    # Read in chunks so a body that is bigger than it claimed stops at the limit.
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if encoding in {"gzip", "x-gzip"}:
        return gunzip(raw, limit)
    return raw


def gunzip(data: bytes, limit: int) -> bytes:
    """Decompress gzip (several members allowed), never producing more than `limit` bytes.

    A few kilobytes of gzip can expand to gigabytes; decompressing with a cap on the
    output stops such a body at the limit instead of after it has filled the memory.
    """
    out = bytearray()
    remaining = data
    try:
        while True:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pending = remaining
            while not inflater.eof:
                # max_length is at least 1 here: 0 would mean "no limit".
                piece = inflater.decompress(pending, limit + 1 - len(out))
                out += piece
                if len(out) > limit:
                    raise _too_large(limit, "the decompressed request body")
                pending = inflater.unconsumed_tail
                if not piece and not pending:
                    break
            if not inflater.eof:
                raise ApiError(400, "malformed_gzip", "the gzip body is truncated")
            remaining = inflater.unused_data
            if not remaining.strip(b"\x00"):
                return bytes(out)
    except zlib.error as error:
        raise ApiError(400, "malformed_gzip", f"the body is not valid gzip ({error})") from None


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body.removeprefix(_BOM))
    except orjson.JSONDecodeError as error:
        raise ApiError(
            400, "malformed_json", f"the request body is not valid JSON: {error}"
        ) from None


def _too_many(count: int, limit: int) -> ApiError:
    return ApiError(
        413,
        "too_many_events",
        f"{count:,} events in one request; send at most {limit:,} per request",
    )


def parse_event_array(body: bytes, max_events: int) -> list[Any]:
    value = parse_json(body)
    if not isinstance(value, list):
        raise ApiError(
            400,
            "expected_array",
            "the body must be a JSON array of events (send one object per line as "
            "application/x-ndjson for JSON Lines)",
        )
    if len(value) > max_events:
        raise _too_many(len(value), max_events)
    return value


@dataclass
class JsonLines:
    """Decoded lines; a line that is not JSON keeps its text and the parser's reason."""

    values: list[Any] = field(default_factory=list)
    malformed: dict[int, str] = field(default_factory=dict)


def parse_event_lines(body: bytes, max_events: int) -> JsonLines:
    """One value per non-blank line; indexes count events, so blank lines do not shift them."""
    lines = [line for line in body.removeprefix(_BOM).split(b"\n") if line.strip()]
    if len(lines) > max_events:
        raise _too_many(len(lines), max_events)
    parsed = JsonLines()
    for index, line in enumerate(lines):
        try:
            parsed.values.append(orjson.loads(line))
        except orjson.JSONDecodeError as error:
            parsed.values.append(line.decode("utf-8", errors="replace").rstrip("\r"))
            parsed.malformed[index] = f"line is not valid JSON: {error}"
    return parsed
