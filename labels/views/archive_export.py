"""The export form of the version and split pages (``labels/_archive_export.html``): the
zip streamed in the answer, as the API's ``…/download`` does; past ``SEEME_SYNC_LIMIT``
items an ``archive_export`` job instead, and the job's page, whose result link downloads
the zip. The form's one-time ``job_token`` makes a form sent twice one job."""

import hashlib
import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from labels.archive.export import EXPORT_FORMATS, export_zip
from labels.archive.jobs import export_enqueue, export_filename, export_runs_as_job
from labels.archive.rows import ExportScope
from seeme.models import Version
from seeme.selectors import version_for_user
from splits.models import DatasetSplit


def zip_response(version: Version, split: DatasetSplit | None, fmt: str) -> StreamingHttpResponse:
    """The export streamed as an attachment (no transaction held, memory flat)."""
    scope = ExportScope.of(version, split)
    response = StreamingHttpResponse(export_zip(scope, fmt), content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="{export_filename(version, split, fmt)}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def job_key(token: str, fmt: str, split: DatasetSplit | None) -> str:
    """The idempotency key of one form submit: its token, format and split (another format
    chosen on the same page is another export)."""
    if not token:
        return ""
    return hashlib.sha256(f"{token}|{fmt}|{split.pk if split else ''}".encode()).hexdigest()


@login_required
@require_POST
def archive_export(
    request, dataset_id: uuid.UUID, version_id: uuid.UUID, split_id: uuid.UUID | None = None
):
    version = version_for_user(request.user, dataset_id, version_id)
    split = get_object_or_404(DatasetSplit, pk=split_id, version=version) if split_id else None
    fmt = request.POST.get("format", "")
    if fmt not in EXPORT_FORMATS:
        return HttpResponseBadRequest(f"Unknown format; use one of {', '.join(EXPORT_FORMATS)}.")
    if not export_runs_as_job(version, split):
        return zip_response(version, split, fmt)
    job = export_enqueue(
        version=version,
        split=split,
        fmt=fmt,
        user=request.user,
        key=job_key(request.POST.get("job_token", ""), fmt, split),
    )
    return redirect("seeme:job-detail", job_id=job.pk)
