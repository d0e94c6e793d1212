"""Writes of the job record: enqueue, run, progress, cancel, reap.

How a run stays honest (docs/architecture.md, "Jobs"):

- **claim**: a run starts only by turning its job from queued to running in one
  conditional ``UPDATE`` that also increments ``attempts``; a second delivery of the same
  task, or a task of a cancelled job, finds nothing to claim and does nothing.
- **fence**: every later write of a run (progress, heartbeat, done, failed) is conditional
  on the row still being running with the run's own attempt number, so a run whose lease
  was taken away can no longer write.
- **atomic kinds** do their work and the job's "done" in ONE transaction: if the fence
  fails there, the work rolls back, so a retried job never does it twice.
- **heartbeat**: outside a transaction (a real worker) a side thread writes
  ``heartbeat_at``, the progress reported so far and reads ``cancel_requested`` every
  ``SEEME_JOB_HEARTBEAT_SECONDS``, on its own connection, so the progress is visible while
  the work's transaction is still open (on PostgreSQL; SQLite has one writer at a time).
- **reap**: a running job whose heartbeat is older than ``SEEME_JOB_LEASE_SECONDS`` lost
  its worker: ``jobs_reap`` requeues it (a new task) while it has attempts left, else fails
  it. Workers reap before each run, and so do the job pages and API when they read a job.
"""

import logging
import threading
import uuid
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from seeme.db import atomic_write
from seeme.exceptions import Conflict, InvalidInput
from seeme.jobs.models import Job, JobState
from seeme.jobs.registry import kind_for
from seeme.models import Dataset, User

log = logging.getLogger(__name__)

MESSAGE_MAX = 500


class JobCancelled(Exception):
    """Raised inside a run by ``JobRun.check_cancelled`` once a cancel was asked for."""


class _LeaseLost(Exception):
    """The job is no longer this run's (reaped, or cancelled): its writes must not land."""


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def lease_seconds() -> float:
    return _setting("SEEME_JOB_LEASE_SECONDS", 120)


def heartbeat_seconds() -> float:
    return _setting("SEEME_JOB_HEARTBEAT_SECONDS", 5)


def max_attempts() -> int:
    return int(_setting("SEEME_JOB_MAX_ATTEMPTS", 3))


def _enqueue_task(job_id: uuid.UUID) -> str:
    from seeme.jobs.tasks import run_job  # the task module needs the app registry

    result = run_job.enqueue(str(job_id))
    return str(result.id)


def enqueue_job(
    kind: str,
    *,
    dataset: Dataset | None,
    user: User | None,
    params: dict | None = None,
    total: int = 0,
    message: str = "",
    idempotency_key: str = "",
) -> Job:
    """Record a job of a registered ``kind`` and put its task on the queue, in one
    transaction: with the database backend the job row and its task row commit together,
    so there is never a job without a task or a task without its job.

    ``idempotency_key`` (a form's one-time token, an API ``Idempotency-Key``): the same
    user enqueuing with the same key gets the first job back instead of a second one.
    Raises InvalidInput for an unknown kind.
    """
    if kind_for(kind) is None:
        raise InvalidInput(f"Unknown job kind {kind!r}.")
    key = idempotency_key[:64]
    if key and user is not None:
        existing = Job.objects.filter(created_by=user, idempotency_key=key).first()
        if existing is not None:
            return existing
    try:
        return _job_create(
            kind=kind,
            dataset=dataset,
            user=user,
            params=params or {},
            total=total,
            message=message,
            key=key,
        )
    except IntegrityError:
        if not key:
            raise
        return Job.objects.get(created_by=user, idempotency_key=key)


@atomic_write
def _job_create(*, kind, dataset, user, params, total, message, key) -> Job:
    job = Job.objects.create(
        kind=kind,
        dataset=dataset,
        created_by=user,
        params=params,
        total=max(0, int(total)),
        message=message[:MESSAGE_MAX],
        idempotency_key=key,
    )
    _attach_task(job)
    return job


def _attach_task(job: Job) -> None:
    """Enqueue the job's task and remember its id. (The immediate backend runs the job
    right here, inside the caller's transaction.)"""
    task_id = _enqueue_task(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=task_id)
    job.refresh_from_db()


