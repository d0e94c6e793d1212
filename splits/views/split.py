"""The split page: per-label bars with item and annotation counts, from LabelStat rows."""

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from labels.selectors import (
    label_stat_total_for_split,
    label_stats_for_split,
    version_splits,
)
from seeme.selectors import version_for_user


def _percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


@require_safe
@login_required
def split_detail(request, dataset_id: uuid.UUID, version_id: uuid.UUID, split_id: uuid.UUID):
    """One split: a bar per label (items as share of the split's items, annotations as share
    of its annotations), then the unlabelled items. Reads the persisted stats only."""
    version = version_for_user(request.user, dataset_id, version_id)
    splits = version_splits(version=version)
    split = next((s for s in splits if s.pk == split_id), None)
    if split is None:
        raise Http404("No such split.")
    total = label_stat_total_for_split(split=split)
    total_items = total.item_count if total else 0
    total_annotations = total.annotation_count if total else 0
    rows, unlabelled = [], None
    for stat in label_stats_for_split(split=split):
        stat.item_share = _percent(stat.item_count, total_items)
        stat.annotation_share = _percent(stat.annotation_count, total_annotations)
        if stat.label_id is None:
            unlabelled = stat
        else:
            rows.append(stat)
    return render(
        request,
        "splits/split_detail.html",
        {
            "dataset": version.dataset,
            "version": version,
            "split": split,
            "splits": splits,
            "rows": rows,
            "unlabelled": unlabelled,
            "total_items": total_items,
            "total_annotations": total_annotations,
        },
    )
