"""Running one job: claim, the work, the heartbeat, the fenced finish (see
``seeme.jobs.services`` for the whole story; the stable names are re-exported there)."""

import logging
import threading
import uuid
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from seeme.db import atomic_write
from seeme.jobs.models import Job, JobState
from seeme.jobs.registry import kind_for

log = logging.getLogger(__name__)

MESSAGE_MAX = 500


class JobCancelled(Exception):
    """Raised inside a run by ``JobRun.check_cancelled`` once a cancel was asked for."""


class _LeaseLost(Exception):
    """The job is no longer this run's (reaped, or cancelled): its writes must not land."""


def heartbeat_seconds() -> float:
    return float(getattr(settings, "SEEME_JOB_HEARTBEAT_SECONDS", 5))


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
        """Record ``done`` in the caller's transaction; raises (rolling the step back) when
        the job is no longer this run's or a cancel was asked."""
        self.progress(done)
        ours = Job.objects.filter(self._fence(), cancel_requested=False).update(
            done=Greatest(F("done"), int(done))
        )
        if not ours:
            if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
                raise JobCancelled("Cancelled.")
            raise _LeaseLost()

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
    from seeme.jobs.services import jobs_reap  # services imports this module

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
