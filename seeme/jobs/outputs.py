"""Files that jobs leave for download (a large export): kept in the file storage under
``exports/<job id>.zip`` and served by ``GET /api/v1/jobs/{id}/download`` to whoever may
see the job. A file belongs to a finished ``done`` job; failed and cancelled jobs leave
none (their kind deletes it, and ``exports_prune`` removes any that slipped through).
Files older than ``SEEME_EXPORT_KEEP_HOURS`` (24) are pruned: the next export job does it,
and ``manage.py prune_exports``."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from seeme.files import file_storage
from seeme.jobs.models import FINISHED_STATES, Job, JobState

PREFIX = "exports"


def export_file_name(job_id: uuid.UUID | str) -> str:
    return f"{PREFIX}/{job_id}.zip"


def keep_hours() -> float:
    return float(getattr(settings, "SEEME_EXPORT_KEEP_HOURS", 24))


def export_file_discard(name: str) -> None:
    storage = file_storage()
    if storage.exists(name):
        storage.delete(name)


def job_export_file(job: Job) -> str | None:
    """The name of the job's file when it is a done job's and still kept; else None."""
    result = job.result if isinstance(job.result, dict) else {}
    name = export_file_name(job.pk)
    if job.state != JobState.DONE or result.get("file") != name:
        return None
    return name if file_storage().exists(name) else None


def exports_prune(*, max_age: timedelta | None = None) -> int:
    """Delete export files older than ``max_age`` (``SEEME_EXPORT_KEEP_HOURS``), and those
    of jobs that finished without being done (or no longer exist); returns how many."""
    storage = file_storage()
    try:
        names = [n for n in storage.listdir(PREFIX)[1] if n.endswith(".zip")]
    except FileNotFoundError:
        return 0
    cutoff = timezone.now() - (max_age if max_age is not None else timedelta(hours=keep_hours()))
    ids: dict[str, uuid.UUID] = {}
    for name in names:
        try:
            ids[name] = uuid.UUID(name[: -len(".zip")])
        except ValueError:
            continue
    states = dict(Job.objects.filter(pk__in=ids.values()).values_list("pk", "state"))
    removed = 0
    for name in names:
        path = f"{PREFIX}/{name}"
        job_id = ids.get(name)
        state = states.get(job_id) if job_id is not None else None
        orphan = state is None or (state in FINISHED_STATES and state != JobState.DONE)
        if orphan or storage.get_modified_time(path) < cutoff:
            storage.delete(path)
            removed += 1
    return removed
