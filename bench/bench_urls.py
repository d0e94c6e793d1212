"""The app's URLs plus the two baselines the stats benchmark compares against:

- ``bench/recount/...``: the label-stats answer computed on the fly, as tools without
  persisted counts do: one GROUP BY over the split's annotations (annotations and distinct
  items per label) plus one anti-join counting the split's unlabelled items;
- ``bench/bare-annotations``: an annotation insert with the same authentication, parent
  scoping and body validation as the API, but no membership check, no lock and no stats.
"""

from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.urls import include, path
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from labels.api.serializers import AnnotationSerializer
from labels.models import Annotation, Label
from seeme.api.scoping import VersionChildMixin, path_uuid
from splits.models import DatasetSplit, ItemSplit


def recount_rows(split: DatasetSplit) -> list[dict]:
    """The label-stats answer of ``split`` counted from the items and annotations tables."""
    per_label = {
        label_id: (n, items)
        for label_id, n, items in Annotation.objects.filter(split=split)
        .values_list("label_id")
        .annotate(n=Count("id"), items=Count("item_id", distinct=True))
        .order_by()
    }
    annotated = Annotation.objects.filter(
        split_id=OuterRef("split_id"), item_id=OuterRef("item_id")
    )
    bare = ItemSplit.objects.filter(split=split).filter(~Exists(annotated)).count()
    rows = []
    for label_id in (
        Label.objects.filter(version_id=split.version_id)
        .order_by("index")
        .values_list("id", flat=True)
    ):
        n, items = per_label.get(label_id, (0, 0))
        rows.append(
            {
                "label_id": str(label_id),
                "split_id": str(split.pk),
                "count": items,
                "annotation_count": n,
                "item_count": items,
            }
        )
    rows.append(
        {
            "label_id": "",
            "split_id": str(split.pk),
            "count": bare,
            "annotation_count": 0,
            "item_count": bare,
        }
    )
    return rows


class RecountStatsView(VersionChildMixin, APIView):
    action = "bench"

    def get(self, request, *args, **kwargs):
        split = DatasetSplit.objects.filter(
            pk=path_uuid(self.kwargs, "split_id"), version=self.scoped_version
        ).first()
        if split is None:
            raise NotFound()
        return Response(recount_rows(split))


class BareAnnotationView(VersionChildMixin, APIView):
    action = "bench"

    def post(self, request, *args, **kwargs):
        body = AnnotationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            annotation = Annotation.objects.create(user=request.user, **body.validated_data)
        return Response(AnnotationSerializer(annotation).data, status=status.HTTP_201_CREATED)


VERSION = "api/v1/bench/datasets/<str:dataset_id>/versions/<str:version_id>/"

urlpatterns = [
    path(VERSION + "recount/splits/<str:split_id>", RecountStatsView.as_view()),
    path(VERSION + "bare-annotations", BareAnnotationView.as_view()),
    path("", include("seeme.urls")),
]
