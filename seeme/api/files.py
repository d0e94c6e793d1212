"""API views of item files and dataset logos (``seeme.files`` does the work).

Downloads stream from storage (``FileResponse``), always as an attachment with
``X-Content-Type-Options: nosniff`` and a sandboxing CSP, an ``ETag`` of the content hash
and conditional GET (304). Uploads are multipart with one part named ``file``; the declared
type is ignored, the bytes decide.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse, HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from labels.models import Annotation
from seeme import files
from seeme.api.scoping import ANNOTATE, EDIT, READ, DatasetAccessMixin, path_uuid
from seeme.api.serializers import DatasetSerializer, ItemSerializer
from seeme.api.views import DatasetViewSet
from seeme.exceptions import FileTooLarge
from seeme.models import Blob, Dataset, Item
from seeme.selectors import dataset_for_user, version_for_user
from splits.models import DatasetSplit

ITEM_PREFETCH = (
    Prefetch("splits", queryset=DatasetSplit.objects.order_by("created_at", "id")),
    Prefetch("annotations", queryset=Annotation.objects.order_by("created_at", "id")),
)
# Room for the multipart framing around the file when the body length is checked up front.
MULTIPART_SLACK = 64 * 1024
UPLOAD_BODY = {
    "multipart/form-data": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary"}},
        "required": ["file"],
    }
}
TOO_LARGE = OpenApiResponse(description="The file is larger than SEEME_MAX_UPLOAD_MB.")
NOT_MODIFIED = OpenApiResponse(description="If-None-Match names the current ETag.")
ETAG_HEADER = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag of a copy you hold: 304 while it is still current.",
)


def _etag_matches(request, etag: str) -> bool:
    raw = request.headers.get("If-None-Match")
    if not raw:
        return False
    tags = parse_etags(raw)
    return "*" in tags or etag in tags or etag in [t.removeprefix("W/") for t in tags]


def file_response(request, fileobj, *, etag: str, content_type: str, filename: str):
    """The bytes as a streamed attachment, or 304 when the client's copy is current."""
    if _etag_matches(request, etag):
        fileobj.close()
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = FileResponse(
            fileobj, as_attachment=True, filename=filename, content_type=content_type
        )
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def download_name(item: Item, blob: Blob, suffix: str = "", extension: str = "") -> str:
    """The item's name with its file's extension (the id when it has no name)."""
    extension = extension or blob.extension
    base = (item.name or str(item.pk)).replace("/", "_").replace("\\", "_")
    if base.lower().endswith("." + blob.extension):
        base = base[: -len(blob.extension) - 1]
    return f"{base}{suffix}.{extension}"


def _check_length(request) -> None:
    """413 from Content-Length alone, before the body is read."""
    limit = files.max_upload_bytes()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + MULTIPART_SLACK:
        raise FileTooLarge(length, limit)


class _SizeLimitHandler(FileUploadHandler):
    """Stops reading a file part as soon as it passes the limit (413), before Django has
    spooled the rest of it to disk; also for bodies sent without a Content-Length."""

    def receive_data_chunk(self, raw_data, start):
        limit = files.max_upload_bytes()
        if start + len(raw_data) > limit:
            raise FileTooLarge(start + len(raw_data), limit)
        return raw_data

    def file_complete(self, file_size):
        return None


def _uploaded_file(request):
    _check_length(request)
    request._request.upload_handlers.insert(0, _SizeLimitHandler(request._request))
    upload = request.FILES.get("file")
    if upload is None:
        raise exceptions.ValidationError(
            {"file": ["Send the file as a multipart/form-data part named 'file'."]}
        )
    return upload


class _FileView(DatasetAccessMixin, APIView):
    """Access by method: reads need viewer; writes the view's ``write_rank``."""

    write_rank = ANNOTATE
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def required_rank(self):
        return READ if self.request.method in ("GET", "HEAD", "OPTIONS") else self.write_rank

    def item(self) -> Item:
        version = self.scoped(
            version_for_user,
            path_uuid(self.kwargs, "dataset_id"),
            path_uuid(self.kwargs, "version_id"),
        )
        item = (
            Item.objects.select_related("file")
            .filter(dataset_version=version, pk=path_uuid(self.kwargs, "pk"))
            .first()
        )
        if item is None:
            raise exceptions.NotFound()
        return item


class ItemUploadView(_FileView):
    """Store the item's file (multipart part ``file``); answers the item."""

    @extend_schema(
        operation_id="item_upload",
        request=UPLOAD_BODY,
        responses={200: ItemSerializer, 413: TOO_LARGE},
    )
    def post(self, request, dataset_id=None, version_id=None, pk=None):
        item = self.item()
        upload = _uploaded_file(request)
        saved = files.attach_item_file(item, upload, filename=upload.name)
        prefetch_related_objects([saved], *ITEM_PREFETCH)
        return Response(ItemSerializer(saved).data)


class ItemDownloadView(_FileView):
    """The item's file: its exact bytes, or with ``thumbnail=true`` a small JPEG preview."""

    @extend_schema(
        operation_id="item_download",
        parameters=[
            OpenApiParameter(
                "thumbnail",
                OpenApiTypes.BOOL,
                description="A JPEG preview of an image (longest side SEEME_THUMBNAIL_PX).",
            ),
            ETAG_HEADER,
        ],
        responses={(200, "*/*"): OpenApiTypes.BINARY, 304: NOT_MODIFIED},
    )
    def get(self, request, dataset_id=None, version_id=None, pk=None):
        item = self.item()
        if item.file is None:
            raise exceptions.NotFound("This item has no file.")
        blob = item.file
        thumbnail = request.query_params.get("thumbnail", "").lower() in ("true", "1", "yes")
        if thumbnail:
            px = settings.SEEME_THUMBNAIL_PX
            return file_response(
                request,
                files.open_blob_thumbnail(blob),
                etag=f'"{blob.sha256}-{px}"',
                content_type="image/jpeg",
                filename=download_name(item, blob, suffix="-thumbnail", extension="jpg"),
            )
        return file_response(
            request,
            files.open_item_file(item),
            etag=f'"{blob.sha256}"',
            content_type=blob.content_type,
            filename=download_name(item, blob),
        )


class _LogoView(_FileView):
    write_rank = EDIT

    def dataset(self) -> Dataset:
        return self.scoped(dataset_for_user, path_uuid(self.kwargs, "dataset_id"))


class DatasetLogoUploadView(_LogoView):
    """Store the dataset's logo (PNG or JPEG, multipart part ``file``); answers the dataset."""

    @extend_schema(
        operation_id="dataset_logo_upload",
        request=UPLOAD_BODY,
        responses={200: DatasetSerializer, 413: TOO_LARGE},
    )
    def post(self, request, dataset_id=None):
        dataset = self.dataset()
        upload = _uploaded_file(request)
        files.dataset_set_logo(dataset, upload)
        fresh = DatasetViewSet.dataset_queryset(request.user).get(pk=dataset.pk)
        return Response(DatasetSerializer(fresh).data)


class DatasetLogoView(_LogoView):
    """The dataset's logo."""

    @extend_schema(
        operation_id="dataset_logo",
        parameters=[ETAG_HEADER],
        responses={
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            304: NOT_MODIFIED,
        },
    )
    def get(self, request, dataset_id=None):
        dataset = self.dataset()
        if dataset.logo_id is None:
            raise exceptions.NotFound("This dataset has no logo.")
        fileobj, blob = files.open_dataset_logo(dataset)
        return file_response(
            request,
            fileobj,
            etag=f'"{blob.sha256}"',
            content_type=blob.content_type,
            filename=files.logo_filename(dataset),
        )
