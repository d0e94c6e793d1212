"""Real workers: ``manage.py db_worker`` subprocesses on the test database (PostgreSQL: the
SQLite test database lives in this process's memory).

- a worker killed with SIGKILL in the middle of a version duplicate: its work is rolled
  back, the job is seen retried (never "running" forever), and the retry makes exactly one
  copy with exact statistics;
- two workers on one queue: every job runs exactly once (the queue takes tasks with
  ``SELECT ... FOR UPDATE SKIP LOCKED``; the job's own claim is a conditional UPDATE).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from labels import services as label_services
from seeme.jobs.models import Job, JobState
from seeme.jobs.services import enqueue_job
from seeme.models import Version
from tests.conftest import assert_stats_exact, client_for
from tests.factories import DatasetFactory, LabelFactory, UserFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
LEASE = 2.0
HEARTBEAT = 0.3


@pytest.fixture(autouse=True)
def _postgres_and_short_leases(settings):
    if connection.vendor != "postgresql":
        pytest.skip("worker subprocesses need a database they can share: PostgreSQL")
    settings.SEEME_JOB_LEASE_SECONDS = LEASE
    settings.SEEME_JOB_HEARTBEAT_SECONDS = HEARTBEAT


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(worker_id: str, *, batch: bool) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SECRET_KEY": "test-worker",
        "DJANGO_DEBUG": "false",
        "SEEME_JOB_LEASE_SECONDS": str(LEASE),
        "SEEME_JOB_HEARTBEAT_SECONDS": str(HEARTBEAT),
    }
    args = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
    args += ["--worker-id", worker_id, "--interval", "0.05", "-v0"]
    if batch:
        args.append("--batch")
    return subprocess.Popen(args, cwd=ROOT, env=env)


def wait_for(condition, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _backends_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        # Activity statistics are a snapshot per transaction unless cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_mid_duplicate_is_retried_and_copies_once():
    owner = UserFactory()
    dataset = DatasetFactory(owner=owner)
    version = dataset.versions.get()
    train = version.splits.get(name="train")
    LabelFactory(version=version, name="cat")
    label_services.add_inferences(
        split=train,
        user=None,
        inferences=[{"name": f"c{i}", "prediction": "cat"} for i in range(50)],
    )
    job = enqueue_job(
        "version_duplicate",
        dataset=dataset,
        user=owner,
        params={"version_id": str(version.pk), "name": "copy"},
    )
    first_task = job.task_id
    worker = start_worker("doomed", batch=False)
    try:
        with transaction.atomic():
            # Hold the statistics table: the worker copies items, memberships and
            # annotations, then waits here, in the middle of its transaction.
            with connection.cursor() as cursor:
                cursor.execute("LOCK TABLE labels_labelstat IN SHARE MODE")
            wait_for(_backends_waiting_on_a_lock, what="the worker to reach the stats copy")
            running = Job.objects.get(pk=job.pk)
            assert running.state == JobState.RUNNING and running.attempts == 1
            time.sleep(LEASE + 0.5)  # blocked but alive: its heartbeat keeps the lease
            assert Job.objects.get(pk=job.pk).state == JobState.RUNNING
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    # The dead worker's transaction ends without a commit; its heartbeat stops.
    wait_for(lambda: not _backends_waiting_on_a_lock(), what="the dead worker's backend")
    api = client_for(owner)
    url = reverse("job-detail", kwargs={"pk": job.pk})
    assert api.get(url).json()["state"] == "running"  # within the lease: not yet judged
    time.sleep(LEASE + 0.5)
    seen = api.get(url).json()
    assert seen["state"] == "queued" and "Retrying" in seen["message"]
    assert Version.objects.filter(dataset=dataset).count() == 1  # nothing of attempt 1
    assert DBTaskResult.objects.get(id=first_task).status == "FAILED"

    retry = start_worker("second", batch=True)
    assert retry.wait(timeout=60) == 0
    done = api.get(url).json()
    assert done["state"] == "done", done
    assert done["attempts"] == 2
    assert done["done"] == done["total"] == 50
    assert Version.objects.filter(dataset=dataset).count() == 2
    copy = Version.objects.get(pk=done["result"]["version_id"])
    assert copy.name == "copy" and copy.items.count() == 50
    assert_stats_exact()


def test_two_workers_on_one_queue_never_run_a_job_twice():
    owner = UserFactory()
    dataset = DatasetFactory(owner=owner)
    jobs = [
        enqueue_job("noop", dataset=dataset, user=owner, params={"steps": 2, "sleep": 0.1})
        for _ in range(40)
    ]
    workers = [start_worker("w1", batch=True), start_worker("w2", batch=True)]
    for worker in workers:
        assert worker.wait(timeout=120) == 0
    rows = list(Job.objects.filter(pk__in=[j.pk for j in jobs]))
    assert {row.state for row in rows} == {JobState.DONE}
    assert {row.attempts for row in rows} == {1}
    assert {(row.done, row.total) for row in rows} == {(2, 2)}
    tasks = list(DBTaskResult.objects.filter(id__in=[j.task_id for j in jobs]))
    assert len(tasks) == 40
    assert all(len(t.worker_ids) == 1 for t in tasks)
    by_worker = {t.worker_ids[0] for t in tasks}
    assert by_worker == {"w1", "w2"}, "both workers should have taken jobs from the queue"
