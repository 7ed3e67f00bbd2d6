"""`deskpulse demo --no-serve`: a demo install, generated or from the real samples, with
its sign-ins and token."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import REAL, can_sign_in, deskpulse


def test_demo_creates_sign_ins_once(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    first = deskpulse(data, "demo", "--no-serve", "--conversations", "100")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    login = "Sign in at http://127.0.0.1:8000/accounts/login/ as "
    owner = next(line for line in lines if f"{login}owner@deskpulse.local / " in line)
    # The dashboard's URL comes first, before the sign-ins.
    landing = next(i for i, line in enumerate(lines) if "demo loaded" in line)
    assert lines[landing].endswith("http://127.0.0.1:8000/analytics/")
    assert landing < lines.index(owner)
    agent = next(line for line in lines if "@deskpulse.local / " in line and line != owner)
    owner_password = owner.split(" / ")[1].split()[0]
    agent_email = agent.split(" as ")[1].split(" / ")[0]
    agent_password = agent.split(" / ")[1].split()[0]
    assert agent_email == "agent-001@deskpulse.local"
    assert can_sign_in(data, "owner@deskpulse.local", owner_password)
    assert can_sign_in(data, agent_email, agent_password)
    assert "API token     dp_" in first.stdout

    again = deskpulse(data, "demo", "--no-serve")
    assert again.returncode == 0, again.stderr
    assert owner_password not in again.stdout
    assert agent_password not in again.stdout
    assert "owner@deskpulse.local exists" in again.stdout
    assert "user password --email owner@deskpulse.local" in again.stdout
    listed = deskpulse(data, "user", "list").stdout
    assert "owner@deskpulse.local" in listed
    assert "agent-001" in listed


def test_demo_real_loads_both_samples(tmp_path: Path) -> None:
    data = tmp_path / "real"
    result = deskpulse(data, "demo", "--real", "--no-serve", "--real-data", str(REAL))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "import with mapping twcs" in out
    assert "│ rows read              │ 5,000 │" in out
    assert "│ conversations          │ 1,315 │" in out
    assert "import with mapping servicenow" in out
    assert "│ conversations                 │ 890   │" in out
    # stale copies (INC0000137's update 1 saved after its resolution) are left out
    assert "reopen check: 890 of 890 match the export's reopen count" in out
    assert "INC0000137" not in out
    assert "Sign in at http://127.0.0.1:8000/accounts/login/ as owner@deskpulse.local" in out
    assert "API token     dp_" in out
    missing = deskpulse(tmp_path / "other", "demo", "--real", "--no-serve", "--real-data", "/no")
    assert missing.returncode != 0
    assert "--real: no /no/twcs_sample.csv" in missing.stderr
