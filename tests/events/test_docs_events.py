"""Every JSON example in docs/events.md is a valid v1 event, one per event type.

Each ```json block must follow a line `Example: <type>`, decode, pass
`deskpulse.events.contract.parse_event` (not a Rejection) and have that type; together
the examples cover every type in EVENT_TYPES exactly once.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from deskpulse.events.contract import (
    EVENT_MODELS,
    EVENT_TYPES,
    RETRACTION_TYPE,
    Rejection,
    parse_event,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
_EXAMPLE_LINE = re.compile(r"^Example: (\S+)\s*$")


def _json_blocks() -> list[tuple[int, str | None, str]]:
    """(line number, type named by the preceding `Example:` line or None, block text)."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    blocks: list[tuple[int, str | None, str]] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        if line.strip().startswith("```"):
            opening = number
            end = number + 1
            while end < len(lines) and not lines[end].strip().startswith("```"):
                end += 1
            if line.strip() == "```json":
                previous = next(
                    (lines[i] for i in range(opening - 1, -1, -1) if lines[i].strip()), ""
                )
                named = _EXAMPLE_LINE.match(previous.strip())
                text = "\n".join(lines[opening + 1 : end])
                blocks.append((opening + 1, named.group(1) if named else None, text))
            number = end + 1
            continue
        number += 1
    return blocks


BLOCKS = _json_blocks()


def _decode(line: int, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        pytest.fail(f"docs/events.md line {line}: the json block does not parse: {error}")


@pytest.mark.parametrize(("line", "named", "text"), BLOCKS, ids=[f"line{b[0]}" for b in BLOCKS])
def test_example_is_a_valid_event(line: int, named: str | None, text: str) -> None:
    assert named is not None, (
        f"docs/events.md line {line}: a ```json block must follow a line 'Example: <type>'"
    )
    decoded = _decode(line, text)
    if named == RETRACTION_TYPE:
        # A tombstone follows the contract, but only deskpulse writes one: ingest refuses it.
        refused = parse_event(decoded)
        assert isinstance(refused, Rejection)
        assert refused.field == "type"
        assert "a source cannot send it" in refused.reason
        assert EVENT_MODELS[named].model_validate(decoded).type == named
        return
    parsed = parse_event(decoded)
    assert not isinstance(parsed, Rejection), (
        f"docs/events.md line {line} (Example: {named}) is rejected: "
        f"{parsed.field}: {parsed.reason}"
    )
    assert parsed.type == named, (
        f"docs/events.md line {line}: 'Example: {named}' shows a {parsed.type} event"
    )


def test_exactly_one_example_per_type() -> None:
    counts = Counter(named for _line, named, _text in BLOCKS)
    missing = [t for t in EVENT_TYPES if counts[t] == 0]
    repeated = sorted(t for t, n in counts.items() if n > 1)
    unknown = sorted(str(t) for t in counts if t not in EVENT_TYPES)
    assert not missing, f"docs/events.md has no example for {missing}"
    assert not repeated, f"docs/events.md has more than one example for {repeated}"
    assert not unknown, f"docs/events.md has examples of unknown types {unknown}"
