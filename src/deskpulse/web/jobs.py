"""Scheduled jobs: a small registry of periodic work and the runner that does it.

Each job has a name, an interval and a function. The server runs them from a daemon
thread in each worker process (`start_scheduler`, called by deskpulse.web.server);
installs that prefer cron call `deskpulse jobs run` instead and set
DESKPULSE_SCHEDULER=off for the server.

When a job last ran and when it runs next live in the app database (JobState), so a
restart does not run everything again. A run starts only after a conditional UPDATE
that exactly one claimant wins; two workers, or a worker and a cron run, therefore never
run the same job at once. A claim holds a lease; a run that died (killed worker) leaves
its lease, which lapses after `Job.lease`, and the job is claimable again.

Adding a job: `register(Job(name=..., every=..., run=..., description=...))`. The
function gets a JobContext and returns one line saying what it did; raising JobSkipped
records "skipped" with its reason, any other exception "failed".
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from django.db import IntegrityError, connections, transaction
from django.db.models import F, Q

from deskpulse import clock
from deskpulse.settings import Settings

if TYPE_CHECKING:
    from deskpulse.events.store import Store
    from deskpulse.web.coaching.models import JobState

logger = logging.getLogger("deskpulse.web.jobs")

# How often the server's scheduler thread looks for due jobs.
TICK_SECONDS = 60.0
SCHEDULER_ENV = "DESKPULSE_SCHEDULER"

Outcome = Literal["ok", "failed", "skipped", "not_due", "busy"]


class JobSkipped(Exception):  # noqa: N818 - reads as what happened, like StopIteration
    """The job had nothing it could do (say, a component is not installed)."""


@dataclass(frozen=True)
class JobContext:
    """What a job may use: the install's settings, its store, and the moment it runs."""

    settings: Settings
    now: datetime
    store_factory: Callable[[], Store]
    progress: Callable[[int, int], None] | None = None

    def store(self) -> Store:
        return self.store_factory()


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[JobContext], str]
    description: str
    # The first run of a job the install has never run: after this long.
    first_run_after: timedelta = timedelta(0)
    # Longest a run may take before another claimant may assume it died.
    lease: timedelta = timedelta(hours=1)

    @property
    def every_text(self) -> str:
        """The interval as a person says it: "1 day", "7 days", "6 hours", "15 minutes"."""
        seconds = int(self.every.total_seconds())
        for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
            if seconds % size == 0:
                count = seconds // size
                return f"{count} {unit}{'s' if count != 1 else ''}"
        return f"{seconds} seconds"


@dataclass(frozen=True)
class JobResult:
    name: str
    outcome: Outcome
    message: str
    seconds: float = 0.0


@dataclass
class _Registry:
    jobs: dict[str, Job] = field(default_factory=dict)


_registry = _Registry()


def register(job: Job) -> Job:
    if job.every <= timedelta(0):
        raise ValueError(f"job {job.name}: the interval must be positive")
    _registry.jobs[job.name] = job
    return job


def registered() -> list[Job]:
    return sorted(_registry.jobs.values(), key=lambda job: job.name)


def job_named(name: str) -> Job:
    try:
        return _registry.jobs[name]
    except KeyError:
        known = ", ".join(job.name for job in registered())
        raise KeyError(f"no job named {name!r}; the jobs are: {known}") from None


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def ensure_states(now: datetime) -> dict[str, JobState]:
    """The JobState row of every registered job, created on first sight."""
    from deskpulse.web.coaching.models import JobState

    states = {state.name: state for state in JobState.objects.all()}
    for job in registered():
        if job.name in states:
            continue
        try:
            with transaction.atomic():
                states[job.name] = JobState.objects.create(
                    name=job.name, next_run_at=now + job.first_run_after
                )
        except IntegrityError:
            # Another worker created it at the same moment; theirs is as good.
            states[job.name] = JobState.objects.get(name=job.name)
    return states


