import re
from datetime import datetime, timedelta

from django.conf import settings
from rest_framework import serializers

from labels.models import Annotation, Label, LabelStat
from labels.selectors.splits import StatRow
from seeme.api.fastpath import FastSerializerMixin
from seeme.api.fields import (
    IdField,
    OptionalCharField,
    StrictBooleanField,
    StrictCharField,
    StringIdField,
)

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


class LabelSerializer(serializers.ModelSerializer):
    """A label of a version; ``index`` is assigned by the server."""

    name = StrictCharField(
        max_length=255, min_length=1, required=True, allow_blank=False, allow_null=False
    )
    description = OptionalCharField(max_length=10_000)
    color = OptionalCharField(max_length=7, help_text="#rrggbb; a palette colour when empty.")
    shortcut = OptionalCharField(max_length=16)
    user_id = StringIdField()
    version_id = StringIdField()

    class Meta:
        model = Label
        fields = [
            "id",
            "created_at",
            "updated_at",
            "name",
            "description",
            "user_id",
            "version_id",
            "color",
            "index",
            "shortcut",
        ]
        read_only_fields = ["id", "created_at", "updated_at", "index"]

    def validate_color(self, value: str) -> str:
        if value and not COLOR_RE.match(value):
            raise serializers.ValidationError("Must be a colour written #rrggbb.")
        return value.lower()


class LabelStatSerializer(serializers.ModelSerializer):
    """Counts for one label (or ``label_id: ""``, the unlabelled bucket) in one split."""

    label_id = StringIdField()
    split_id = StringIdField()
    count = serializers.IntegerField(min_value=0, read_only=True)
    annotation_count = serializers.IntegerField(min_value=0, read_only=True)
    item_count = serializers.IntegerField(min_value=0, read_only=True)

    class Meta:
        model = LabelStat
        fields = [
            "id",
            "created_at",
            "updated_at",
            "label_id",
            "split_id",
            "count",
            "annotation_count",
            "item_count",
        ]
        read_only_fields = fields


_TIMESTAMP = serializers.DateTimeField(read_only=True)


def _timestamp(value: datetime) -> str:
    """``_TIMESTAMP.to_representation(value)`` for an aware time in UTC, the project's
    zone, without its per-call time-zone lookups (a third of a stats read's JSON time)."""
    if settings.TIME_ZONE != "UTC" or value.utcoffset() != timedelta(0):
        return _TIMESTAMP.to_representation(value)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def label_stat_json(row: LabelStat | StatRow) -> dict:
    """``LabelStatSerializer(row).data`` without building a serializer per request: the
    stats reads answer this (the same fields and formats; a test compares the two)."""
    return {
        "id": str(row.pk),
        "created_at": _timestamp(row.created_at),
        "updated_at": _timestamp(row.updated_at),
        "label_id": "" if row.label_id is None else str(row.label_id),
        "split_id": str(row.split_id),
        "count": row.count,
        "annotation_count": row.annotation_count,
        "item_count": row.item_count,
    }


class AnnotationSerializer(serializers.ModelSerializer):
    """A label on an item in a split; empty ``coordinates`` means the whole item."""

    label_id = IdField()
    item_id = IdField()
    split_id = IdField()
    coordinates = OptionalCharField(max_length=100_000)
    user_id = StringIdField()

    class Meta:
        model = Annotation
        fields = [
            "id",
            "created_at",
            "updated_at",
            "label_id",
            "item_id",
            "split_id",
            "coordinates",
            "user_id",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class AnnotationUpdateSerializer(AnnotationSerializer):
    """On update every field is optional and the item cannot change."""

    label_id = IdField(required=False)
    item_id = StringIdField()
    split_id = IdField(required=False)


class InferenceItemSerializer(FastSerializerMixin, serializers.Serializer):
    id = OptionalCharField()
    prediction = OptionalCharField(max_length=255)
    confidence = serializers.FloatField(required=False, allow_null=True, default=0.0)
    coordinates = OptionalCharField(max_length=100_000)
    inference_id = OptionalCharField()


# A request carries up to SEEME_MAX_INFERENCES inferences: FastSerializerMixin gives DRF's
# results (and, for anything it is not sure of, DRF's own errors) without DRF's per-field cost.
class InferenceSerializer(FastSerializerMixin, serializers.Serializer):
    """One model inference; it becomes one new item of the split."""

    id = OptionalCharField()
    name = OptionalCharField(max_length=255)
    description = OptionalCharField(max_length=10_000)
    prediction = OptionalCharField(max_length=255)
    confidence = serializers.FloatField(required=False, allow_null=True, default=0.0)
    extension = OptionalCharField(max_length=32)
    model_id = OptionalCharField()
    model_version_id = OptionalCharField()
    result = OptionalCharField(max_length=1_000_000)
    config = OptionalCharField()
    dataset_item_id = OptionalCharField(help_text="Set by the server to the new item's id.")
    # The list may be null (below); an item of it may not (``many=True`` would hand the list's
    # allow_null to its items, and a null item reached the service: a 500).
    inference_items = serializers.ListSerializer(
        child=InferenceItemSerializer(), required=False, default=list, allow_null=True
    )

    def validate_inference_items(self, value):
        # The SDK's pydantic models may dump an unset list as null; it means "none".
        return value or []


class AddInferencesSerializer(serializers.Serializer):
    keep_annotations = StrictBooleanField(required=False, default=True)
    inferences = InferenceSerializer(many=True, allow_empty=True)

    def validate_inferences(self, value):
        from django.conf import settings

        if len(value) > settings.SEEME_MAX_INFERENCES:
            raise serializers.ValidationError(
                f"At most {settings.SEEME_MAX_INFERENCES} inferences per request."
            )
        return value
