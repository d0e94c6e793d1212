"""The app's URLs plus the two baselines the stats benchmark compares against:

- ``bench/recount/...``: the label-stats answer computed on the fly (GROUP BY over the
  split's annotations plus the unlabelled count), as tools without persisted counts do;
- ``bench/bare-annotations``: an annotation insert with the same authentication, parent
  scoping and body validation as the API, but no membership check, no lock and no stats.
"""

from django.db import transaction
from django.urls import include, path
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from labels.api.serializers import AnnotationSerializer
from labels.models import Annotation, Label, LabelStat
from labels.selectors import label_stats_recount
from seeme.api.scoping import VersionChildMixin, path_uuid
from splits.models import DatasetSplit


class RecountStatsView(VersionChildMixin, APIView):
    action = "bench"

    def get(self, request, *args, **kwargs):
        split = DatasetSplit.objects.filter(
            pk=path_uuid(self.kwargs, "split_id"), version=self.scoped_version
        ).first()
        if split is None:
            raise NotFound()
        counts = label_stats_recount(split_ids=[split.pk])
        labels = Label.objects.filter(version=self.scoped_version).order_by("index")
        keys = [(split.pk, LabelStat.Kind.LABEL, label.pk) for label in labels]
        keys.append((split.pk, LabelStat.Kind.UNLABELLED, None))
        return Response([
            {"label_id": str(label_id or ""), "split_id": str(split.pk),
             "count": counts[key].item_count, "item_count": counts[key].item_count,
             "annotation_count": counts[key].annotation_count}
            for key in keys for label_id in [key[2]]
        ])


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