@atomic_write
def job_cancel(*, job: Job) -> Job:
    """Cancel a job: a queued one is cancelled at once (its task will find nothing to
    claim); a running one is asked to stop (``cancel_requested``) and is cancelled when its
    run notices, or when it would finish: an atomic kind's work then rolls back. A finished
    job is a Conflict (a cancelled one answers as it is). One transaction."""
    now = timezone.now()
    Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
        state=JobState.CANCELLED, cancel_requested=True, finished_at=now, message="Cancelled."
    )
    Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()
    if job.state in (JobState.DONE, JobState.FAILED):
        raise Conflict(f"The job is already {job.state}; it can no longer be cancelled.")
    return job


def jobs_reap(*, job_ids: list[uuid.UUID] | None = None) -> int:
    """Requeue or fail running jobs whose worker stopped answering (``job_ids``: only
    those). Returns how many jobs it changed.

    Cheap when there is nothing to do (one indexed SELECT); a write it cannot make right now
    (SQLite busy with a long job) is left for the next reader.
    """
    now = timezone.now()
    stale = Job.objects.filter(
        state=JobState.RUNNING, heartbeat_at__lt=now - timedelta(seconds=lease_seconds())
    )
    if job_ids is not None:
        stale = stale.filter(pk__in=job_ids)
    changed = 0
    try:
        for job in list(stale.only("pk", "attempts", "task_id")):
            changed += _reap_one(job, now)
    except OperationalError as exc:  # SQLite: a long job holds the write lock
        log.info("jobs_reap deferred: %s", exc)
    return changed


@atomic_write
def _reap_one(job: Job, now) -> int:
    """Requeue (with a new task) or fail one stale job, fenced on its attempt; the task row
    the dead worker left "running" is closed as failed."""
    fence = Q(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts)
    fence &= Q(heartbeat_at__lt=now - timedelta(seconds=lease_seconds()))
    if job.attempts >= max_attempts():
        _close_dead_task(job.task_id, now)
        return Job.objects.filter(fence).update(
            state=JobState.FAILED,
            finished_at=now,
            message="The worker running this job stopped answering.",
            errors=[
                {
                    "message": f"The worker stopped answering ({job.attempts} attempt(s)); "
                    "nothing of the last attempt was kept."
                }
            ],
        )
    _close_dead_task(job.task_id, now)
    requeued = Job.objects.filter(fence).update(
        state=JobState.QUEUED,
        message=f"Retrying: the worker of attempt {job.attempts} stopped answering.",
        task_id="",
    )
    if requeued:
        _attach_task(job)
    return requeued


def _close_dead_task(task_id: str, now) -> None:
    if not task_id or not apps.is_installed("django_tasks_db"):
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id=task_id, status="RUNNING").update(
        status="FAILED", finished_at=now
    )


# -- running a job ----------------------------------------------------------------------------


class JobRun:
    """What a job kind's function gets: the job, its params, and the way to report.

    - ``progress(done, total=None, message=None)``: how far the work is; numbers only grow.
      Cheap to call often: with a heartbeat thread it is written at the next beat.
    - ``check_cancelled()``: raises ``JobCancelled`` once someone asked to cancel (call it
      between steps; an atomic kind's work then rolls back).
    - ``checkpoint(done)``: for non-atomic kinds, records ``done`` inside the caller's own
      transaction, so a retried run can resume after the last committed step
      (``run.job.done`` tells where).
    """

    def __init__(self, job: Job) -> None:
        self.job = job
        self.params: dict[str, Any] = dict(job.params or {})
        self._lock = threading.Lock()
        self._done = job.done
        self._total = job.total
        self._message: str | None = None
        self._cancelled = threading.Event()
        self.threaded = False

    def _fence(self) -> Q:
        return Q(pk=self.job.pk, state=JobState.RUNNING, attempts=self.job.attempts)

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        with self._lock:
            self._done = max(self._done, int(done))
            if total is not None:
                self._total = max(self._total, int(total))
            if message is not None:
                self._message = message[:MESSAGE_MAX]
        if not self.threaded:
            self.flush()

    def checkpoint(self, done: int) -> None:
        self.progress(done)
        Job.objects.filter(self._fence()).update(done=Greatest(F("done"), int(done)))

    def flush(self) -> bool:
        """Write the progress and heartbeat; read ``cancel_requested``. False when the job
        is no longer this run's."""
        with self._lock:
            fields: dict[str, Any] = {
                "done": Greatest(F("done"), self._done),
                "total": Greatest(F("total"), self._total),
                "heartbeat_at": timezone.now(),
            }
            if self._message is not None:
                fields["message"] = self._message
        ours = Job.objects.filter(self._fence()).update(**fields)
        if not ours or Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            self._cancelled.set()
        return bool(ours)

    def check_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise JobCancelled("Cancelled.")
        if not self.threaded and Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled("Cancelled.")

    def numbers(self) -> tuple[int, int]:
        with self._lock:
            return self._done, self._total


