"""docs/metrics.md documents exactly the metrics of the registry, each with an example.

Every `### name` heading in docs/metrics.md must be a registry metric and every registry
metric must have one; each metric's section (up to the next `##` or `###` heading) must
contain a worked example.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deskpulse.metrics.registry import REGISTRY

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _sections() -> dict[str, str]:
    """Level-3 heading text -> the section's body, ignoring fenced code blocks."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    in_fence = False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading is None:
            if current is not None:
                current.append(line)
            continue
        level, title = len(heading.group(1)), heading.group(2).strip("` ")
        if level == 3:
            assert title not in sections, f"docs/metrics.md has '### {title}' twice"
            current = sections[title] = []
        elif level <= 3:
            current = None
    return {title: "\n".join(body) for title, body in sections.items()}


SECTIONS = _sections()


def test_every_heading_is_a_registry_metric() -> None:
    unknown = sorted(set(SECTIONS) - set(REGISTRY))
    assert not unknown, f"docs/metrics.md has ### headings that are not registry metrics: {unknown}"


@pytest.mark.parametrize("name", list(REGISTRY))
def test_metric_has_a_section(name: str) -> None:
    assert name in SECTIONS, f"docs/metrics.md has no '### {name}' section"


@pytest.mark.parametrize("name", list(REGISTRY))
def test_metric_section_has_an_example(name: str) -> None:
    body = SECTIONS.get(name)
    if body is None:
        pytest.fail(f"docs/metrics.md has no '### {name}' section")
    assert "Example" in body, f"the '### {name}' section of docs/metrics.md has no Example"
