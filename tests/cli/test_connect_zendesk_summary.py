"""`deskpulse connect zendesk import` prints, next to each cross-check row that differs,
why it differs (the known definitional differences, connectors/zendesk.py)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import deskpulse

FIXTURES = Path(__file__).parents[1] / "connectors" / "fixtures"


def test_differs_rows_carry_their_note(tmp_path: Path) -> None:
    done = deskpulse(
        tmp_path / "data",
        "connect", "zendesk", "import", str(FIXTURES / "zendesk"), str(FIXTURES / "zendesk_cases"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    (at,) = [i for i, line in enumerate(lines) if "│ 104 " in line and "differs" in line]
    # The note starts on the row itself and may wrap onto the next lines of its cell.
    cell = " ".join(line.split("│")[-2].strip() for line in lines[at : at + 4])
    assert cell.startswith("agent-created ticket: Zendesk measures from creation")
    assert "4 of 12 checks differ" in done.stdout
