"""The version page: a version's split x label matrix, its chart and the other versions."""

import uuid

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from labels.charts import grouped_bar_chart
from labels.selectors import label_stats_matrix
from seeme.models import Version
from seeme.selectors import version_for_user


@require_safe
@login_required
def version_detail(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    """The split x label matrix of a version, its chart, and the other versions. Reads only
    Version, DatasetSplit, Label and LabelStat rows: O(labels x splits), never the items."""
    version = version_for_user(request.user, dataset_id, version_id)
    versions = Version.objects.filter(dataset_id=dataset_id).only("id", "name", "created_at")
    matrix = label_stats_matrix(version_id=version.pk)
    return render(
        request,
        "seeme/version_detail.html",
        {
            "dataset": version.dataset,
            "version": version,
            "versions": versions.order_by("created_at", "id"),
            "matrix": matrix,
            "split_tiles": list(zip(matrix.totals.cells, matrix.unlabelled.cells, strict=True)),
            "chart": grouped_bar_chart(matrix),
        },
    )
