"""The scheduled jobs: their registry, who gets to run a job (one claimant only), what a
run records, the daily coaching-plan refresh, and `deskpulse jobs` for cron users."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from deskpulse.events.store import Store
from deskpulse.web import jobs
from deskpulse.web.coaching.models import JobState, Plan, PlanProgress, PlanStatus
from tests.web.coaching_scenario import BEGAN, CHANNEL, INQUIRY, Scenario

T0 = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def ran() -> list[datetime]:
    return []


@pytest.fixture
def counting_job(ran: list[datetime]) -> Iterator[jobs.Job]:
    """A daily job that records when it ran (registered for this test only)."""

    def record(context: jobs.JobContext) -> str:
        ran.append(context.now)
        return f"ran at {context.now:%H:%M}"

    job = jobs.register(
        jobs.Job(name="test-counting", every=timedelta(days=1), run=record, description="test")
    )
    yield job
    jobs._registry.jobs.pop(job.name, None)


def context(now: datetime, store: Store | None = None) -> jobs.JobContext:
    def no_store() -> Store:
        raise AssertionError("this job needs no store")

    return jobs.JobContext(
        settings=store.settings if store is not None else None,  # type: ignore[arg-type]
        now=now,
        store_factory=(lambda: store) if store is not None else no_store,
    )


def test_the_registered_jobs() -> None:
    by_name = {job.name: job for job in jobs.registered()}
    assert by_name["refresh-coaching-plans"].every == timedelta(days=1)
    assert by_name["retrain-models"].every == timedelta(days=7)


def test_a_job_runs_when_due_and_then_waits_its_interval(
    db: None, counting_job: jobs.Job, ran: list[datetime]
) -> None:
    # First sight: due immediately (first_run_after is 0 for this job).
    assert jobs.run_job(counting_job, context(T0)).outcome == "ok"
    state = JobState.objects.get(name=counting_job.name)
    assert (state.last_status, state.last_message, state.runs) == ("ok", "ran at 03:00", 1)
    assert state.lease_until is None
    assert state.next_run_at == T0 + timedelta(days=1)
    # Not again the same day: a restart finds the state in the database.
    assert jobs.run_job(counting_job, context(T0 + timedelta(hours=23))).outcome == "not_due"
    assert jobs.run_job(counting_job, context(T0 + timedelta(days=1))).outcome == "ok"
    # Missed days (the server was down) run once, and the job keeps its hour.
    assert jobs.run_job(counting_job, context(T0 + timedelta(days=4, hours=5))).outcome == "ok"
    assert JobState.objects.get(name=counting_job.name).next_run_at == T0 + timedelta(days=5)
    assert ran == [T0, T0 + timedelta(days=1), T0 + timedelta(days=4, hours=5)]


def test_only_one_claimant_wins(db: None, counting_job: jobs.Job) -> None:
    assert jobs.claim(counting_job, T0, worker="a") is True
    # Another worker at the same moment, due or forced: the lease is taken.
    assert jobs.claim(counting_job, T0, worker="b") is False
    assert jobs.claim(counting_job, T0, force=True, worker="b") is False
    state = JobState.objects.get(name=counting_job.name)
    assert state.claimed_by == "a"
    result = jobs.run_job(counting_job, context(T0 + timedelta(minutes=5)), force=True)
    assert result.outcome == "busy"


def test_a_dead_runs_lease_lapses(db: None, counting_job: jobs.Job) -> None:
    assert jobs.claim(counting_job, T0, worker="died") is True
    # The worker died without finishing: nobody may run it until its lease lapses.
    assert jobs.claim(counting_job, T0 + timedelta(minutes=59), force=True) is False
    assert jobs.claim(counting_job, T0 + counting_job.lease, force=True) is True


RACER = """
import sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deskpulse.settings import Settings
from deskpulse.web.bootstrap import setup_django

data, start_at = Path(sys.argv[1]), float(sys.argv[2])
setup_django(Settings(data_dir=data))
from deskpulse.web import jobs


def record(context):
    with (data / "ran.txt").open("a") as ran:
        ran.write("ran\\n")
    time.sleep(0.5)  # hold the lease while the other workers try
    return "ran"


job = jobs.register(jobs.Job("test-race", timedelta(days=1), record, "test"))
while time.time() < start_at:
    time.sleep(0.001)
