"""API views of splits: CRUD, add_inferences and removing an item from a split."""

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from labels import services as label_services
from labels.api.serializers import AddInferencesSerializer
from labels.models import Annotation
from seeme.api.scoping import (
    EDIT,
    ERROR,
    ScopedObjectMixin,
    ServiceUpdateMixin,
    VersionChildMixin,
    path_uuid,
)
from seeme.api.serializers import ItemSerializer
from seeme.models import Item
from splits import services
from splits.api.serializers import DatasetSplitSerializer
from splits.models import DatasetSplit


@extend_schema_view(
    create=extend_schema(responses={201: DatasetSplitSerializer, 409: ERROR}),
    update=extend_schema(responses={200: DatasetSplitSerializer, 409: ERROR}),
)
class SplitViewSet(VersionChildMixin, ScopedObjectMixin, ServiceUpdateMixin, viewsets.ModelViewSet):
    """Splits of a version (train / valid / test ...)."""

    serializer_class = DatasetSplitSerializer
    queryset = DatasetSplit.objects.none()  # for the schema; get_queryset() scopes to the version
    http_method_names = ["get", "post", "put", "delete", "head", "options"]
    action_ranks = {"add_inferences": EDIT, "remove_item": EDIT}

    def get_queryset(self):
        return DatasetSplit.objects.filter(version=self.scoped_version).order_by("created_at", "id")

    def perform_create(self, serializer):
        serializer.instance = label_services.split_create(
            version=self.scoped_version, user=self.request.user, **serializer.validated_data
        )

    def perform_service_update(self, obj, data):
        return services.split_update(split=obj, data=data)

    def perform_destroy(self, instance):
        label_services.split_delete(split=instance)

    @extend_schema(
        request=AddInferencesSerializer,
        responses={200: AddInferencesSerializer, 400: ERROR, 404: ERROR},
    )
    @action(detail=True, methods=["post"])
    def add_inferences(self, request, *args, **kwargs):
        """Turn model inferences into new items of this split, annotated or not."""
        split = self.get_object()
        body = AddInferencesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        inferences = body.validated_data["inferences"]
        item_ids = label_services.add_inferences(
            split=split,
            user=request.user,
            inferences=inferences,
            keep_annotations=body.validated_data["keep_annotations"],
        )
        for inference, item_id in zip(inferences, item_ids, strict=True):
            inference["dataset_item_id"] = str(item_id)
        return Response(AddInferencesSerializer(body.validated_data).data)

    @extend_schema(
        request=None,
        responses={200: ItemSerializer, 404: ERROR},
        parameters=[OpenApiParameter("item_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["delete"], url_path=r"items/(?P<item_id>[^/]+)")
    def remove_item(self, request, *args, **kwargs):
        """Remove an item from this split (and its annotations there); an item left in no
        split is deleted. Answers the item as it is afterwards."""
        split = self.get_object()
        item = Item.objects.filter(
            pk=path_uuid(self.kwargs, "item_id"), dataset_version=split.version
        ).first()
        if item is None:
            raise NotFound()
        label_services.item_remove_from_split(item=item, split=split)
        after = (
            Item.objects.filter(pk=item.pk)
            .prefetch_related(
                Prefetch("splits", queryset=DatasetSplit.objects.order_by("created_at", "id")),
                Prefetch("annotations", queryset=Annotation.objects.order_by("created_at", "id")),
            )
            .first()
        )
        if after is None:  # deleted: it is in no split and has no annotation any more
            item._prefetched_objects_cache = {
                "splits": DatasetSplit.objects.none(),
                "annotations": Annotation.objects.none(),
            }
            after = item
        return Response(ItemSerializer(after).data, status=status.HTTP_200_OK)
