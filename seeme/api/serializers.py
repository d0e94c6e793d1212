"""Serializers of the kernel resources and accounts.

Dataset, Version and Item representations embed labels, splits and annotations, so this
module (API layer, above every app) imports the other apps' serializers."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from labels.api.serializers import AnnotationSerializer, LabelSerializer
from seeme.api.fields import (
    IdField,
    OptionalCharField,
    StrictBooleanField,
    StrictCharField,
    StringIdField,
)
from seeme.files import logo_filename
from seeme.models import APIKey, ContentType, Dataset, DatasetShare, Item, Role, User, Version
from seeme.roles import share_role_find
from splits.api.serializers import DatasetSplitSerializer

NAME_MAX = 255
TEXT_MAX = 10_000
ITEM_TEXT_MAX = 1_000_000


def required_name(**kwargs):
    return StrictCharField(
        max_length=NAME_MAX,
        min_length=1,
        required=True,
        allow_blank=False,
        allow_null=False,
        **kwargs,
    )


# -- accounts -------------------------------------------------------------------------------


class CredentialsSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150, required=True, allow_blank=False, allow_null=False)
    password = StrictCharField(
        max_length=4096, required=True, allow_blank=False, allow_null=False, trim_whitespace=False
    )


class RegisterSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150, required=True, allow_blank=False, allow_null=False)
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(
        max_length=4096, required=True, allow_blank=False, allow_null=False, trim_whitespace=False
    )
    firstname = OptionalCharField(max_length=150)
    name = OptionalCharField(max_length=150)

    def validate_username(self, value: str) -> str:
        User.username_validator(value)
        return value


class UserWithKeySerializer(serializers.Serializer):
    """A user as login and register answer it: every field a string, ``apikey`` new."""

    id = serializers.CharField()
    username = serializers.CharField()
    name = serializers.CharField(source="last_name")
    email = serializers.CharField()
    firstname = serializers.CharField(source="first_name")
    apikey = serializers.CharField()


class APIKeyCreateSerializer(serializers.Serializer):
    name = OptionalCharField(max_length=255)
    expires_in_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=3650
    )


class APIKeySerializer(serializers.ModelSerializer):
    key = serializers.SerializerMethodField(help_text="The full key: only in the create answer.")
    name = OptionalCharField(read_only=True)

    class Meta:
        model = APIKey
        fields = [
            "id",
            "created_at",
            "updated_at",
            "name",
            "key_prefix",
            "key",
            "expires_at",
            "last_used_at",
        ]
        read_only_fields = fields

    def get_key(self, obj) -> str:
        return self.context.get("raw_key", "")


class ShareCreateSerializer(serializers.Serializer):
    """Who to share with (``email`` or ``username``) and the role (``role`` or ``role_id``)."""

    email = OptionalCharField(max_length=254, help_text="Email or username of the user.")
    username = OptionalCharField(max_length=150)
    role = OptionalCharField(
        max_length=64, help_text="A share role's bare name, slug or id (GET /share-roles)."
    )
    role_id = OptionalCharField(
        max_length=64, help_text="A share role's id, slug or bare name (GET /share-roles)."
    )

    def validate(self, attrs):
        identifier = attrs.get("username") or attrs.get("email")
        if not identifier:
            raise serializers.ValidationError(
                {"email": ["Give the username or email of the user to share with."]}
            )
        attrs["identifier"] = identifier
        given = attrs.get("role") or attrs.get("role_id")
        if not given:
            attrs["role"] = Role.VIEWER.value
            return attrs
        found = share_role_find(given)
        if found is None:
            field = "role" if attrs.get("role") else "role_id"
            raise serializers.ValidationError(
                {
                    field: [
                        f"Unknown role {given!r}: give a role id, slug or name "
                        "from GET /share-roles."
                    ]
                }
            )
        attrs["role"] = found.role
        return attrs


class ShareSerializer(serializers.ModelSerializer):
    user_id = StringIdField()
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    role_id = serializers.CharField(source="role", read_only=True)
    entity_type = serializers.SerializerMethodField()
    entity_id = serializers.CharField(source="dataset_id", read_only=True)

    class Meta:
        model = DatasetShare
        fields = [
            "id",
            "created_at",
            "updated_at",
            "user_id",
            "username",
            "email",
            "role",
            "role_id",
            "entity_type",
            "entity_id",
        ]
        read_only_fields = fields

    def get_entity_type(self, obj) -> str:
        return "datasets"


# -- datasets, versions, items ----------------------------------------------------------------


class VersionSerializer(serializers.ModelSerializer):
    """A dataset version with its labels and splits."""

    name = OptionalCharField(max_length=NAME_MAX, help_text="Empty: the server picks v<N>.")
    description = OptionalCharField(max_length=TEXT_MAX)
    default_split = OptionalCharField(max_length=NAME_MAX)
    config = OptionalCharField(max_length=100_000)
    user_id = StringIdField()
    dataset_id = StringIdField()
    labels = LabelSerializer(many=True, read_only=True)
    splits = DatasetSplitSerializer(many=True, read_only=True)

    class Meta:
        model = Version
        fields = [
            "id",
            "created_at",
            "updated_at",
            "name",
            "description",
            "user_id",
            "dataset_id",
            "labels",
            "splits",
            "default_split",
            "config",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class DatasetSerializer(serializers.ModelSerializer):
    """A dataset with its versions. Creating one also creates version ``v1``."""

    name = required_name()
    description = OptionalCharField(max_length=TEXT_MAX)
    notes = OptionalCharField(max_length=100_000)
    multi_label = StrictBooleanField(required=False, default=False)
    default_splits = StrictBooleanField(required=False, default=False)
    content_type = serializers.ChoiceField(
        choices=ContentType.choices, required=False, default=ContentType.IMAGES
    )
    user_id = StringIdField(source="owner_id")
    versions = VersionSerializer(many=True, read_only=True)
    logo = serializers.SerializerMethodField(
        help_text='The logo\'s file name ("<dataset id>.png"), "" without one; '
        "GET /datasets/{id}/logo answers its bytes."
    )
    has_logo = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = [
            "id",
            "created_at",
            "updated_at",
            "name",
            "description",
            "user_id",
            "notes",
            "multi_label",
            "default_splits",
            "content_type",
            "versions",
            "logo",
            "has_logo",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_logo(self, obj) -> str:
        return logo_filename(obj)

    def get_has_logo(self, obj) -> bool:
        return obj.logo_id is not None


class SplitRefSerializer(serializers.Serializer):
    id = IdField()


class ItemSerializer(serializers.ModelSerializer):
    """An item with the splits it is in and its annotations. ``version`` backs If-Match."""

    name = OptionalCharField(max_length=NAME_MAX)
    description = OptionalCharField(max_length=TEXT_MAX)
    text = OptionalCharField(max_length=ITEM_TEXT_MAX, trim_whitespace=False)
    extension = OptionalCharField(max_length=32)
    group = OptionalCharField(
        max_length=NAME_MAX, help_text="Items of one group stay in one split when assigned."
    )
    content_hash = OptionalCharField(
        max_length=64, help_text="Hash of the item's file; when empty, the SHA-256 of its text."
    )
    user_id = StringIdField()
    splits = serializers.SerializerMethodField()
    annotations = AnnotationSerializer(many=True, read_only=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Item
        fields = [
            "id",
            "created_at",
            "updated_at",
            "name",
            "description",
            "user_id",
            "text",
            "extension",
            "group",
            "content_hash",
            "splits",
            "annotations",
            "version",
        ]
        read_only_fields = ["id", "created_at", "updated_at", "version"]

    @extend_schema_field(DatasetSplitSerializer(many=True))
    def get_splits(self, obj) -> list[dict]:
        return DatasetSplitSerializer(obj.splits.all(), many=True).data


class ItemUpdateSerializer(ItemSerializer):
    """Update an item; ``splits[*].id``, when present and different, moves it (DATA.md)."""

    splits = SplitRefSerializer(many=True, required=False, allow_null=True)

    class Meta(ItemSerializer.Meta):
        pass


class ItemCreateSerializer(ItemSerializer):
    """Create an item; membership comes from ``splits[*].id``."""

    splits = SplitRefSerializer(many=True, required=False, allow_null=True, default=list)

    class Meta(ItemSerializer.Meta):
        pass

    def to_representation(self, instance):
        return ItemSerializer(instance, context=self.context).data


class ShareRoleSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()


class ItemStateSerializer(serializers.Serializer):
    """An item's workflow state; ``version`` 0 means never written (a scaffold)."""

    id = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    name = serializers.CharField()
    description = serializers.CharField()
    item_id = serializers.CharField()
    dataset_version_id = serializers.CharField()
    user_id = serializers.CharField(allow_blank=True)
    state = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField()


class ItemStateWriteSerializer(serializers.Serializer):
    state = StrictCharField(max_length=64, required=True, allow_blank=False, allow_null=False)
