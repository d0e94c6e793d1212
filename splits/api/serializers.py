from rest_framework import serializers

from seeme.api.fields import OptionalCharField, StrictCharField, StringIdField
from splits.models import DatasetSplit


class DatasetSplitSerializer(serializers.ModelSerializer):
    """A split of a version. ``name``: 1-255 characters, unique within the version."""

    name = StrictCharField(
        max_length=255, min_length=1, required=True, allow_blank=False, allow_null=False
    )
    description = OptionalCharField(max_length=10_000)
    user_id = StringIdField()
    version_id = StringIdField()

    class Meta:
        model = DatasetSplit
        fields = ["id", "created_at", "updated_at", "name", "description", "user_id", "version_id"]
        read_only_fields = ["id", "created_at", "updated_at"]
