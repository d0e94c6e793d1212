import pytest
from django_tasks_db.management.commands import db_worker

from seeme.jobs.models import Job


def drain_queue() -> None:
    """Run the real django-tasks database worker loop in this process until the queue is
    empty (``--batch``), inside the test's transaction."""
    worker = db_worker.Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    original = db_worker.close_old_connections
    # The loop closes "obsolete" connections: inside a test transaction that would close
    # the test's own connection.
    db_worker.close_old_connections = lambda: None
    try:
        worker.run()
    finally:
        db_worker.close_old_connections = original


@pytest.fixture
def run_jobs():
    return drain_queue


def fresh(job: Job) -> Job:
    job.refresh_from_db()
    return job
