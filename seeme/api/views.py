"""API views of the kernel: accounts and keys, datasets, versions, items, shares."""

import re

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from labels import services as label_services
from labels.filtersets import ItemFilterBackend, ItemFilterSet
from labels.models import Annotation, Label
from seeme import services
from seeme.api.pagination import PageCountPagination
from seeme.api.schema import MessageSerializer
from seeme.api.scoping import (
    EDIT,
    ERROR,
    OWN,
    DatasetAccessMixin,
    DatasetChildMixin,
    ScopedObjectMixin,
    ServiceUpdateMixin,
    VersionChildMixin,
    path_uuid,
)
from seeme.api.serializers import (
    APIKeyCreateSerializer,
    APIKeySerializer,
    CredentialsSerializer,
    DatasetSerializer,
    ItemCreateSerializer,
    ItemSerializer,
    ItemUpdateSerializer,
    RegisterSerializer,
    ShareCreateSerializer,
    ShareSerializer,
    UserWithKeySerializer,
    VersionSerializer,
)
from seeme.lockout import cooloff_seconds, lockout_message
from seeme.models import APIKey, DatasetShare, Item, Version
from seeme.selectors import apikey_list, dataset_list_visible
from splits.models import DatasetSplit

# -- accounts ---------------------------------------------------------------------------------


def _user_with_key(user, raw_key: str) -> dict:
    user.apikey = raw_key
    return UserWithKeySerializer(user).data


class LoginView(APIView):
    """Exchange a username and password for a new API key."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=CredentialsSerializer,
        responses={200: UserWithKeySerializer, 400: ERROR, 401: ERROR, 429: ERROR},
    )
    def post(self, request):
        creds = CredentialsSerializer(data=request.data)
        creds.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: django-axes marks a locked-out attempt on
        # it, and counts failures for this username and address with the other logins.
        django_request = request._request
        user = authenticate(
            django_request,
            username=creds.validated_data["username"],
            password=creds.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            raise Throttled(wait=cooloff_seconds(), detail=lockout_message())
        if user is None:
            raise AuthenticationFailed("Wrong username or password.")
        # A key login is a login: the signal resets django-axes' failure count (as the
        # pages' session login does) and records last_login.
        user_logged_in.send(sender=user.__class__, request=django_request, user=user)
        _, raw = services.apikey_create_for_login(user=user, name="login")
        return Response(_user_with_key(user, raw))

    def get_authenticate_header(self, request):
        # Without authentication classes DRF would turn AuthenticationFailed into a 403.
        return 'Bearer realm="api"'


class LogoutView(APIView):
    """Revoke the API key this request was made with."""

    @extend_schema(request=None, responses={200: MessageSerializer})
    def post(self, request):
        if isinstance(request.auth, APIKey):
            services.apikey_revoke(key=request.auth)
        return Response({"message": "Logged out: this API key no longer works."})


class RegisterView(APIView):
    """Create an account (open unless SEEME_OPEN_REGISTRATION=false) and return a key."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=RegisterSerializer, responses={201: UserWithKeySerializer, 400: ERROR, 403: ERROR}
    )
    def post(self, request):
        if not settings.SEEME_OPEN_REGISTRATION:
            return Response(
                {"message": "Registration is closed on this server."},
                status=status.HTTP_403_FORBIDDEN,
            )
        body = RegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = services.user_register(**body.validated_data)
        _, raw = services.apikey_create_for_login(user=user, name="register")
        return Response(_user_with_key(user, raw), status=status.HTTP_201_CREATED)


class ApplicationsView(APIView):
    """The models this server can run: none (the SDK lists them when it starts)."""

    @extend_schema(
        responses={
            200: OpenApiResponse(
                {"type": "array", "items": {"type": "object"}, "maxItems": 0},
                description="Always []",
            )
        }
    )
    def get(self, request):
        return Response([])


