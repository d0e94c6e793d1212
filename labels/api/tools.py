"""API of the split tools: assignment by ratio, bulk moves, split health, version duplicate
and comparison. Thin views: parse the body, call a service or a report, render."""

from urllib.parse import urlencode

from django.db.models import Prefetch
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import renderers, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from labels.compare import VersionDiff, version_diff
from labels.jobs import (
    SPLIT_ASSIGN,
    SPLIT_MOVE,
    VERSION_DUPLICATE,
    health_scan_enqueue,
    sync_limit,
)
from labels.models import Label
from labels.reports import (
    ITEM_LIMIT,
    SHARE_THRESHOLD,
    UNDER_REPRESENTED_RATIO,
    UNLABELLED_THRESHOLD,
    HealthReport,
    ItemChecks,
    split_health,
    split_health_csv,
)
from labels.services.assignment import (
    GROUP_BY,
    MAX_MOVE_IDS,
    SCOPES,
    items_assign_to_splits,
    items_move_count,
    items_move_to_split,
)
from labels.services.versions import version_duplicate, version_duplicate_size
from seeme.api.fields import IdField, OptionalCharField, StrictBooleanField
from seeme.api.jobs import JobSerializer, job_response
from seeme.api.scoping import ERROR, READ, VersionChildMixin, path_uuid
from seeme.api.serializers import VersionSerializer
from seeme.exceptions import Conflict
from seeme.jobs.services import enqueue_job
from seeme.models import Version
from splits.models import DatasetSplit


@extend_schema_field({"oneOf": [{"type": "string", "maxLength": 255}, {"type": "integer"}]})
class SeedField(serializers.Field):
    """A string or an integer, kept as a string (the hash input)."""

    default_error_messages = {"invalid": "Must be a string or an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        value = str(data)
        if len(value) > 255:
            raise serializers.ValidationError("At most 255 characters.")
        return value

    def to_representation(self, value):
        return str(value)


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
            },
            {"type": "string", "example": "train=0.8,valid=0.1,test=0.1"},
        ]
    }
)
class RatiosField(serializers.JSONField):
    pass


class AssignSerializer(serializers.Serializer):
    """Body of ``splits/assign``."""

    ratios = RatiosField(
        help_text='Split name to ratio, e.g. {"train": 0.8, "valid": 0.1, "test": 0.1} (or '
        'the string "train=0.8,valid=0.1,test=0.1"); ratios >= 0 adding up to 1.'
    )
    scope = serializers.ChoiceField(
        choices=SCOPES,
        required=False,
        default="unassigned",
        help_text="all: re-place every item; unassigned: only items in no split.",
    )
    stratify = StrictBooleanField(
        required=False, default=False, help_text="Keep every label's ratios (within 1 item)."
    )
    group_by = serializers.ChoiceField(
        choices=GROUP_BY,
        required=False,
        default="none",
        help_text="Keep groups in one split: by name prefix or by the item's group field.",
    )
    separator = OptionalCharField(
        max_length=16,
        default="_",
        trim_whitespace=False,
        help_text="Ends the group prefix of a name (name_prefix).",
    )
    seed = SeedField(required=False, default="", help_text="Same seed, same assignment.")
    dry_run = StrictBooleanField(
        required=False,
        default=False,
        help_text="Report the counts before and after; write nothing.",
    )


class MoveSerializer(serializers.Serializer):
    """Body of ``splits/{split_id}/move``: ``item_ids`` or ``filters``, not both."""

    item_ids = serializers.ListField(
        child=IdField(), required=False, allow_null=True, max_length=MAX_MOVE_IDS
    )
    filters = serializers.DictField(
        required=False,
        allow_null=True,
        help_text="Item-list filters: splitId, labelId, onlyUnlabelled, name.",
    )
    from_split = IdField(
        required=False, allow_null=True, help_text="Move only the items in this split, out of it."
    )


