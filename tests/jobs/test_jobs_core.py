"""The job machinery on the real database task backend, run by the real worker loop."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from seeme.exceptions import Conflict, InvalidInput
from seeme.jobs.models import Job, JobState
from seeme.jobs.registry import job_kind
from seeme.jobs.services import JobRun, enqueue_job, job_cancel, jobs_reap
from tests.jobs.conftest import fresh

pytestmark = pytest.mark.django_db


def test_a_job_is_queued_with_its_task_and_the_worker_runs_it(user, dataset, run_jobs):
    job = enqueue_job("noop", dataset=dataset, user=user, params={"steps": 3})
    assert job.state == JobState.QUEUED
    assert DBTaskResult.objects.filter(id=job.task_id, status="READY").exists()
    run_jobs()
    job = fresh(job)
    assert job.state == JobState.DONE
    assert (job.done, job.total) == (3, 3)
    assert job.result == {"steps": 3}
    assert job.attempts == 1
    assert job.started_at <= job.finished_at
    assert DBTaskResult.objects.get(id=job.task_id).status == "SUCCESSFUL"


def test_unknown_kind_is_refused(user, dataset):
    with pytest.raises(InvalidInput):
        enqueue_job("no-such-kind", dataset=dataset, user=user)
    assert not Job.objects.exists()


def test_a_failing_job_keeps_its_error(user, dataset, run_jobs):
    job = enqueue_job("noop", dataset=dataset, user=user, params={"steps": 2, "fail": "boom"})
    run_jobs()
    job = fresh(job)
    assert job.state == JobState.FAILED
    assert job.errors == [{"message": "boom", "type": "RuntimeError"}]
    assert job.message == "boom"
    assert job.done == 2


def test_cancel_a_queued_job_means_it_never_runs(user, dataset, run_jobs):
    job = enqueue_job("noop", dataset=dataset, user=user, params={"steps": 2})
    assert job_cancel(job=job).state == JobState.CANCELLED
    run_jobs()
    job = fresh(job)
    assert job.state == JobState.CANCELLED
    assert job.attempts == 0 and job.done == 0


def test_cancel_a_finished_job_is_a_conflict(user, dataset, run_jobs):
    job = enqueue_job("noop", dataset=dataset, user=user)
    run_jobs()
    with pytest.raises(Conflict):
        job_cancel(job=fresh(job))


@job_kind("test.cancelled_midway")
def _cancelled_midway(run: JobRun) -> dict:
    """Writes something, then someone cancels; the atomic kind's write must roll back."""
    Job.objects.filter(pk=run.job.pk).update(message="partial work")
    job_cancel(job=Job.objects.get(pk=run.job.pk))
    run.check_cancelled()
    return {"unreachable": True}


def test_cancel_a_running_job_rolls_its_work_back(user, dataset, run_jobs):
    job = enqueue_job("test.cancelled_midway", dataset=dataset, user=user)
    run_jobs()
    job = fresh(job)
    assert job.state == JobState.CANCELLED
    assert job.result is None
    assert job.message == "Cancelled."


@job_kind("test.ignores_cancel")
def _ignores_cancel(run: JobRun) -> dict:
    other = Job.objects.get(pk=run.params["witness"])
    other.message = "written by the cancelled run"
    other.save(update_fields=["message"])
    job_cancel(job=Job.objects.get(pk=run.job.pk))
    return {"done": True}


def test_a_cancel_wins_even_when_the_kind_never_checks(user, dataset, run_jobs):
    witness = Job.objects.create(kind="noop", dataset=dataset, state=JobState.DONE)
    job = enqueue_job(
        "test.ignores_cancel", dataset=dataset, user=user, params={"witness": str(witness.pk)}
    )
    run_jobs()
    assert fresh(job).state == JobState.CANCELLED
    assert fresh(witness).message == ""  # the atomic run's write was rolled back


@job_kind("test.shrinking_progress")
def _shrinking(run: JobRun) -> None:
    for done in (5, 3, 8, 2, 10):
        run.progress(done, 10)


def test_progress_only_grows_and_ends_at_total(user, dataset, run_jobs, monkeypatch):
    seen = []
    original = JobRun.flush

    def recording_flush(self):
        ok = original(self)
        seen.append(Job.objects.values_list("done", "total").get(pk=self.job.pk))
        return ok

    monkeypatch.setattr(JobRun, "flush", recording_flush)
    job = enqueue_job("test.shrinking_progress", dataset=dataset, user=user)
    run_jobs()
    assert seen == [(5, 10), (5, 10), (8, 10), (8, 10), (10, 10)]
    job = fresh(job)
    assert (job.state, job.done, job.total) == (JobState.DONE, 10, 10)


def test_the_same_idempotency_key_gives_the_same_job(user, dataset):
    first = enqueue_job("noop", dataset=dataset, user=user, idempotency_key="form-token-1")
    again = enqueue_job("noop", dataset=dataset, user=user, idempotency_key="form-token-1")
    assert again.pk == first.pk
    assert Job.objects.count() == 1 and DBTaskResult.objects.count() == 1


def _stale(job: Job, attempts: int) -> None:
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING,
        attempts=attempts,
        heartbeat_at=timezone.now() - timedelta(hours=1),
    )


def test_a_job_whose_worker_died_is_retried_then_runs_once(user, dataset, run_jobs, settings):
    settings.SEEME_JOB_MAX_ATTEMPTS = 2
    job = enqueue_job("noop", dataset=dataset, user=user, params={"steps": 1})
    first_task = job.task_id
    DBTaskResult.objects.filter(id=first_task).update(status="RUNNING")
    _stale(job, attempts=1)
    assert jobs_reap() == 1
    job = fresh(job)
    assert job.state == JobState.QUEUED and job.task_id != first_task
    assert "Retrying" in job.message
    assert DBTaskResult.objects.get(id=first_task).status == "FAILED"
    run_jobs()
    job = fresh(job)
    assert (job.state, job.attempts) == (JobState.DONE, 2)


def test_a_job_out_of_attempts_is_failed_not_running_forever(user, dataset, settings):
    settings.SEEME_JOB_MAX_ATTEMPTS = 2
    job = enqueue_job("noop", dataset=dataset, user=user)
    _stale(job, attempts=2)
    jobs_reap()
    job = fresh(job)
    assert job.state == JobState.FAILED
    assert "stopped answering" in job.errors[0]["message"]


def test_a_fresh_heartbeat_is_not_reaped(user, dataset):
    job = enqueue_job("noop", dataset=dataset, user=user)
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )
    assert jobs_reap() == 0
    assert fresh(job).state == JobState.RUNNING


@job_kind("test.loses_its_lease")
def _loses_lease(run: JobRun) -> dict:
    other = Job.objects.get(pk=run.params["witness"])
    other.message = "written by a run that lost its lease"
    other.save(update_fields=["message"])
    # As if the reaper had given the job to another attempt meanwhile: this run's attempt
    # number no longer matches the row's.
    run.job.attempts += 1
    return {"done": True}


def test_a_run_that_lost_its_lease_keeps_nothing(user, dataset, run_jobs):
    witness = Job.objects.create(kind="noop", dataset=dataset, state=JobState.DONE)
    job = enqueue_job(
        "test.loses_its_lease", dataset=dataset, user=user, params={"witness": str(witness.pk)}
    )
    run_jobs()
    assert fresh(witness).message == ""  # the work rolled back
    job = fresh(job)
    assert job.result is None and job.state == JobState.RUNNING  # left for the reaper
