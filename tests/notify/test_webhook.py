"""The webhook against a real HTTP receiver on 127.0.0.1 (ThreadingHTTPServer in a thread):
what arrives, that its signature verifies, retries with backoff, and what is not retried.
`sleep` is injected, so the backoff is recorded instead of waited."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deskpulse.analysis.alerts import (
    FixedBaseline,
    Observation,
    Rule,
    alert_message,
    evaluate,
    next_state,
)
from deskpulse.notify.webhook import send_webhook, sign, verify_signature

SECRET = "s3cret-shared-with-the-receiver"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next scripted (status, headers); 200 when the script is
    used up. Records every request."""

    url: str
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state.received.append(Received(self.path, dict(self.headers.items()), body))
                status, headers = state.script.pop(0) if state.script else (200, {})
            reply = b"ok" if status < 400 else f"error {status}".encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/deskpulse"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def slack_payload() -> dict[str, object]:
    rule = Rule(
        id="esc",
        metric="escalation_rate",
        direction="lower_is_better",
        baseline=FixedBaseline(0.12),
        segment={"channel": "chat"},
        pending_for=0,
    )
    e = evaluate(rule, Observation(current=0.18, n=240))
    t = next_state(None, e, datetime(2025, 3, 3, 9, tzinfo=UTC))
    return alert_message(rule, e, t, dashboard_url="https://dp.example/alerts")


def test_delivers_signed_slack_json(receiver: Receiver) -> None:
    payload = slack_payload()
    result = send_webhook(receiver.url, payload, SECRET, delivery_id="esc:channel=chat:1/firing")
    assert result.ok
    assert result.attempts == 1
    assert result.status == 200
    assert result.error is None
    assert result.delivery_id == "esc:channel=chat:1/firing"
    (got,) = receiver.received
    assert got.path == "/hooks/deskpulse"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Deskpulse-Delivery"] == "esc:channel=chat:1/firing"
    body = json.loads(got.body)
    assert body == payload
    assert isinstance(body["text"], str)
    assert body["blocks"][0]["type"] == "section"
    assert body["blocks"][0]["text"]["type"] == "mrkdwn"
    timestamp = got.headers["X-Deskpulse-Timestamp"]
    signature = got.headers["X-Deskpulse-Signature"]
    assert signature.startswith("sha256=")
    assert len(signature) == len("sha256=") + 64
    assert verify_signature(SECRET, timestamp, got.body, signature)
    # Any change to body, timestamp or secret fails the check.
    assert not verify_signature(SECRET, timestamp, got.body + b" ", signature)
    assert not verify_signature(SECRET, int(timestamp) - 1, got.body, signature)
    assert not verify_signature("other", timestamp, got.body, signature)


def test_retries_500_twice_then_succeeds_with_constant_delivery_id(receiver: Receiver) -> None:
    receiver.script = [(500, {}), (503, {})]
    slept: list[float] = []
    result = send_webhook(receiver.url, {"text": "hi"}, SECRET, sleep=slept.append)
    assert result.ok
    assert result.attempts == 3
    assert result.status == 200
    assert slept == [0.5, 1.0]  # backoff x 2^k
    ids = {r.headers["X-Deskpulse-Delivery"] for r in receiver.received}
    assert len(receiver.received) == 3
    assert ids == {result.delivery_id}
    bodies = {r.body for r in receiver.received}
    assert len(bodies) == 1
    for r in receiver.received:  # every attempt is signed on its own
        assert verify_signature(
            SECRET, r.headers["X-Deskpulse-Timestamp"], r.body, r.headers["X-Deskpulse-Signature"]
        )


def test_400_is_not_retried(receiver: Receiver) -> None:
    receiver.script = [(400, {})]
    slept: list[float] = []
    result = send_webhook(receiver.url, {"text": "hi"}, SECRET, sleep=slept.append)
    assert not result.ok
    assert result.attempts == 1
    assert result.status == 400
    assert result.error is not None
    assert "400" in result.error
    assert "error 400" in result.error
    assert slept == []
    assert len(receiver.received) == 1