def _next_run(job: Job, scheduled: datetime, now: datetime) -> datetime:
    """The next slot after `now` on the job's grid, so a daily job keeps its hour."""
    if scheduled > now:
        return scheduled
    missed = (now - scheduled) // job.every
    return scheduled + job.every * (missed + 1)


def claim(job: Job, now: datetime, *, force: bool = False, worker: str | None = None) -> bool:
    """Take the job's lease if it is due (or forced) and nobody holds it. One winner."""
    from deskpulse.web.coaching.models import JobState

    state = ensure_states(now)[job.name]
    free = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    rows = JobState.objects.filter(free, name=job.name)
    if not force:
        rows = rows.filter(next_run_at__lte=now)
    next_run = now + job.every if force else _next_run(job, state.next_run_at, now)
    # The filter re-checks, inside the UPDATE, what `state` said a moment ago: when two
    # claimants race, the second UPDATE finds the lease taken and changes no row.
    won = rows.update(
        lease_until=now + job.lease,
        claimed_by=worker or _worker_name(),
        last_started_at=now,
        next_run_at=next_run,
    )
    return won == 1


def _finish(job: Job, outcome: Outcome, message: str, finished: datetime) -> None:
    from deskpulse.web.coaching.models import JobState

    JobState.objects.filter(name=job.name).update(
        lease_until=None,
        last_finished_at=finished,
        last_status=outcome,
        last_message=message[:2000],
        runs=F("runs") + 1,
    )


def run_job(
    job: Job,
    context: JobContext,
    *,
    force: bool = False,
    clock: Callable[[], datetime] = clock.now,
) -> JobResult:
    """Claim and run one job; "not_due" or "busy" when it is not ours to run now."""
    if not claim(job, context.now, force=force):
        from deskpulse.web.coaching.models import JobState

        state = JobState.objects.get(name=job.name)
        if state.lease_until is not None and state.lease_until > context.now:
            return JobResult(job.name, "busy", f"running since {state.last_started_at}")
        return JobResult(job.name, "not_due", f"next run at {state.next_run_at}")
    started = time.perf_counter()
    outcome: Outcome
    try:
        message = job.run(context)
        outcome = "ok"
    except JobSkipped as skipped:
        message, outcome = str(skipped), "skipped"
    except Exception as error:
        logger.exception("scheduled job %s failed", job.name)
        message, outcome = f"{type(error).__name__}: {error}", "failed"
    _finish(job, outcome, message, clock())
    return JobResult(job.name, outcome, message, time.perf_counter() - started)


def run_due(context: JobContext) -> list[JobResult]:
    """Every job that is due at context.now, one after another."""
    results = []
    for job in registered():
        result = run_job(job, context)
        if result.outcome != "not_due":
            results.append(result)
    return results


class Scheduler(threading.Thread):
    """The server's daemon thread: every TICK_SECONDS, run what is due."""

    def __init__(self, settings: Settings, tick: float = TICK_SECONDS) -> None:
        super().__init__(name="deskpulse-jobs", daemon=True)
        self.settings = settings
        self.tick = tick
        self._stop_event = threading.Event()

    def run(self) -> None:
        from deskpulse.web.runtime import get_store

        while not self._stop_event.is_set():
            try:
                context = JobContext(self.settings, clock.now(), get_store)
                for result in run_due(context):
                    logger.info("job %s: %s (%s)", result.name, result.outcome, result.message)
            except Exception:
                # The app database may be briefly locked or unreachable; try next tick.
                logger.exception("the job scheduler could not check for due jobs")
            finally:
                # This thread's own connections: a long-idle one would go stale.
                connections.close_all()
            self._stop_event.wait(self.tick)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)


_scheduler_lock = threading.Lock()
_scheduler: Scheduler | None = None


def scheduler_enabled() -> bool:
    return os.environ.get(SCHEDULER_ENV, "on").strip().lower() not in {"0", "off", "no", "false"}


