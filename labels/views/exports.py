"""The CSV download of a version's split x label matrix (the page side of the export)."""

import uuid

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_safe

from labels.exports import label_stats_csv_response
from seeme.selectors import version_for_user


@require_safe
@login_required
def stats_csv(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    """The split x label matrix as CSV: one row per split and label, plus each split's
    unlabelled and total rows (``labels.selectors.label_stats_csv_rows``)."""
    return label_stats_csv_response(version=version_for_user(request.user, dataset_id, version_id))
