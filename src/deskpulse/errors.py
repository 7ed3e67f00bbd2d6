"""The one base class of the errors the core raises about what someone asked for.

Every typed error a person can cause (a query that cannot be answered, a date outside the
supported range, an object they may not see, a plan field, a mapping file, a retraction)
is a `DeskpulseError` carrying

- `code`: a short machine-readable reason, the API's error code (`invalid_query`,
  `not_found`, `query_timeout`, ...): set per class, or per instance where one class
  covers several reasons;
- `field`: the parameter, option or field at fault, or None;
- `message`: what is wrong, in words a person can act on.

`str(error)` is `"field: message"` (the message alone when there is no field or the
message already begins with it), as every surface prints it.

Two kinds are told apart by class because every surface treats them differently from a
bad value: `NotFoundError` (no such object, or one the viewer may not see: the two are
never told apart) and `ConflictError` (the request is fine, the install's current state
refuses it). The core stays free of HTTP: which status each class answers with is decided
in one table in the web layer (deskpulse.web.api.problems), and the CLI prints the line.
Subclasses keep their older built-in base too (ValueError, LookupError, TimeoutError), so
code that catches those keeps working.
"""

from __future__ import annotations


class DeskpulseError(Exception):
    """A request the core refuses; see the module docstring for code, field, message."""

    code: str = "invalid_request"

    def __init__(
        self, message: str = "", field: str | None = None, *, code: str | None = None
    ) -> None:
        named = field is None or message.startswith(f"{field}:")
        super().__init__(message if named else f"{field}: {message}")
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class NotFoundError(DeskpulseError, LookupError):
    """No such object, or one the viewer may not see (never told apart)."""

    code = "not_found"


class ConflictError(DeskpulseError):
    """A sound request that the install's current state refuses (already done, unreadable)."""

    code = "conflict"
