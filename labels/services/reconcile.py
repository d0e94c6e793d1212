"""Repair: recount LabelStat rows from the items and annotations tables."""

import uuid
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from labels.models import LabelStat
from labels.selectors import Drift, label_stats_drift
from seeme.db import atomic_write
from seeme.locks import lock_versions_exclusive
from splits.models import DatasetSplit


@atomic_write
def label_stats_reconcile(
    *,
    dataset_ids: Iterable[uuid.UUID] | None = None,
    split_ids: Iterable[uuid.UUID] | None = None,
    dry_run: bool = False,
) -> list[Drift]:
    """Find LabelStat rows that differ from a fresh count and, unless ``dry_run``, fix them.

    Scope: the given splits, else the splits of the given datasets, else every split. Takes
    the exclusive lock of each version involved, so no writer moves the numbers while they
    are recounted. Returns the drifted rows (stored vs expected) as they were found.
    """
    splits = DatasetSplit.objects.all()
    if split_ids is not None:
        splits = splits.filter(pk__in=list(split_ids))
    if dataset_ids is not None:
        splits = splits.filter(version__dataset_id__in=list(dataset_ids))
    version_ids = set(splits.values_list("version_id", flat=True))
    lock_versions_exclusive(version_ids)
    ids = list(splits.filter(version_id__in=version_ids).values_list("id", flat=True))
    drift = label_stats_drift(split_ids=ids)
    if dry_run or not drift:
        return drift
    now = timezone.now()
    for d in drift:
        key = Q(split_id=d.split_id, kind=d.kind)
        key &= Q(label_id=d.label_id) if d.label_id else Q(label__isnull=True)
        values = {
            "annotation_count": d.expected.annotation_count,
            "item_count": d.expected.item_count,
            "count": d.expected.item_count,
            "updated_at": now,
        }
        if d.stored is None:
            LabelStat.objects.create(
                split_id=d.split_id, kind=d.kind, label_id=d.label_id, **values
            )
        else:
            LabelStat.objects.filter(key).update(**values)
    return drift
