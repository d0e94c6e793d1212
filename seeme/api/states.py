"""API views of item workflow states and share roles (DATA.md, "Item state", "Share roles")."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from seeme import services
from seeme.api.scoping import ANNOTATE, ERROR, VersionChildMixin, path_uuid
from seeme.api.serializers import (
    ItemStateSerializer,
    ItemStateWriteSerializer,
    ShareRoleSerializer,
)
from seeme.api.views import if_match_header
from seeme.models import Item, ItemState
from seeme.roles import SHARE_ROLES


def state_data(item: Item, row: ItemState | None) -> dict:
    """The state answer of an item: its row, or a scaffold at version 0 when never written."""
    if row is None:
        return {
            "id": None,
            "created_at": None,
            "updated_at": None,
            "name": item.name,
            "description": "",
            "item_id": str(item.pk),
            "dataset_version_id": str(item.dataset_version_id),
            "user_id": "",
            "state": "",
            "version": 0,
        }
    return {
        "id": str(row.pk),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "name": row.name,
        "description": row.description,
        "item_id": str(row.item_id),
        "dataset_version_id": str(row.dataset_version_id),
        "user_id": str(row.user_id) if row.user_id else "",
        "state": row.state,
        "version": row.version,
    }


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='"<version>" of the state row ("0": never written); a stale value is a 412',
)


class ItemStateViewSet(VersionChildMixin, viewsets.GenericViewSet):
    """The workflow state of one item, and every state of a version."""

    action_ranks = {"update_state": ANNOTATE}
    serializer_class = ItemStateSerializer
    queryset = ItemState.objects.none()  # for the schema; the actions scope to the version

    def _item(self) -> Item:
        item = (
            Item.objects.filter(
                pk=path_uuid(self.kwargs, "item_id"), dataset_version=self.scoped_version
            )
            .select_related("state")
            .first()
        )
        if item is None:
            raise NotFound("No such item.")
        return item

    @extend_schema(responses={200: ItemStateSerializer, 404: ERROR})
    def retrieve_state(self, request, **kwargs):
        item = self._item()
        row = getattr(item, "state", None)  # no row: the reverse accessor raises
        return Response(ItemStateSerializer(state_data(item, row)).data)

    @extend_schema(
        request=ItemStateWriteSerializer,
        parameters=[IF_MATCH],
        responses={
            200: ItemStateSerializer,
            400: ERROR,
            403: ERROR,
            404: ERROR,
            412: OpenApiResponse(description="{message, current_version}"),
        },
    )
    def update_state(self, request, **kwargs):
        item = self._item()
        body = ItemStateWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = services.item_state_set(
            item=item,
            state=body.validated_data["state"],
            user=request.user,
            if_match=if_match_header(request),
        )
        return Response(ItemStateSerializer(state_data(item, row)).data)

    @extend_schema(responses={200: ItemStateSerializer(many=True), 404: ERROR})
    def list_states(self, request, **kwargs):
        rows = ItemState.objects.filter(dataset_version=self.scoped_version).select_related("item")
        return Response(
            ItemStateSerializer([state_data(row.item, row) for row in rows], many=True).data
        )


class ShareRolesView(APIView):
    """The roles a dataset can be shared by; a share names one by id, slug or name."""

    @extend_schema(responses={200: ShareRoleSerializer(many=True)})
    def get(self, request):
        data = [
            {"id": str(r.id), "name": r.name, "slug": r.slug, "description": r.description}
            for r in SHARE_ROLES
        ]
        return Response(ShareRoleSerializer(data, many=True).data, status=status.HTTP_200_OK)
