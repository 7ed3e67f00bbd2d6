"""Alert e-mail against a real local SMTP server (aiosmtpd on 127.0.0.1): what arrives,
transient (4xx) replies retried, permanent (5xx) ones not, accepted recipients never sent
twice, and bad input refused with the field named. `sleep` is injected."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from deskpulse.notify import DeliveryResult
from deskpulse.notify.email import EmailInputError, send_email


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Handler:
    """Collects delivered messages. `data_replies` / `rcpt_replies[address]` are scripted
    replies used up one per command before the server starts accepting."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    data_commands: int = 0

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        script = self.rcpt_replies.get(address)
        if script:
            return script.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.data_commands += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


@dataclass
class Server:
    handler: Handler
    port: int


@pytest.fixture
def smtp() -> Iterator[Server]:
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield Server(handler, controller.port)
    finally:
        controller.stop()


def send(
    server: Server, recipients: list[str], slept: list[float] | None = None, **kw: Any
) -> DeliveryResult:
    return send_email(
        "127.0.0.1",
        server.port,
        "alerts@deskpulse.example",
        recipients,
        kw.pop("subject", "[deskpulse critical] Alert firing: Escalation rate (channel = chat)"),
        kw.pop("text", "Current: 18.0% (n=240)\nBaseline: 12.0%\n"),
        sleep=(slept if slept is not None else []).append,
        **kw,
    )


def test_delivers_subject_body_and_recipients(smtp: Server) -> None:
    result = send(smtp, ["lead@example.com", "ops@example.com"], delivery_id="esc:all:1/firing")
    assert result.ok
    assert result.attempts == 1
    assert result.status == 250
    assert result.error is None
    ((mail_from, rcpt_tos, message),) = smtp.handler.messages
    assert mail_from == "alerts@deskpulse.example"
    assert rcpt_tos == ["lead@example.com", "ops@example.com"]
    assert message["Subject"] == (
        "[deskpulse critical] Alert firing: Escalation rate (channel = chat)"
    )
    assert message["From"] == "alerts@deskpulse.example"
    assert message["To"] == "lead@example.com, ops@example.com"
    assert message["X-Deskpulse-Delivery"] == "esc:all:1/firing"
    assert message["Message-ID"]
    assert message["Date"]
    body = message.get_body(("plain",))
    assert body is not None
    # On the wire lines end in CRLF.
    assert body.get_content().splitlines() == ["Current: 18.0% (n=240)", "Baseline: 12.0%"]


def test_html_goes_as_an_alternative_after_the_plain_text(smtp: Server) -> None:
    result = send(smtp, ["lead@example.com"], text="Week: 12 (n=12)\n", html="<p>Week: 12</p>")
    assert result.ok
    ((_, _, message),) = smtp.handler.messages
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    html = message.get_body(("html",))
    assert html is not None
    assert "<p>Week: 12</p>" in html.get_content()
    plain = message.get_body(("plain",))
    assert plain is not None
    assert plain.get_content().strip() == "Week: 12 (n=12)"


def test_transient_451_is_retried_then_delivered(smtp: Server) -> None:
    smtp.handler.data_replies = ["451 4.3.0 Try again later"]
    slept: list[float] = []
    result = send(smtp, ["lead@example.com"], slept)
    assert result.ok
    assert result.attempts == 2
    assert result.status == 250
    assert slept == [0.5]
    assert smtp.handler.data_commands == 2
    assert len(smtp.handler.messages) == 1  # delivered exactly once


def test_transient_failures_exhaust_attempts(smtp: Server) -> None:
    smtp.handler.data_replies = ["451 4.3.0 busy"] * 3
    slept: list[float] = []
    result = send(smtp, ["lead@example.com"], slept)
    assert not result.ok
    assert result.attempts == 3
    assert result.status == 451
    assert result.error is not None
    assert "451" in result.error
    assert "busy" in result.error
    assert slept == [0.5, 1.0]
    assert smtp.handler.messages == []