def test_429_honours_retry_after_up_to_cap(receiver: Receiver) -> None:
    receiver.script = [(429, {"Retry-After": "3"}), (429, {"Retry-After": "600"})]
    slept: list[float] = []
    result = send_webhook(
        receiver.url, {"text": "hi"}, SECRET, sleep=slept.append, max_retry_after=30
    )
    assert result.ok
    assert result.attempts == 3
    assert slept == [3.0, 30.0]


def test_redirect_is_an_error_not_a_silent_get(receiver: Receiver) -> None:
    receiver.script = [(302, {"Location": "/elsewhere"})]
    result = send_webhook(receiver.url, {"text": "hi"}, SECRET, sleep=lambda _: None)
    assert not result.ok
    assert result.status == 302
    assert result.attempts == 1
    assert len(receiver.received) == 1


def test_gives_up_after_all_attempts_on_5xx(receiver: Receiver) -> None:
    receiver.script = [(502, {})] * 4
    slept: list[float] = []
    result = send_webhook(receiver.url, {"text": "hi"}, SECRET, sleep=slept.append)
    assert not result.ok
    assert result.attempts == 4
    assert result.status == 502
    assert slept == [0.5, 1.0, 2.0]  # no sleep after the last attempt


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_uses_all_attempts() -> None:
    slept: list[float] = []
    url = f"http://127.0.0.1:{free_port()}/hook"
    result = send_webhook(url, {"text": "hi"}, SECRET, attempts=3, sleep=slept.append)
    assert not result.ok
    assert result.attempts == 3
    assert result.status is None
    assert result.error is not None
    assert "refused" in result.error.lower()
    assert slept == [0.5, 1.0]


def test_timeout_is_retried() -> None:
    # A server that accepts the connection and never answers.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
        result = send_webhook(
            url, {"text": "hi"}, SECRET, attempts=2, timeout=0.2, sleep=lambda _: None
        )
    assert not result.ok
    assert result.attempts == 2
    assert result.status is None
    assert result.error is not None
    assert "timed out" in result.error


@pytest.mark.parametrize(
    ("url", "payload", "secret", "field"),
    [
        ("file:///etc/passwd", {}, SECRET, "url"),
        ("https://", {}, SECRET, "url"),
        ("https://example.com", {}, "", "secret"),
        ("https://example.com", {"x": float("nan")}, SECRET, "payload"),
        ("https://example.com", {"x": object()}, SECRET, "payload"),
    ],
)
def test_bad_input_raises_naming_the_field(
    url: str, payload: dict[str, object], secret: str, field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        send_webhook(url, payload, secret)


def test_delivery_id_cannot_inject_headers() -> None:
    with pytest.raises(ValueError, match="delivery_id"):
        send_webhook("https://example.com", {}, SECRET, delivery_id="a\r\nX-Evil: 1")


def test_verify_signature_tolerance_and_malformed() -> None:
    body = b'{"text":"hi"}'
    header = sign(SECRET, 1_700_000_000, body)
    assert verify_signature(SECRET, "1700000000", body, header, now=1_700_000_299)
    assert not verify_signature(SECRET, "1700000000", body, header, now=1_700_000_301)
    assert not verify_signature(SECRET, "1700000000", body, header, now=1_699_999_699)
    assert verify_signature(SECRET, "1700000000", body.decode(), header, now=1_700_000_000)
    assert not verify_signature(SECRET, "yesterday", body, header, now=1_700_000_000)
    assert not verify_signature(SECRET, "1700000000", body, header[7:], now=1_700_000_000)
    assert not verify_signature(SECRET, "1700000000", body, "sha256=é", now=1_700_000_000)
    with pytest.raises(ValueError, match="secret"):
        verify_signature("", "1700000000", body, header)
