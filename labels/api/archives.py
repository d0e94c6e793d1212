"""API of whole versions as zip archives: ``…/upload[/{format}]`` imports an archive (or,
with ``?dry_run=true``, reports what it would import), ``…/download[/{split_id}]`` streams
the version (or one split) as a zip. Thin views: the archive, the plan, the import and the
export live in ``labels.archive`` and ``labels.services.imports``."""

from django.core.files.uploadhandler import FileUploadHandler
from django.db.models import Prefetch
from django.http import StreamingHttpResponse
from drf_spectacular.plumbing import build_parameter_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, renderers, serializers, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from labels.archive import FORMATS, SafeArchive, detect_format
from labels.archive.export import EXPORT_FORMATS, export_zip
from labels.archive.jobs import ARCHIVE_IMPORT, runs_as_job
from labels.archive.plan import ArchiveRejected, ArchiveTooLarge
from labels.archive.rows import ExportScope
from labels.archive.safety import limits
from labels.archive.staging import stage
from labels.models import Label
from labels.services.imports import plan_for_version, plan_summary, version_import
from seeme.api.jobs import JobSerializer, job_response
from seeme.api.schema import SeemeAutoSchema
from seeme.api.scoping import EDIT, ERROR, READ, VersionChildMixin, path_uuid
from seeme.api.serializers import VersionSerializer
from seeme.jobs.services import enqueue_job
from seeme.models import ContentType, Version
from splits.models import DatasetSplit


class UploadParams(serializers.Serializer):
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Report what the archive would import."
    )


def rejection(exc: ArchiveRejected, report: dict | None = None) -> Response:
    """The 400 of an archive with problems: every problem (entry, line, reason)."""
    body = {
        "message": exc.message,
        "errors": exc.errors,
        "problem_count": len(exc.problems),
        "problems": [p.as_dict() for p in exc.problems[:1000]],
    }
    if report is not None:
        body["report"] = report
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def version_json(version: Version) -> dict:
    version = Version.objects.prefetch_related(
        Prefetch("labels", queryset=Label.objects.order_by("index")),
        Prefetch("splits", queryset=DatasetSplit.objects.order_by("created_at", "id")),
    ).get(pk=version.pk)
    return VersionSerializer(version).data


class _ArchiveSizeLimit(FileUploadHandler):
    """Stops reading the upload as soon as it passes the archive limit (413), before Django
    has spooled the rest of it to disk."""

    def receive_data_chunk(self, raw_data, start):
        limit = limits()["max_unpacked"]
        if start + len(raw_data) > limit:
            raise ArchiveTooLarge(start + len(raw_data), limit)
        return raw_data

    def file_complete(self, file_size):
        return None


def uploaded_archive(request):
    """The multipart part ``file``: refused (413) past the limit, by its Content-Length
    before reading, else as soon as the bytes read pass it."""
    limit = limits()["max_unpacked"]
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + (1 << 20):
        raise ArchiveTooLarge(length, limit)
    request._request.upload_handlers.insert(0, _ArchiveSizeLimit(request._request))
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationError(
            {"file": ["Send the zip as a multipart/form-data part named 'file'."]}
        )
    return upload


def default_export_format(version: Version) -> str:
    """``folders``, but ``csv`` for a tabular dataset (the SDK's ``download_df`` reads
    ``<version_id>.csv`` from the default download)."""
    return "csv" if version.dataset.content_type == ContentType.TABULAR else "folders"


class ArchiveSchema(SeemeAutoSchema):
    """The ``{archive_format}`` of ``…/upload/{archive_format}`` names a format, not a row;
    the routes with and without it (and ``{split_id}``) get their own operation ids."""

    def get_operation_id(self):
        operation_id = super().get_operation_id()
        for variable in ("archive_format", "split_id"):
            if "{" + variable + "}" in self.path:
                operation_id += "_" + variable.split("_")[-1]
        return operation_id

    def _resolve_path_parameters(self, variables):
        params = super()._resolve_path_parameters([v for v in variables if v != "archive_format"])
        if "archive_format" in variables:
            params.append(
                build_parameter_type(
                    name="archive_format",
                    location=OpenApiParameter.PATH,
                    schema={"type": "string", "enum": list(FORMATS)},
                    description="The archive's format; an unknown one answers 400.",
                )
            )
        return params