class DuplicateSerializer(serializers.Serializer):
    """Body of ``versions/{id}/new``; every field optional (the SDK sends a DatasetVersion)."""

    name = OptionalCharField(max_length=255, help_text="Empty: the server picks v<N>.")
    description = OptionalCharField(max_length=10_000, help_text="Empty: the source's.")


class HealthParams(serializers.Serializer):
    share_threshold = serializers.FloatField(
        required=False, default=SHARE_THRESHOLD, min_value=0, max_value=1
    )
    under_represented_ratio = serializers.FloatField(
        required=False, default=UNDER_REPRESENTED_RATIO, min_value=0, max_value=1
    )
    unlabelled_threshold = serializers.FloatField(
        required=False, default=UNLABELLED_THRESHOLD, min_value=0, max_value=1
    )
    item_limit = serializers.IntegerField(
        required=False, default=ITEM_LIMIT, min_value=0, max_value=1000
    )


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode() if isinstance(data, str) else b""


def _split_of(version: Version, split_id) -> DatasetSplit:
    split = DatasetSplit.objects.filter(pk=split_id, version=version).first()
    if split is None:
        raise NotFound()
    split.version = version
    return split


def health_as_dict(report: HealthReport, items_url) -> dict:
    """The JSON of a health report; ``items_url(filters)`` links a finding to its items."""
    return {
        "version_id": str(report.version.pk),
        "thresholds": report.thresholds,
        "splits": [
            {
                "split_id": str(s.split.pk),
                "name": s.split.name,
                "items": s.items,
                "annotations": s.annotations,
                "unlabelled": s.unlabelled,
                "unlabelled_share": s.unlabelled_share,
                "labels": [
                    {
                        "label_id": str(lb.pk),
                        "name": lb.name,
                        "items": s.label_items.get(lb.pk, 0),
                        "share": s.share(lb),
                    }
                    for lb in report.labels
                ],
            }
            for s in report.splits
        ],
        "findings": [
            {
                "kind": f.kind,
                "severity": f.severity,
                "message": f.message,
                "split_ids": [str(s.pk) for s in f.splits],
                "splits": [s.name for s in f.splits],
                "label_id": str(f.label.pk) if f.label else "",
                "label": f.label.name if f.label else "",
                "value": f.value,
                "item_count": f.item_count,
                "item_ids": [str(i) for i in f.item_ids],
                "items_urls": [items_url(flt) for flt in f.filters],
            }
            for f in report.findings
        ],
        "item_checks": item_checks_as_dict(report.item_checks),
    }


def item_checks_as_dict(checks: ItemChecks) -> dict:
    """Where the findings ``multi_split_items`` and ``duplicates`` come from: ``live`` (this
    request) or ``scan`` (past the sync limit: the last background scan, ``computed_at``,
    ``changed_since`` = the version's statistics differ from what it saw; no scan yet: both
    null and no such findings)."""
    return {
        "mode": "live" if checks.live else "scan",
        "memberships": checks.memberships,
        "sync_limit": checks.limit,
        "computed_at": checks.computed_at.isoformat() if checks.computed_at else None,
        "changed_since": checks.changed,
        "scan_job_id": str(checks.scan.pk) if checks.scan is not None else None,
        "pending_job_id": str(checks.pending.pk) if checks.pending is not None else None,
    }


def diff_as_dict(diff: VersionDiff) -> dict:
    def numbers(pair):
        return (
            {"items": pair[0], "annotations": pair[1]} if pair else {"items": 0, "annotations": 0}
        )

    return {
        "base": {"id": str(diff.base.pk), "name": diff.base.name},
        "other": {"id": str(diff.other.pk), "name": diff.other.name},
        "splits": [
            {
                "name": s.name,
                "in_base": s.in_base,
                "in_other": s.in_other,
                "rows": [
                    {
                        "kind": r.kind,
                        "label": r.label,
                        "in_base": r.base is not None,
                        "in_other": r.other is not None,
                        "base": numbers(r.base),
                        "other": numbers(r.other),
                        "difference": numbers(r.difference),
                    }
                    for r in s.rows
                ],
            }
            for s in diff.splits
        ],
    }


