"""API views of labels, label statistics and annotations."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from labels import selectors, services
from labels.api.serializers import (
    AnnotationSerializer,
    AnnotationUpdateSerializer,
    LabelSerializer,
    LabelStatSerializer,
    label_stat_json,
)
from labels.exports import label_stats_csv_response
from labels.models import Annotation, Label, LabelStat
from seeme.api.scoping import (
    ANNOTATE,
    ERROR,
    ScopedObjectMixin,
    ServiceUpdateMixin,
    VersionChildMixin,
    path_uuid,
)
from seeme.services import apikey_authenticate


class CSVRenderer(BaseRenderer):
    """Lets ``Accept: text/csv`` through negotiation; the CSV itself is a plain HttpResponse,
    so this only renders errors (as a one-column ``message`` CSV)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        message = data.get("message", "") if isinstance(data, dict) else str(data or "")
        return f"message\r\n{message}\r\n".encode()


@extend_schema_view(
    create=extend_schema(responses={201: LabelSerializer, 409: ERROR}),
    update=extend_schema(responses={200: LabelSerializer, 409: ERROR}),
)
class LabelViewSet(VersionChildMixin, ScopedObjectMixin, ServiceUpdateMixin, viewsets.ModelViewSet):
    """Labels of a version, ordered by their server-assigned ``index``."""

    serializer_class = LabelSerializer
    queryset = Label.objects.none()  # for the schema; get_queryset() scopes to the version
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def get_queryset(self):
        return Label.objects.filter(version=self.scoped_version).order_by("index", "id")

    def perform_create(self, serializer):
        serializer.instance = services.label_create(
            version=self.scoped_version, user=self.request.user, **serializer.validated_data
        )

    def perform_service_update(self, obj, data):
        return services.label_update(label=obj, data=data)

    def perform_destroy(self, instance):
        services.label_delete(label=instance)


class LabelStatViewSet(VersionChildMixin, viewsets.GenericViewSet):
    """Label statistics of a split, read from persisted rows (never a recount)."""

    serializer_class = LabelStatSerializer
    queryset = LabelStat.objects.none()  # for the schema; rows come from labels.selectors
    pagination_class = None

    # The stats reads check access in the same query as their rows (one query after
    # authentication); the other actions resolve the version first.
    ROW_READS = ("for_split", "total_for_split")

    def resolve_parents(self) -> None:
        if self.action not in self.ROW_READS:
            super().resolve_parents()

    # The rows a keyed read fetched with the key check (None: not read that way).
    _keyed_rows: list | None = None

    def _path_ids(self) -> dict:
        return {
            "dataset_id": path_uuid(self.kwargs, "dataset_id"),
            "version_id": path_uuid(self.kwargs, "version_id"),
            "split_id": path_uuid(self.kwargs, "split_id"),
        }

    def authenticate_key_with_read(self, raw_key: str):
        """APIKeyAuthentication's hook: a stats read by API key checks the key in the query
        of its rows (``selectors.label_stats_by_key``), so it costs one query, as the
        authentication alone does. Returns the key, or None when it does not authenticate."""
        if self.action not in self.ROW_READS:
            return apikey_authenticate(raw_key=raw_key)
        try:
            ids = self._path_ids()
        except NotFound:  # a malformed id: authenticate as usual, then answer 404
            return apikey_authenticate(raw_key=raw_key)
        key, rows = selectors.label_stats_by_key(
            raw_key=raw_key, total=self.action == "total_for_split", **ids
        )
        self._keyed_rows = rows
        return key

    def _rows(self, *, total: bool) -> list:
        """The rows the keyed read fetched, else (a browser session) the ORM read's."""
        if self._keyed_rows is not None:
            return self._keyed_rows
        ids = self._path_ids()
        if total:
            row = selectors.label_stat_total_of_split_id(user=self.request.user, **ids)
            return [] if row is None else [row]
        return selectors.label_stats_of_split_id(user=self.request.user, **ids)

    @extend_schema(responses={200: LabelStatSerializer(many=True), 404: ERROR})
    def for_split(self, request, *args, **kwargs):
        """One row per label (zeros included, by index) and the ``label_id: ""`` row of the
        split's unlabelled items."""
        rows = self._rows(total=False)
        if not rows:
            raise NotFound()
        return Response([label_stat_json(row) for row in rows])

    @extend_schema(responses={200: LabelStatSerializer, 404: ERROR})
    def total_for_split(self, request, *args, **kwargs):
        """All items and all annotations of the split, as one row with ``label_id: ""``."""
        rows = self._rows(total=True)
        if not rows:
            raise NotFound()
        return Response(label_stat_json(rows[0]))

    def get_renderers(self):
        if self.action == "matrix_csv":
            return [JSONRenderer(), CSVRenderer()]
        return super().get_renderers()

    @extend_schema(
        operation_id="label_stats_csv",
        # The CSV renderer only exists so that Accept: text/csv passes; no ?format= switch.
        parameters=[OpenApiParameter("format", exclude=True)],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Header `split,split_id,row,label,label_id,label_index,item_count,"
                "annotation_count,share_of_split_items_percent`; then, per split, a "
                "`label` row per label (by index), an `unlabelled` and a `total` row.",
            ),
            404: ERROR,
        },
    )
    def matrix_csv(self, request, *args, **kwargs):
        """The version's split x label matrix as CSV (the version page's download)."""
        return label_stats_csv_response(version=self.scoped_version)


class AnnotationViewSet(
    VersionChildMixin,
    ScopedObjectMixin,
    ServiceUpdateMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Annotations of a version's items (create, update, delete)."""

    serializer_class = AnnotationSerializer
    http_method_names = ["post", "put", "delete", "options"]
    action_ranks = {"create": ANNOTATE, "update": ANNOTATE, "destroy": ANNOTATE}
    queryset = Annotation.objects.none()  # for the schema; get_queryset() scopes to the version
    parent_attr = "split.version"
    update_serializer_class = AnnotationUpdateSerializer
    response_serializer_class = AnnotationSerializer

    def get_serializer_class(self):
        return AnnotationUpdateSerializer if self.action == "update" else AnnotationSerializer

    def get_queryset(self):
        return Annotation.objects.select_related("split").filter(split__version=self.scoped_version)

    def perform_create(self, serializer):
        serializer.instance = services.annotation_create(
            version=self.scoped_version, user=self.request.user, **serializer.validated_data
        )

    @extend_schema(
        request=AnnotationUpdateSerializer,
        responses={200: AnnotationSerializer, 400: ERROR, 404: ERROR},
    )
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    def perform_service_update(self, obj, data):
        return services.annotation_update(annotation=obj, data=data)

    @extend_schema(responses={200: AnnotationSerializer, 404: ERROR})
    def destroy(self, request, *args, **kwargs):
        """Delete an annotation; answers it as it was."""
        deleted = services.annotation_delete(annotation=self.get_object())
        return Response(AnnotationSerializer(deleted).data, status=status.HTTP_200_OK)