class ArchiveViewSet(VersionChildMixin, viewsets.ViewSet):
    """Import and export of whole versions as zip archives (SeeMe's dataset formats)."""

    schema = ArchiveSchema()

    parser_classes = [parsers.MultiPartParser]
    action_ranks = {"upload": EDIT, "download": READ}

    def perform_content_negotiation(self, request, force=False):
        # ``?format=`` names the archive format here, not a renderer; answers are JSON.
        return renderers.JSONRenderer(), "application/json"

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        parameters=[UploadParams],
        responses={
            200: OpenApiResponse(VersionSerializer, "The version (dry run: the report)"),
            202: OpenApiResponse(JobSerializer, "A large archive: the job importing it"),
            400: ERROR,
            403: ERROR,
            404: ERROR,
            413: ERROR,
        },
    )
    def upload(self, request, *args, **kwargs):
        """Import a zip into this version: splits and labels by name (created when
        missing), every item with its memberships and annotations, all or nothing. The
        format is the path's, else detected from the archive's root files. An archive past
        SEEME_SYNC_LIMIT files (or SEEME_ARCHIVE_SYNC_MB) is imported by a job: 202."""
        params = UploadParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        version = self.scoped_version
        upload = uploaded_archive(request)
        archive = SafeArchive.open(upload)
        try:
            fmt = kwargs.get("archive_format") or detect_format(archive)
            if fmt in FORMATS and not archive.problems and runs_as_job(archive):
                return self._start_job(version, upload, fmt, params.validated_data["dry_run"])
            plan = plan_for_version(version=version, archive=archive, fmt=fmt)
            if params.validated_data["dry_run"]:
                report = plan_summary(version=version, plan=plan)
                if plan.problems:
                    return rejection(ArchiveRejected(plan.problems), report)
                return Response(report)
            try:
                version_import(version=version, user=request.user, plan=plan, archive=archive)
            except ArchiveRejected as exc:
                return rejection(exc)
        finally:
            archive.close()
        return Response(version_json(version))

    def _start_job(self, version: Version, upload, fmt: str, dry_run: bool) -> Response:
        """A large archive: kept (staging) and imported (or dry-run) by a job; 202."""
        key = stage(upload)
        job = enqueue_job(
            ARCHIVE_IMPORT,
            dataset=version.dataset,
            user=self.request.user,
            params={
                "version_id": str(version.pk),
                "archive": key,
                "format": fmt,
                "dry_run": dry_run,
            },
            message="Queued",
            idempotency_key=self.request.headers.get("Idempotency-Key", ""),
        )
        response = job_response(job, status.HTTP_202_ACCEPTED)
        response["Location"] = JobSerializer(job).data["url"]
        return response

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=list(EXPORT_FORMATS))],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, "The zip"),
            400: ERROR,
            404: ERROR,
        },
    )
    def download(self, request, *args, **kwargs):
        """The version (or one split) as a zip, streamed: ``folders`` by default (``csv``
        for a tabular dataset), or ``?format=`` yolo, csv, spacy-ner, coco, manifest,
        manifest-csv, manifest-jsonl."""
        version = self.scoped_version
        fmt = request.query_params.get("format") or default_export_format(version)
        if fmt not in EXPORT_FORMATS:
            raise ValidationError(
                {"format": [f"Unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}."]}
            )
        split = None
        if kwargs.get("split_id"):
            split = DatasetSplit.objects.filter(
                pk=path_uuid(kwargs, "split_id"), version=version
            ).first()
            if split is None:
                raise NotFound()
        scope = ExportScope.of(version, split)
        response = StreamingHttpResponse(export_zip(scope, fmt), content_type="application/zip")
        name = f"{version.dataset.name}-{version.name}" + (f"-{split.name}" if split else "")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:120]
        response["Content-Disposition"] = f'attachment; filename="{safe}-{fmt}.zip"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