moment = datetime(2026, 6, 1, 3, 1, tzinfo=UTC)
print(jobs.run_job(job, jobs.JobContext(None, moment, lambda: None)).outcome)
"""


def test_racing_worker_processes_run_a_job_once(tmp_path: Path) -> None:
    """Six processes (workers, cron) on one app database (the default SQLite file) reach
    for the same due job at the same moment: it runs once."""
    data = tmp_path / "race-data"
    env = {**os.environ}
    env.pop("DESKPULSE_APP_DATABASE_URL", None)

    def racer(start_at: float) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", RACER, str(data), str(start_at)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    # One run first creates and migrates the database, so the racers only race for the job.
    first = racer(0)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert out.split() == ["ok"]
    (data / "ran.txt").unlink()
    with sqlite3.connect(data / "app.sqlite3") as db:
        db.execute("UPDATE deskpulse_job_state SET next_run_at = '2026-06-01 00:00:00'")
    start_at = time.time() + 8
    racers = [racer(start_at) for _ in range(6)]
    outcomes = []
    for process in racers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outcomes.extend(out.split())
    assert sorted(outcomes).count("ok") == 1, outcomes
    assert set(outcomes) <= {"ok", "busy", "not_due"}, outcomes
    assert (data / "ran.txt").read_text() == "ran\n"


def test_failures_and_skips_are_recorded(db: None) -> None:
    def broken(context: jobs.JobContext) -> str:
        raise RuntimeError("the store is gone")

    def nothing(context: jobs.JobContext) -> str:
        raise jobs.JobSkipped("nothing to do")

    for job in (
        jobs.Job("test-broken", timedelta(hours=1), broken, "test"),
        jobs.Job("test-skip", timedelta(hours=1), nothing, "test"),
    ):
        jobs.register(job)
    try:
        result = jobs.run_job(jobs.job_named("test-broken"), context(T0))
        assert (result.outcome, result.message) == ("failed", "RuntimeError: the store is gone")
        state = JobState.objects.get(name="test-broken")
        assert (state.last_status, state.lease_until) == ("failed", None)
        # A failed job is not retried at once: it waits its interval like any run.
        assert state.next_run_at == T0 + timedelta(hours=1)
        assert jobs.run_job(jobs.job_named("test-skip"), context(T0)).outcome == "skipped"
        assert JobState.objects.get(name="test-skip").last_message == "nothing to do"
    finally:
        jobs._registry.jobs.pop("test-broken", None)
        jobs._registry.jobs.pop("test-skip", None)


def test_unknown_job_names_list_the_known_ones() -> None:
    with pytest.raises(KeyError, match="refresh-coaching-plans"):
        jobs.job_named("refresh-everything")


def test_the_scheduler_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKPULSE_SCHEDULER", "off")
    assert jobs.start_scheduler(None, tick=3600) is None  # type: ignore[arg-type]


def test_refresh_job_updates_plans_in_progress(db: None, api_store: Store) -> None:
    s = Scenario()
    s.chats("alice", BEGAN - timedelta(days=20), [600, 600, 600], every=timedelta(days=2))
    s.load(api_store)

    def plan(status: str) -> Plan:
        return Plan.objects.create(
            agent_id="alice",
            channel=CHANNEL,
            inquiry=INQUIRY,
            metric="aes_handle_time",
            direction="lower",
            improvement_percent=10,
            start_value=600.0,
            start_n=3,
            target_value=540.0,
            target_date=date(2026, 7, 1),
            began_at=BEGAN,
            status=status,
        )

    open_plan, achieved = plan(PlanStatus.IN_PROGRESS), plan(PlanStatus.ACHIEVED)
    s.chats("alice", BEGAN + timedelta(days=1), [300] * 20, every=timedelta(hours=1))
    s.load(api_store)
    job = jobs.job_named("refresh-coaching-plans")
    moment = BEGAN + timedelta(days=2)
    result = jobs.run_job(job, context(moment, api_store), force=True)
    assert result.outcome == "ok", result.message
    assert result.message == "1 plans refreshed, 1 achieved, 0 expired"
    open_plan.refresh_from_db()
    # Now: the 20 since the start at 300 s <= 540 s, beyond noise (Start: 600 s, no spread).
    assert (open_plan.now_value, open_plan.now_n, open_plan.status) == (300.0, 20, "achieved")
    assert open_plan.refreshed_at == moment
    assert list(PlanProgress.objects.filter(plan=open_plan).values_list("day", "value")) == [
        (date(2026, 6, 3), 300.0)
    ]
    achieved.refresh_from_db()
    assert achieved.refreshed_at is None
    assert not PlanProgress.objects.filter(plan=achieved).exists()


# -- the command ------------------------------------------------------------------------------


def deskpulse(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DESKPULSE_DATA": str(data), "COLUMNS": "200"}
    # The folder's own stores: SQLite app database and DuckDB events.
    env.pop("DESKPULSE_BACKEND", None)
    env.pop("DESKPULSE_APP_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "deskpulse.cli", "jobs", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_jobs_command_lists_and_runs(tmp_path: Path) -> None:
    # Not tmp_path / "data": the web tests' own store is open there.
    data = tmp_path / "cli-data"
    listed = deskpulse(data, "list")
    assert listed.returncode == 0, listed.stderr
    assert "refresh-coaching-plans" in listed.stdout
    assert "retrain-models" in listed.stdout

    ran = deskpulse(data, "run", "refresh-coaching-plans")
    assert ran.returncode == 0, ran.stderr
    assert "refresh-coaching-plans: ok - 0 plans refreshed" in ran.stderr
    # Due jobs only (what cron runs): the refresh just ran, retraining is a week away.
    due = deskpulse(data, "run")
    assert due.returncode == 0, due.stderr
    assert "refresh-coaching-plans: not_due" in due.stderr
    assert "retrain-models: not_due" in due.stderr
    listed = deskpulse(data, "list")
    assert "ok: 0 plans refreshed" in listed.stdout

    unknown = deskpulse(data, "run", "refresh-everything")
    assert unknown.returncode == 1
    assert "no job named 'refresh-everything'" in unknown.stderr
    both = deskpulse(data, "run", "retrain-models", "--all")
    assert both.returncode == 1
    assert "not both" in both.stderr


def test_retrain_job_trains_and_scores(db: None, api_store: Store) -> None:
    s = Scenario()
    s.chats("alice", BEGAN - timedelta(days=20), [600, 700, 800], every=timedelta(days=2))
    s.load(api_store)
    job = jobs.job_named("retrain-models")
    result = jobs.run_job(job, context(BEGAN, api_store), force=True)
    assert result.outcome == "ok", result.message
    # Three chats are far too few labels: the chat channel falls back to measured outcomes,
    # and the three interactions are scored.
    assert "chat fallback" in result.message
    assert "3 rows scored" in result.message
    state = JobState.objects.get(name="retrain-models")
    assert state.next_run_at == BEGAN + timedelta(days=7)