class _Heartbeat(threading.Thread):
    """Writes the run's heartbeat and progress on its own connection until stopped."""

    def __init__(self, run: JobRun) -> None:
        super().__init__(name=f"job-heartbeat-{run.job.pk}", daemon=True)
        self.run_ = run
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.wait(heartbeat_seconds()):
                try:
                    self.run_.flush()
                except OperationalError as exc:  # SQLite: the work holds the write lock
                    log.debug("heartbeat deferred: %s", exc)
        finally:
            connection.close()


def job_run(*, job_id: uuid.UUID | str) -> str:
    """Claim and run one job (the body of the queue's task). Returns the state it left.

    Never raises for the work's own errors: they become the job's ``failed`` state and
    ``errors``, so the task queue sees a task that ran.
    """
    jobs_reap()
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
    )
    job = Job.objects.filter(pk=job_id).first()
    if not claimed or job is None:
        return job.state if job is not None else "missing"
    kind = kind_for(job.kind)
    run = JobRun(job)
    if kind is None:
        _finish_failed(run, f"Unknown job kind {job.kind!r}.", "LookupError")
        return JobState.FAILED
    heartbeat = None
    if not connection.in_atomic_block:
        run.threaded = True
        heartbeat = _Heartbeat(run)
        heartbeat.start()
    try:
        if kind.atomic:
            atomic_write(_run_atomic)(run, kind.func)
        else:
            value = kind.func(run)
            run.check_cancelled()
            if not _finish_done(run, value):
                raise _LeaseLost()
        return JobState.DONE
    except JobCancelled:
        _finish_cancelled(run)
        return JobState.CANCELLED
    except _LeaseLost:
        _finish_cancelled(run, only_if_asked=True)  # else it was reaped: not ours any more
        return Job.objects.get(pk=job.pk).state
    except Exception as exc:
        log.exception("job %s (%s) failed", job.pk, job.kind)
        _finish_failed(run, str(exc) or type(exc).__name__, type(exc).__name__, exc)
        return JobState.FAILED
    finally:
        if heartbeat is not None:
            heartbeat.stopping.set()
            heartbeat.join()


def _run_atomic(run: JobRun, func) -> None:
    value = func(run)
    run.check_cancelled()
    if not _finish_done(run, value):
        raise _LeaseLost()  # rolls the work back


def _finish_done(run: JobRun, value: Any) -> bool:
    """Mark the run's job done (fenced; not when a cancel was asked). ``value``: the kind's
    result; a dict's ``url`` becomes the result link."""
    done, total = run.numbers()
    total = max(done, total)
    result_url = value.get("url", "") if isinstance(value, dict) else ""
    return bool(
        Job.objects.filter(run._fence(), cancel_requested=False).update(
            state=JobState.DONE,
            done=Greatest(F("done"), F("total"), total),
            total=Greatest(F("total"), total),
            result=value,
            result_url=str(result_url)[:500],
            message=(run._message or "Done.")[:MESSAGE_MAX],
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )
    )


def _finish_cancelled(run: JobRun, only_if_asked: bool = False) -> None:
    fence = run._fence() & Q(cancel_requested=True) if only_if_asked else run._fence()
    Job.objects.filter(fence).update(
        state=JobState.CANCELLED, finished_at=timezone.now(), message="Cancelled."
    )


def _finish_failed(run: JobRun, message: str, type_name: str, exc: Exception | None = None) -> None:
    error: dict[str, Any] = {"message": message[:2000], "type": type_name}
    details = getattr(exc, "errors", None)
    if isinstance(details, dict) and details:
        error["errors"] = details
    done, total = run.numbers()
    Job.objects.filter(run._fence()).update(
        state=JobState.FAILED,
        errors=[error],
        done=Greatest(F("done"), done),
        total=Greatest(F("total"), total),
        message=message[:MESSAGE_MAX],
        finished_at=timezone.now(),
    )