def test_permanent_5xx_is_not_retried(smtp: Server) -> None:
    smtp.handler.data_replies = ["554 5.7.1 Rejected as spam"]
    slept: list[float] = []
    result = send(smtp, ["lead@example.com"], slept)
    assert not result.ok
    assert result.attempts == 1
    assert result.status == 554
    assert result.error is not None
    assert "Rejected as spam" in result.error
    assert slept == []


def test_deferred_recipient_retried_alone_accepted_one_not_sent_twice(smtp: Server) -> None:
    # Greylisting: the first RCPT for ops@ gets 450; lead@ is accepted at once.
    smtp.handler.rcpt_replies = {"ops@example.com": ["450 4.2.0 Greylisted, retry later"]}
    result = send(smtp, ["lead@example.com", "ops@example.com"])
    assert result.ok
    assert result.attempts == 2
    assert [rcpts for _, rcpts, _ in smtp.handler.messages] == [
        ["lead@example.com"],
        ["ops@example.com"],
    ]
    # Both copies show the full recipient list, as one message would.
    assert {m["To"] for _, _, m in smtp.handler.messages} == {"lead@example.com, ops@example.com"}
    assert len({m["Message-ID"] for _, _, m in smtp.handler.messages}) == 1


def test_permanently_refused_recipient_is_reported(smtp: Server) -> None:
    smtp.handler.rcpt_replies = {"gone@example.com": ["550 5.1.1 No such user"]}
    slept: list[float] = []
    result = send(smtp, ["lead@example.com", "gone@example.com"], slept)
    assert not result.ok
    assert result.attempts == 1
    assert slept == []
    assert result.rejected == ("gone@example.com",)
    assert result.error is not None
    assert "No such user" in result.error
    assert [rcpts for _, rcpts, _ in smtp.handler.messages] == [["lead@example.com"]]


def test_all_recipients_transiently_refused_then_accepted(smtp: Server) -> None:
    smtp.handler.rcpt_replies = {"lead@example.com": ["451 4.4.3 try later"]}
    result = send(smtp, ["lead@example.com"])
    assert result.ok
    assert result.attempts == 2
    assert len(smtp.handler.messages) == 1


def test_connection_refused_uses_all_attempts() -> None:
    slept: list[float] = []
    result = send_email(
        "127.0.0.1",
        free_port(),
        "alerts@deskpulse.example",
        ["lead@example.com"],
        "subject",
        "text",
        sleep=slept.append,
    )
    assert not result.ok
    assert result.attempts == 3
    assert result.status is None
    assert result.error is not None
    assert "refused" in result.error.lower()
    assert slept == [0.5, 1.0]


@pytest.mark.parametrize(
    ("recipients", "field"),
    [
        ([], "recipients"),
        ("lead@example.com", "recipients"),
        (["lead@example.com", "bob at example.com"], "recipients[1]"),
        (["Lead <lead@example.com>"], "recipients[0]"),
        (["lead@example"], "recipients[0]"),
        (["lead@example.com\r\nBcc: x@evil.example"], "recipients[0]"),
        ([None], "recipients[0]"),
    ],
)
def test_bad_recipients_name_the_field(recipients: Any, field: str) -> None:
    with pytest.raises(EmailInputError) as raised:
        send_email("127.0.0.1", 25, "alerts@deskpulse.example", recipients, "s", "t")
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sender": "not-an-address"}, "sender"),
        ({"subject": "two\nlines"}, "subject"),
        ({"host": ""}, "host"),
        ({"port": 0}, "port"),
        ({"username": "u"}, "username/password"),
        ({"username": "u", "password": "p"}, "password"),
        ({"attempts": 0}, "attempts"),
        ({"starttls": True, "implicit_tls": True}, "starttls/implicit_tls"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 25,
        "sender": "alerts@deskpulse.example",
        "recipients": ["lead@example.com"],
        "subject": "s",
        "text": "t",
    }
    args.update(kwargs)
    with pytest.raises(EmailInputError) as raised:
        send_email(**args)
    assert raised.value.field == field
    assert isinstance(raised.value, ValueError)


def test_duplicate_recipients_sent_once(smtp: Server) -> None:
    result = send(smtp, ["lead@example.com", "LEAD@example.com"])
    assert result.ok
    assert [rcpts for _, rcpts, _ in smtp.handler.messages] == [["lead@example.com"]]
