"""The one queue task: run a job by id. Django's tasks API (``django.tasks`` from Django 6,
the ``django_tasks`` backport before it); the backend is ``settings.TASKS``."""

try:  # Django >= 6.0
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # Django 5.2: the backport
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

from seeme.jobs.services import job_run


@task()
def run_job(job_id: str) -> str:
    """Claim and run the job; its outcome is on the job row (the task itself succeeds)."""
    return str(job_run(job_id=job_id))