def query_string(filters: dict) -> str:
    """Item-list filters as a query string (booleans as true/false, ids as strings)."""
    return urlencode(
        {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in filters.items()}
    )


class SplitToolsViewSet(VersionChildMixin, viewsets.ViewSet):
    """Split tools of a version: assignment by ratio, bulk moves, health, comparison."""

    # The health scan only reads: whoever may see the version may start one.
    action_ranks = {"health_scan": READ}

    def get_renderers(self):
        if self.action == "health":
            return [renderers.JSONRenderer(), CSVRenderer()]
        return [renderers.JSONRenderer()]

    @extend_schema(
        request=AssignSerializer,
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT, "Counts per split and label, before and after"
            ),
            202: OpenApiResponse(JobSerializer, "Past SEEME_SYNC_LIMIT items: the job"),
            400: ERROR,
            403: ERROR,
            404: ERROR,
        },
    )
    def assign(self, request, *args, **kwargs):
        """Assign items to splits by ratio (seeded, hash-based, optionally stratified by
        label and grouped). ``dry_run`` reports without writing. A version of more than
        SEEME_SYNC_LIMIT items is assigned by a job: 202 with the job."""
        body = AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = self.scoped_version
        size = version_duplicate_size(version=version)
        if size > sync_limit():
            params = {"version_id": str(version.pk), **body.validated_data}
            return self._start(SPLIT_ASSIGN, version, params, size)
        result = items_assign_to_splits(version=version, **body.validated_data)
        return Response(result.as_dict())

    def _start(self, kind: str, version: Version, params: dict, size: int):
        """Past SEEME_SYNC_LIMIT items: enqueue the work as a job and answer 202 with it
        (``Location``: the job). ``Idempotency-Key`` makes a resent request the same job."""
        job = enqueue_job(
            kind,
            dataset=version.dataset,
            user=self.request.user,
            params=params,
            total=size,
            message="Queued",
            idempotency_key=self.request.headers.get("Idempotency-Key", ""),
        )
        response = job_response(job, status.HTTP_202_ACCEPTED)
        response["Location"] = JobSerializer(job).data["url"]
        return response

    @extend_schema(
        request=MoveSerializer,
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, "{moved, unchanged, skipped, split_id}"),
            202: OpenApiResponse(JobSerializer, "Past SEEME_SYNC_LIMIT items: the job"),
            400: ERROR,
            403: ERROR,
            404: ERROR,
        },
    )
    def move(self, request, *args, **kwargs):
        """Move items into this split, by ids or by the item-list filters; their
        annotations follow them and the statistics stay exact. More than SEEME_SYNC_LIMIT
        items are moved by a job: 202 with the job."""
        version = self.scoped_version
        split = _split_of(version, path_uuid(self.kwargs, "split_id"))
        body = MoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        from_split = None
        if data.get("from_split"):
            from_split = _split_of(version, data["from_split"])
        size = items_move_count(
            version=version, item_ids=data.get("item_ids"), filters=data.get("filters")
        )
        if size > sync_limit():
            item_ids = data.get("item_ids")
            params = {
                "version_id": str(version.pk),
                "split_id": str(split.pk),
                "item_ids": [str(i) for i in item_ids] if item_ids is not None else None,
                "filters": data.get("filters"),
                "from_split": str(from_split.pk) if from_split is not None else None,
            }
            return self._start(SPLIT_MOVE, version, params, size)
        result = items_move_to_split(
            split=split,
            item_ids=data.get("item_ids"),
            filters=data.get("filters"),
            from_split=from_split,
        )
        return Response({**result.as_dict(), "split_id": str(split.pk)})

    @extend_schema(
        parameters=[HealthParams, OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, "{splits, findings, thresholds}"),
            400: ERROR,
            404: ERROR,
        },
    )
    def health(self, request, *args, **kwargs):
        """Split health: missing labels, share gaps, under-represented labels, items in
        several splits, duplicates across splits, unlabelled shares. ``?format=csv`` for
        the findings as CSV. Past SEEME_SYNC_LIMIT memberships the two item-level checks are
        the last background scan's (``item_checks``; ``POST health/scan`` starts one)."""
        params = HealthParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        version = self.scoped_version
        report = split_health(version=version, scan_over=sync_limit(), **params.validated_data)
        if request.accepted_renderer.format == "csv":
            response = Response(split_health_csv(report))
            response["Content-Disposition"] = (
                f'attachment; filename="split-health-{version.pk}.csv"'
            )
            return response
        base = reverse(
            "item-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
        )

        def items_url(filters: dict) -> str:
            return request.build_absolute_uri(base + "?" + query_string(filters))

        return Response(health_as_dict(report, items_url))

    @extend_schema(
        request=None,
        responses={202: OpenApiResponse(JobSerializer, "The scan's job"), 404: ERROR},
    )
    def health_scan(self, request, *args, **kwargs):
        """Re-check items in several splits and duplicates across splits in the background:
        202 with the job (the one already queued or running, if any). Past SEEME_SYNC_LIMIT
        memberships ``health`` reports the last finished scan's findings."""
        version = self.scoped_version
        job = health_scan_enqueue(
            version=version,
            user=request.user,
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
        response = job_response(job, status.HTTP_202_ACCEPTED)
        response["Location"] = JobSerializer(job).data["url"]
        return response

    @extend_schema(
        parameters=[OpenApiParameter("other_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, "{base, other, splits}"), 404: ERROR},
    )
    def diff(self, request, *args, **kwargs):
        """Compare this version with another of the dataset: per split and label (matched by
        name), the counts in both and the difference (other - this)."""
        version = self.scoped_version
        other = Version.objects.filter(
            pk=path_uuid(self.kwargs, "other_id"), dataset_id=version.dataset_id
        ).first()
        if other is None:
            raise NotFound()
        return Response(diff_as_dict(version_diff(base=version, other=other)))

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON even when CSV was asked for.
        if response.status_code >= 400:
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        request=DuplicateSerializer,
        responses={
            201: VersionSerializer,
            202: OpenApiResponse(JobSerializer, "Past SEEME_SYNC_LIMIT items: the job"),
            400: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
        },
    )
    def duplicate(self, request, *args, **kwargs):
        """Duplicate this version (SeeMe's "new version from"): labels, splits, items,
        memberships and annotations, with exact statistics. Answers the new version; a
        version of more than SEEME_SYNC_LIMIT items is duplicated by a job: 202 with the
        job, whose result names the new version."""
        # No body is an empty object; a body that is not an object (null, a list) is a 400.
        body = DuplicateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = self.scoped_version
        size = version_duplicate_size(version=version)
        if size > sync_limit():
            name = body.validated_data.get("name", "")
            if name and Version.objects.filter(dataset_id=version.dataset_id, name=name).exists():
                raise Conflict(f"A version named {name!r} already exists in this dataset.")
            params = {
                "version_id": str(version.pk),
                "name": name,
                "description": body.validated_data.get("description") or "",
            }
            return self._start(VERSION_DUPLICATE, version, params, size)
        copy = version_duplicate(
            version=version,
            user=request.user,
            name=body.validated_data.get("name", ""),
            description=body.validated_data.get("description") or None,
        )
        copy = Version.objects.prefetch_related(
            Prefetch("labels", queryset=Label.objects.order_by("index")),
            Prefetch("splits", queryset=DatasetSplit.objects.order_by("created_at", "id")),
        ).get(pk=copy.pk)
        return Response(VersionSerializer(copy).data, status=status.HTTP_201_CREATED)