def start_scheduler(settings: Settings, tick: float = TICK_SECONDS) -> Scheduler | None:
    """Start this process's scheduler thread (once); None when DESKPULSE_SCHEDULER=off."""
    global _scheduler
    if not scheduler_enabled():
        return None
    with _scheduler_lock:
        if _scheduler is None or not _scheduler.is_alive():
            _scheduler = Scheduler(settings, tick)
            _scheduler.start()
        return _scheduler


def stop_scheduler() -> None:
    global _scheduler
    with _scheduler_lock:
        running, _scheduler = _scheduler, None
    if running is not None:
        running.stop()


# -- the jobs --------------------------------------------------------------------------------


def _refresh_coaching_plans(context: JobContext) -> str:
    from deskpulse.facts.build import facts_exist
    from deskpulse.web.coaching.models import Plan, PlanStatus
    from deskpulse.web.coaching.service import RefreshSummary, ensure_scored, refresh_open_plans

    if not Plan.objects.filter(status=PlanStatus.IN_PROGRESS).exists():
        return RefreshSummary().describe()
    store = context.store()
    if not facts_exist(store):
        raise JobSkipped("the store has no facts yet: import events first")
    ensure_scored(store, context.settings)
    summary = refresh_open_plans(store, now=context.now, progress=context.progress)
    return summary.describe()


def _retrain_models(context: JobContext) -> str:
    from deskpulse.models.training import TrainingError, train

    try:
        report = train(
            context.store(), context.settings, progress=context.progress, now=context.now
        )
    except TrainingError as error:
        # Nothing to learn from yet (an empty install, say): not a failure of the job.
        raise JobSkipped(str(error)) from None
    return report.describe()


register(
    Job(
        name="refresh-coaching-plans",
        every=timedelta(days=1),
        run=_refresh_coaching_plans,
        description="Update every coaching plan in progress: its Now value, status and chart.",
        # Soon after the first start, so a new install's plans show a day's point.
        first_run_after=timedelta(minutes=1),
    )
)


def _check_alert_rules(context: JobContext) -> str:
    from deskpulse.facts.build import facts_exist
    from deskpulse.web.alerts.models import AlertRule
    from deskpulse.web.alerts.service import check_rules

    if not AlertRule.objects.filter(enabled=True).exists():
        return "no alert rules enabled"
    store = context.store()
    if not facts_exist(store):
        raise JobSkipped("the store has no facts yet: import events first")
    return check_rules(store, context.now, progress=context.progress).describe()


register(
    Job(
        name="check-alert-rules",
        every=timedelta(hours=1),
        run=_check_alert_rules,
        description="Check every enabled alert rule and send its notifications.",
        # Soon after the first start, so a new install's rules get a state quickly.
        first_run_after=timedelta(minutes=2),
        lease=timedelta(minutes=30),
    )
)
register(
    Job(
        name="retrain-models",
        every=timedelta(days=7),
        run=_retrain_models,
        description=(
            "Retrain the inquiry classifier and the per-channel prediction models on the "
            "install's history, then rescore."
        ),
        # `deskpulse train` makes the first models; the job keeps them current after that.
        first_run_after=timedelta(days=7),
        lease=timedelta(hours=6),
    )
)


def _send_weekly_digests(context: JobContext) -> str:
    from deskpulse.web.digest.models import DigestPreference
    from deskpulse.web.digest.service import send_due

    if not DigestPreference.objects.filter(enabled=True).exists():
        return "no digest switched on"
    return send_due(context.store(), context.now).describe()


register(
    Job(
        name="send-weekly-digests",
        # Often enough that a digest leaves within a quarter hour of the hour its reader
        # chose; the ledger (one row per person and week) keeps it to once a week.
        every=timedelta(minutes=15),
        run=_send_weekly_digests,
        description="Send each person's weekly digest when their day and hour come.",
        first_run_after=timedelta(minutes=3),
        lease=timedelta(minutes=30),
    )
)
