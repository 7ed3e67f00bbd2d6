"""The core's layering, read from the source: no import cycle among core modules, and no
core module importing Django, typer or the web and CLI layers (DESIGN.md, "Layers").

The core is every module under src/deskpulse except web/ and the CLI. Imports inside
functions count too: a cycle hidden behind a lazy import is still a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "deskpulse"

FORBIDDEN = ("django", "ninja", "typer", "deskpulse.web", "deskpulse.cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_core(name: str) -> bool:
    outer = ("deskpulse.web", "deskpulse.cli")
    return not any(name == o or name.startswith(o + ".") for o in outer)


def modules() -> dict[str, Path]:
    every = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: path for name, path in every.items() if is_core(name)}


def imported(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every module `path` imports (absolute names, relative imports resolved), with the
    line; for `from a import b`, `a.b` too, in case `b` is a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def forbidden(target: str) -> bool:
    return any(target == f or target.startswith(f + ".") for f in FORBIDDEN)


def test_the_core_is_found() -> None:
    core = modules()
    assert "deskpulse.metrics.registry" in core
    assert "deskpulse.analysis.experiments" in core
    assert not any(name.startswith("deskpulse.web") for name in core)


def test_no_core_module_imports_django_typer_web_or_cli() -> None:
    offences = [
        f"{path.relative_to(SRC)}:{line} imports {target}"
        for name, path in modules().items()
        for target, line in imported(name, path)
        if forbidden(target)
    ]
    assert offences == []


def test_nothing_imports_the_cli() -> None:
    """The CLI sits on top: web/ may not reach into it (DESIGN.md, "Layers")."""
    web = {module_name(path): path for path in (PACKAGE / "web").rglob("*.py")}
    assert "deskpulse.web.api.v1" in web
    offences = [
        f"{path.relative_to(SRC)}:{line} imports {target}"
        for name, path in web.items()
        for target, line in imported(name, path)
        if target == "deskpulse.cli" or target.startswith("deskpulse.cli.")
    ]
    assert offences == []


def graph() -> dict[str, set[str]]:
    core = modules()
    return {
        name: {target for target, _ in imported(name, path) if target in core and target != name}
        for name, path in core.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_core_modules() -> None:
    assert cycles(graph()) == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_the_cycle_finder_finds_cycles(
    edges: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert cycles(edges) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("django", True),
        ("django.db.models", True),
        ("deskpulse.web.api", True),
        ("deskpulse.cli", True),
        ("typer", True),
        ("ninja", True),
        ("deskpulse.webhooks", False),
        ("deskpulse.cli_options", False),
        ("ibis", False),
        ("typing", False),
    ],
)
def test_forbidden_means_the_package_and_its_modules_only(name: str, expected: bool) -> None:
    assert forbidden(name) is expected
