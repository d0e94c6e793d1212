"""Reads of jobs, through the one access query: a job is visible to whoever may see its
dataset (``seeme.selectors.dataset_for_user``); a job without a dataset to staff and its
creator."""

import uuid

from django.db.models import QuerySet
from django.http import Http404

from seeme.jobs.models import Job
from seeme.models import Dataset
from seeme.selectors import AnyUser, dataset_for_user

JOB_LIST_LIMIT = 100


def job_for_user(user: AnyUser, job_id: uuid.UUID) -> Job:
    """The job if the user may see its dataset (Http404 otherwise, as for a missing job).
    Two queries: the job, then the access query on its dataset."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not user.is_authenticated:
        raise Http404("No such job.")
    if job.dataset_id is None:
        if user.is_staff or job.created_by_id == user.pk:
            return job
        raise Http404("No such job.")
    try:
        job.dataset = dataset_for_user(user, job.dataset_id)
    except Http404 as exc:
        raise Http404("No such job.") from exc
    return job


def job_list_for_dataset(*, dataset: Dataset, limit: int = JOB_LIST_LIMIT) -> QuerySet[Job]:
    """The dataset's most recent jobs, newest first (the caller checked access)."""
    return (
        Job.objects.filter(dataset=dataset)
        .select_related("created_by")
        .order_by("-created_at", "id")[:limit]
    )
