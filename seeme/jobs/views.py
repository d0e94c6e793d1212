"""Job pages: one job's progress (with cancel), and a dataset's jobs. Access as in the API:
whoever may see the dataset sees its jobs; strangers get 404; cancelling needs editor."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from seeme.exceptions import Conflict
from seeme.jobs.models import FINISHED_STATES
from seeme.jobs.registry import kind_for
from seeme.jobs.selectors import job_for_user, job_list_for_dataset
from seeme.jobs.services import job_cancel, jobs_reap
from seeme.selectors import Rank, dataset_for_user

# Without JavaScript the page reloads itself this often while the job runs.
REFRESH_SECONDS = 2


def _title(kind: str) -> str:
    found = kind_for(kind)
    return found.title if found else kind


@login_required
@require_safe
def job_detail(request, job_id: uuid.UUID):
    jobs_reap(job_ids=[job_id])
    job = job_for_user(request.user, job_id)
    can_cancel = False
    if job.dataset is not None:
        can_cancel = getattr(job.dataset, "rank", Rank.NONE) >= Rank.EDITOR
    percent = round(100 * job.done / job.total) if job.total else (100 if job.finished else 0)
    return render(
        request,
        "seeme/job_detail.html",
        {
            "job": job,
            "dataset": job.dataset,
            "title": _title(job.kind),
            "finished": job.state in FINISHED_STATES,
            "percent": percent,
            "can_cancel": can_cancel and job.state not in FINISHED_STATES,
            "refresh_seconds": REFRESH_SECONDS,
        },
    )


@login_required
@require_POST
def job_cancel_page(request, job_id: uuid.UUID):
    job = job_for_user(request.user, job_id)
    if job.dataset_id is not None:
        dataset_for_user(request.user, job.dataset_id, min_rank=Rank.EDITOR)
    try:
        job = job_cancel(job=job)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        if job.state == "cancelled":
            messages.success(request, "The job is cancelled.")
        else:
            messages.success(request, "Cancelling: the job stops at its next step.")
    return redirect("seeme:job-detail", job_id=job.pk)


@login_required
@require_safe
def dataset_jobs(request, dataset_id: uuid.UUID):
    dataset = dataset_for_user(request.user, dataset_id)
    jobs = list(job_list_for_dataset(dataset=dataset))
    if jobs_reap(job_ids=[j.pk for j in jobs if j.state == "running"]):
        jobs = list(job_list_for_dataset(dataset=dataset))
    rows = [(job, _title(job.kind)) for job in jobs]
    return render(request, "seeme/job_list.html", {"dataset": dataset, "rows": rows})