class APIKeyViewSet(
    ScopedObjectMixin, mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """The caller's API keys: list, create (the key is shown once), revoke."""

    serializer_class = APIKeySerializer
    queryset = APIKey.objects.none()  # for the schema; get_queryset() scopes to the caller
    lookup_value_regex = "[^/]+"
    parent_attr = ""

    def get_queryset(self):
        return apikey_list(user=self.request.user)

    @extend_schema(request=APIKeyCreateSerializer, responses={201: APIKeySerializer, 400: ERROR})
    def create(self, request):
        body = APIKeyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key, raw = services.apikey_create(user=request.user, **body.validated_data)
        data = APIKeySerializer(key, context={"raw_key": raw}).data
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.apikey_revoke(key=instance)


# -- datasets ---------------------------------------------------------------------------------


def _versions_prefetch():
    return Prefetch(
        "versions",
        queryset=Version.objects.prefetch_related(
            Prefetch("labels", queryset=Label.objects.order_by("index")),
            Prefetch("splits", queryset=DatasetSplit.objects.order_by("created_at", "id")),
        ),
    )


class DatasetViewSet(DatasetAccessMixin, ServiceUpdateMixin, viewsets.ModelViewSet):
    """Datasets the caller owns or that are shared with them."""

    serializer_class = DatasetSerializer
    http_method_names = ["get", "post", "put", "delete", "head", "options"]
    action_ranks = {"destroy": OWN, "share": OWN, "unshare": OWN}

    @staticmethod
    def dataset_queryset(user):
        """Datasets ``user`` may see, with what their representation reads."""
        return (
            dataset_list_visible(user=user)
            .select_related("logo")
            .prefetch_related(_versions_prefetch())
            .order_by("-created_at", "id")
        )

    def get_queryset(self):
        return self.dataset_queryset(self.request.user)

    def get_object(self):
        return self.visible_dataset(path_uuid(self.kwargs, "pk"), self.get_queryset())

    def perform_create(self, serializer):
        serializer.instance = label_services.dataset_create(
            owner=self.request.user, **serializer.validated_data
        )

    def perform_service_update(self, obj, data):
        services.dataset_update(dataset=obj, data=data)

    def perform_destroy(self, instance):
        services.dataset_delete(dataset=instance)

    @extend_schema(
        methods=["POST"],
        request=ShareCreateSerializer,
        responses={200: ShareSerializer, 201: ShareSerializer, 400: ERROR},
    )
    @extend_schema(methods=["GET"], responses={200: ShareSerializer(many=True)})
    @action(detail=True, methods=["get", "post"], url_path="share")
    def share(self, request, pk=None):
        """List who the dataset is shared with, or share it with a user by a role."""
        dataset = self.get_object()
        if request.method == "GET":
            shares = DatasetShare.objects.filter(dataset=dataset).select_related("user")
            return Response(ShareSerializer(shares, many=True).data)
        body = ShareCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        share, created = services.dataset_share(
            dataset=dataset,
            identifier=body.validated_data["identifier"],
            role=body.validated_data["role"],
        )
        return Response(
            ShareSerializer(share).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        request=None,
        responses={204: None, 404: ERROR},
        parameters=[OpenApiParameter("user_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["delete"], url_path=r"share/(?P<user_id>[^/]+)")
    def unshare(self, request, pk=None, user_id=None):
        """Stop sharing the dataset with one user."""
        dataset = self.get_object()
        services.dataset_unshare(dataset=dataset, user_id=path_uuid(self.kwargs, "user_id"))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    create=extend_schema(responses={201: VersionSerializer, 409: ERROR}),
    update=extend_schema(responses={200: VersionSerializer, 409: ERROR}),
)
class VersionViewSet(
    DatasetChildMixin, ScopedObjectMixin, ServiceUpdateMixin, viewsets.ModelViewSet
):
    """Versions of a dataset, each with its labels and splits."""

    serializer_class = VersionSerializer
    queryset = Version.objects.none()  # for the schema; get_queryset() scopes to the dataset
    http_method_names = ["get", "post", "put", "delete", "head", "options"]

    def get_queryset(self):
        return (
            Version.objects.filter(dataset=self.scoped_dataset)
            .prefetch_related(
                Prefetch("labels", queryset=Label.objects.order_by("index")),
                Prefetch("splits", queryset=DatasetSplit.objects.order_by("created_at", "id")),
            )
            .order_by("created_at", "id")
        )

    def perform_create(self, serializer):
        serializer.instance = services.version_create(
            dataset=self.scoped_dataset, user=self.request.user, **serializer.validated_data
        )

    def perform_service_update(self, obj, data):
        services.version_update(version=obj, data=data)

    def perform_destroy(self, instance):
        services.version_delete(version=instance)


# -- items ------------------------------------------------------------------------------------


IF_MATCH_RE = re.compile(r'(?:W/)?("?)([0-9]{1,18})\1')


def if_match_header(request) -> int | None:
    """The item version in ``If-Match: "<n>"`` (quotes and W/ optional); None when absent
    or ``*`` (any version)."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    match = IF_MATCH_RE.fullmatch(raw.strip())
    if match is None:
        raise ValidationError({"If-Match": ['Must be the item version, e.g. If-Match: "3".']})
    return int(match.group(2))


@extend_schema_view(
    create=extend_schema(request=ItemCreateSerializer, responses={201: ItemSerializer})
)
class ItemViewSet(
    VersionChildMixin,
    ScopedObjectMixin,
    ServiceUpdateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Items of a version with their splits and annotations; paginated and filterable."""

    pagination_class = PageCountPagination
    filter_backends = [ItemFilterBackend]
    filterset_class = ItemFilterSet
    queryset = Item.objects.none()  # for the schema; get_queryset() scopes to the version
    http_method_names = ["get", "post", "put", "head", "options"]
    action_ranks = {"update": EDIT, "create": EDIT}
    parent_attr = ""  # the serializer never reads the version back
    update_serializer_class = ItemUpdateSerializer
    response_serializer_class = ItemSerializer

    def get_serializer_class(self):
        return ItemCreateSerializer if self.action == "create" else ItemSerializer

    def filter_queryset(self, queryset):
        # The schema types splitId / labelId (uuid) and onlyUnlabelled (enum); an empty value
        # is none of them, so it is refused rather than read as "no filter" (the item browser
        # page, whose forms send empty values, reads them leniently).
        params = self.request.query_params
        empty = [n for n in ("splitId", "labelId", "onlyUnlabelled") if params.get(n) == ""]
        if empty:
            raise ValidationError({n: ["Give a value, or leave the parameter out."] for n in empty})
        return super().filter_queryset(queryset)

    def get_queryset(self):
        return (
            Item.objects.filter(dataset_version=self.scoped_version)
            .prefetch_related(
                Prefetch("splits", queryset=DatasetSplit.objects.order_by("created_at", "id")),
                Prefetch("annotations", queryset=Annotation.objects.order_by("created_at", "id")),
            )
            .order_by("created_at", "id")
        )

    def count_items(self, queryset) -> int:
        """The filtered total for X-Total-Count: from a LabelStat row when the filters are
        exactly what one counts (a split, a split and a label, a split's unlabelled items),
        else a COUNT of the filtered items."""
        filterset = ItemFilterSet(self.request.query_params, queryset=queryset)
        known = None
        if filterset.is_valid():
            known = filterset.count_from_stats(version_id=self.scoped_version.pk)
        return queryset.count() if known is None else known

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        split_ids = [ref["id"] for ref in data.pop("splits", None) or []]
        serializer.instance = label_services.item_create(
            version=self.scoped_version, user=self.request.user, split_ids=split_ids, **data
        )

    @extend_schema(
        request=ItemUpdateSerializer,
        responses={
            200: ItemSerializer,
            400: ERROR,
            404: ERROR,
            412: OpenApiResponse(description="{message, current_version}"),
        },
        parameters=[
            OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                description='"<version>": apply only at that version',
            )
        ],
    )
    def update(self, request, *args, **kwargs):
        """Update an item's fields; with If-Match only if it is still at that version. A
        ``splits`` list that differs from the item's moves it (DATA.md)."""
        return super().update(request, *args, **kwargs)

    def perform_service_update(self, obj, data):
        data = dict(data)
        refs = data.pop("splits", None)
        label_services.item_update_with_splits(
            item=obj,
            data=data,
            split_ids=None if refs is None else [ref["id"] for ref in refs],
            if_match=if_match_header(self.request),
        )
