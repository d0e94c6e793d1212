"""``pageSize`` / ``pageCount`` (0-based) pagination returning a plain JSON array.

The total goes in the ``X-Total-Count`` header so that the body stays an array (the SDK
expects one)."""

from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000


class PageParams(serializers.Serializer):
    pageSize = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        default=DEFAULT_PAGE_SIZE,
        help_text=f"Items per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}).",
    )
    pageCount = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=10_000_000,
        default=0,
        help_text="0-based page number.",
    )


class PageCountPagination(BasePagination):
    def paginate_queryset(self, queryset, request, view=None):
        params = PageParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        # Above the maximum is a 400 (as the schema says), not a silently shorter page.
        size = params.validated_data["pageSize"]
        page = params.validated_data["pageCount"]
        # A view that knows the total without counting (the item list reads it from the
        # statistics rows) says so through count_items().
        counter = getattr(view, "count_items", None)
        self.total = counter(queryset) if counter else queryset.count()
        start = page * size
        return list(queryset[start : start + size])

    def get_paginated_response(self, data):
        return Response(data, headers={"X-Total-Count": str(self.total)})

    def get_paginated_response_schema(self, schema):
        return schema

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "pageSize",
                "in": "query",
                "required": False,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PAGE_SIZE,
                    "default": DEFAULT_PAGE_SIZE,
                },
            },
            {
                "name": "pageCount",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 0, "default": 0},
            },
        ]
