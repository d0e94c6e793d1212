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
import uuid
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, OperationalError
from django.db.models import Q
from django.utils import timezone

from seeme.db import atomic_write
from seeme.exceptions import Conflict, InvalidInput
from seeme.jobs.models import Job, JobState
from seeme.jobs.registry import kind_for
from seeme.jobs.runner import MESSAGE_MAX, JobCancelled, JobRun, job_run
from seeme.models import Dataset, User

# The stable API (docs/architecture.md "Jobs") imports these from here.
__all__ = ["JobCancelled", "JobRun", "enqueue_job", "job_cancel", "job_run", "jobs_reap"]

log = logging.getLogger(__name__)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def lease_seconds() -> float:
    return _setting("SEEME_JOB_LEASE_SECONDS", 120)


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
