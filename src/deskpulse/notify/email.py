"""E-mail over SMTP (standard library smtplib), with retries: alerts in plain text, the
weekly digest as HTML with a plain-text alternative.

SMTP says which failures are worth retrying: 4xx replies are transient ("451 try again
later", greylisting, a full queue), 5xx are final. Connection errors and timeouts are
retried too. A recipient the server accepted is never sent to again: a retry goes only to
those still waiting, so nobody gets the same alert twice because someone else's mailbox
was busy.
"""

from __future__ import annotations

import re
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from deskpulse.errors import DeskpulseError
from deskpulse.notify import DeliveryResult

# Deliberately simple: one @, no spaces or angle brackets, a dotted or bracketed domain
# (or "localhost"). Its job is to catch typos and pasted "Name <addr>" strings early,
# with the field named, not to re-implement RFC 5322; the server has the last word.
_ADDRESS = re.compile(
    r"^[^@\s<>(),;:\"]+@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+|localhost|\[[0-9.:a-fA-F]+\])$"
)


class EmailInputError(DeskpulseError, ValueError):
    """Bad input to send_email; `field` names the argument at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


def _check_address(field: str, value: object) -> str:
    if not isinstance(value, str) or not _ADDRESS.match(value.strip()):
        raise EmailInputError(field, f"{value!r} is not an e-mail address (name@example.com)")
    return value.strip()


def _validate(
    host: str,
    port: int,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    username: str | None,
    password: str | None,
    secure: bool,
    attempts: int,
) -> tuple[str, list[str]]:
    if not host or not host.strip():
        raise EmailInputError("host", "must not be empty")
    if not 0 < port < 65536:
        raise EmailInputError("port", f"{port} is not a TCP port")
    from_address = _check_address("sender", sender)
    if isinstance(recipients, str):
        # A bare string would be read as a list of one-character addresses.
        raise EmailInputError("recipients", "must be a list of addresses, not one string")
    if not recipients:
        raise EmailInputError("recipients", "at least one address is required")
    to: list[str] = []
    for i, recipient in enumerate(recipients):
        address = _check_address(f"recipients[{i}]", recipient)
        if address.lower() not in (a.lower() for a in to):
            to.append(address)
    if any(c in subject for c in "\r\n"):
        raise EmailInputError("subject", "must be one line")
    if (username is None) != (password is None):
        raise EmailInputError("username/password", "give both or neither")
    if username is not None and not secure:
        # smtplib would send the password readable by anyone on the path.
        raise EmailInputError("password", "credentials need starttls=True or implicit_tls=True")
    if attempts < 1:
        raise EmailInputError("attempts", f"{attempts} must be at least 1")
    return from_address, to


def send_email(
    host: str,
    port: int,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    text: str,
    *,
    username: str | None = None,
    password: str | None = None,
    starttls: bool = False,
    implicit_tls: bool = False,
    attempts: int = 3,
    backoff_seconds: float = 0.5,
    timeout: float = 10,
    delivery_id: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    sleep: Callable[[float], None] = time.sleep,
    html: str | None = None,
) -> DeliveryResult:
    """Send one message to `recipients`, retrying transient failures after
    backoff_seconds * 2**k. `starttls` upgrades a plain connection (port 587);
    `implicit_tls` connects with TLS from the start (port 465). `delivery_id` (e.g. the
    alert's de-dup key) goes into an X-Deskpulse-Delivery header. With `html`, the
    message is multipart/alternative: `text` first, the HTML after it. Raises EmailInputError
    (a ValueError naming the field) for bad input; a failed delivery is a result with
    ok=False, its refused recipients in `rejected`."""
    if starttls and implicit_tls:
        raise EmailInputError("starttls/implicit_tls", "choose one")
    from_address, to = _validate(
        host,
        port,
        sender,
        recipients,
        subject,
        username,
        password,
        starttls or implicit_tls,
        attempts,
    )
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    # One Message-ID for all attempts: a server that did take a message whose reply was
    # lost, then gets the retry, can see it is the same message.
    message["Message-ID"] = make_msgid(domain=from_address.rsplit("@", 1)[1].strip("[]"))
    if delivery_id:
        message["X-Deskpulse-Delivery"] = delivery_id
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")

    waiting = list(to)
    rejected: dict[str, str] = {}
    status: int | None = None
    error: str | None = None
    context = ssl_context or ssl.create_default_context()
    for attempt in range(1, attempts + 1):
        try:
            refused = _send_once(
                host,
                port,
                message,
                from_address,
                waiting,
                username=username,
                password=password,
                starttls=starttls,
                implicit_tls=implicit_tls,
                timeout=timeout,
                context=context,
            )
            status, error = 250, None
        except smtplib.SMTPRecipientsRefused as failure:
            # Every waiting recipient was refused: sort them into later and never.
            refused = {r: (int(code), msg) for r, (code, msg) in failure.recipients.items()}
            status = max(code for code, _ in refused.values())
            error = None
        except smtplib.SMTPResponseException as failure:
            status = failure.smtp_code
            error = f"SMTP {failure.smtp_code}: {_text(failure.smtp_error)}"
            if not 400 <= failure.smtp_code < 500:
                return _result(False, attempt, status, error, delivery_id, rejected, waiting)
            refused = None
        except (smtplib.SMTPException, OSError) as failure:
            # Refused connections, timeouts, a server that hung up, a TLS failure.
            status = None
            error = f"{type(failure).__name__}: {failure}"
            if isinstance(failure, smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError):
                return _result(False, attempt, status, error, delivery_id, rejected, waiting)
            refused = None
        if refused is not None:
            # Accepted recipients are done; 5xx refusals are final; 4xx wait for a retry.
            for recipient, (code, msg) in refused.items():
                if code >= 500:
                    rejected[recipient] = f"{code} {_text(msg)}"
            waiting = [r for r in waiting if r in refused and refused[r][0] < 500]
            if not waiting:
                ok = not rejected
                error = (
                    None
                    if ok
                    else "refused: " + "; ".join(f"{r} ({m})" for r, m in rejected.items())
                )
                return _result(ok, attempt, status, error, delivery_id, rejected, waiting)
            error = "deferred: " + "; ".join(
                f"{r} ({code} {_text(msg)})" for r, (code, msg) in refused.items() if r in waiting
            )
        if attempt < attempts:
            sleep(backoff_seconds * 2 ** (attempt - 1))
    return _result(False, attempts, status, error, delivery_id, rejected, waiting)


def _send_once(
    host: str,
    port: int,
    message: EmailMessage,
    sender: str,
    recipients: list[str],
    *,
    username: str | None,
    password: str | None,
    starttls: bool,
    implicit_tls: bool,
    timeout: float,
    context: ssl.SSLContext,
) -> dict[str, tuple[int, bytes]]:
    """One connection, one transaction. Returns the recipients refused while others were
    accepted (smtplib raises only when all are refused)."""
    smtp: smtplib.SMTP
    if implicit_tls:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        smtp.ehlo()
        if starttls:
            smtp.starttls(context=context)
            smtp.ehlo()  # the server's capabilities change once the channel is encrypted
        if username is not None and password is not None:
            smtp.login(username, password)
        return smtp.send_message(message, from_addr=sender, to_addrs=recipients)


def _text(reply: bytes | str) -> str:
    return (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply).strip()


def _result(
    ok: bool,
    attempts: int,
    status: int | None,
    error: str | None,
    delivery_id: str | None,
    rejected: dict[str, str],
    waiting: list[str],
) -> DeliveryResult:
    if not ok and waiting and error is None:
        error = "not delivered to " + ", ".join(waiting)
    return DeliveryResult(ok, attempts, status, error, delivery_id, tuple(rejected))
