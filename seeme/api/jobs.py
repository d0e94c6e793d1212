"""API of jobs: ``GET /jobs/{id}``, ``POST /jobs/{id}/cancel``, ``GET /datasets/{id}/jobs``.

A job is visible to whoever may see its dataset (``seeme.jobs.selectors.job_for_user``);
others get 404. Reading a job reaps it first when its worker stopped answering, so no reader
ever sees a dead job as running. Cancelling needs the role that may start jobs (editor).
``GET /jobs/{id}/download`` streams the file a done job left (a large export), to the same
readers; 404 when there is none (not done, failed, cancelled, or pruned).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response

from seeme.api.scoping import ERROR, DatasetChildMixin, path_uuid
from seeme.files import file_storage
from seeme.jobs.models import Job
from seeme.jobs.outputs import job_export_file
from seeme.jobs.selectors import job_for_user, job_list_for_dataset
from seeme.jobs.services import job_cancel, jobs_reap
from seeme.selectors import Rank, dataset_for_user


class JobSerializer(serializers.ModelSerializer):
    """A job: ``state`` queued|running|done|failed|cancelled, ``done`` of ``total``,
    ``result`` (the kind's answer) with ``result_url``, ``errors`` when failed."""

    dataset_id = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "state",
            "done",
            "total",
            "message",
            "result",
            "result_url",
            "errors",
            "created_at",
            "started_at",
            "finished_at",
            "dataset_id",
            "cancel_requested",
            "attempts",
            "url",
        ]
        read_only_fields = fields

    def get_dataset_id(self, job: Job) -> str | None:
        return str(job.dataset_id) if job.dataset_id else None

    def get_url(self, job: Job) -> str:
        return reverse("job-detail", kwargs={"pk": job.pk})


def job_response(job: Job, code: int = status.HTTP_200_OK) -> Response:
    """The job as JSON (202 when answering a request that started long work)."""
    return Response(JobSerializer(job).data, status=code)


def _visible_job(request, kwargs) -> Job:
    job_id = path_uuid(kwargs, "pk")
    jobs_reap(job_ids=[job_id])
    try:
        return job_for_user(request.user, job_id)
    except Http404 as exc:
        raise exceptions.NotFound() from exc


class JobViewSet(viewsets.GenericViewSet):
    serializer_class = JobSerializer
    queryset = Job.objects.none()

    @extend_schema(responses={200: JobSerializer, 404: ERROR})
    def retrieve(self, request, *args, **kwargs):
        """A job's state and progress."""
        return job_response(_visible_job(request, kwargs))

    @extend_schema(request=None, responses={200: JobSerializer, 403: ERROR, 404: ERROR, 409: ERROR})
    def cancel(self, request, *args, **kwargs):
        """Cancel a job: a queued one at once, a running one at its next step (its work is
        rolled back). 409 when it already finished."""
        job = _visible_job(request, kwargs)
        if job.dataset_id is not None:
            try:
                dataset_for_user(request.user, job.dataset_id, min_rank=Rank.EDITOR)
            except DjangoPermissionDenied as exc:  # sees the dataset, is not an editor
                raise exceptions.PermissionDenied(str(exc)) from exc
        return job_response(job_cancel(job=job))

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, "The file"),
            404: ERROR,
        }
    )
    def download(self, request, *args, **kwargs):
        """The file a done job left (an export job's zip), as an attachment. 404 when the
        job is not done, left no file, or its file was pruned (SEEME_EXPORT_KEEP_HOURS)."""
        job = _visible_job(request, kwargs)
        name = job_export_file(job)
        if name is None:
            raise exceptions.NotFound("This job has no file to download (or it was pruned).")
        filename = str((job.result or {}).get("filename") or f"{job.pk}.zip")
        response = FileResponse(
            file_storage().open(name, "rb"),
            as_attachment=True,
            filename=filename,
            content_type="application/zip",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class DatasetJobViewSet(DatasetChildMixin, viewsets.GenericViewSet):
    serializer_class = JobSerializer
    queryset = Job.objects.none()
    action_ranks = {"list": int(Rank.VIEWER)}

    @extend_schema(responses={200: JobSerializer(many=True), 404: ERROR})
    def list(self, request, *args, **kwargs):
        """The dataset's most recent jobs (at most 100), newest first."""
        dataset = self.scoped_dataset
        jobs = list(job_list_for_dataset(dataset=dataset))
        if jobs_reap(job_ids=[j.pk for j in jobs if j.state == "running"]):
            jobs = list(job_list_for_dataset(dataset=dataset))
        return Response(JobSerializer(jobs, many=True).data)
