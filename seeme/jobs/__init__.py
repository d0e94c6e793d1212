"""Long work as jobs: a job record per run, on Django's task queue (django-tasks).

The stable API for code that starts or does long work (docs/architecture.md, "Jobs"):

- ``enqueue_job(kind, *, dataset, user, params, total=0, message="", idempotency_key="")
  -> Job`` records a job and queues it (``seeme.jobs.services``).
- ``job_kind(name, *, atomic=True, title="")`` registers the function doing a kind's work;
  it gets a ``JobRun`` (``run.params``, ``run.progress(done, total, message)``,
  ``run.check_cancelled()``, ``run.checkpoint(done)``, ``run.job``) and returns a JSON-able
  result (a dict's ``url`` is the result link).
- ``job_cancel(job=...)``, ``jobs_reap()``; reads: ``job_for_user``,
  ``job_list_for_dataset`` (``seeme.jobs.selectors``).

Import the model from ``seeme.jobs.models`` and the services from ``seeme.jobs.services``
inside Django code; this package module re-exports them lazily so that importing
``seeme.jobs`` never needs the app registry.
"""

from typing import Any

__all__ = [
    "FINISHED_STATES",
    "Job",
    "JobCancelled",
    "JobRun",
    "JobState",
    "enqueue_job",
    "job_cancel",
    "job_for_user",
    "job_kind",
    "job_list_for_dataset",
    "jobs_reap",
]

_WHERE = {
    "FINISHED_STATES": "seeme.jobs.models",
    "Job": "seeme.jobs.models",
    "JobState": "seeme.jobs.models",
    "JobCancelled": "seeme.jobs.services",
    "JobRun": "seeme.jobs.services",
    "enqueue_job": "seeme.jobs.services",
    "job_cancel": "seeme.jobs.services",
    "jobs_reap": "seeme.jobs.services",
    "job_kind": "seeme.jobs.registry",
    "job_for_user": "seeme.jobs.selectors",
    "job_list_for_dataset": "seeme.jobs.selectors",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(name)
