"""Fresh recounts of a split's statistics from the items and annotations tables, and the
drift between them and the persisted LabelStat rows: for repair and for tests, never for
reads."""

import uuid
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef

from labels.models import Annotation, Label, LabelStat
from splits.models import ItemSplit

Kind = LabelStat.Kind


@dataclass(frozen=True)
class Counts:
    annotation_count: int
    item_count: int


def label_stats_recount(*, split_ids: list[uuid.UUID]) -> dict[tuple, Counts]:
    """Fresh counts from the items and annotations tables, keyed like LabelStat rows:
    (split_id, kind, label_id). Scans the splits: for repair and for tests, never for reads."""
    result: dict[tuple, Counts] = {}
    labels = Label.objects.filter(version__splits__id__in=split_ids).values_list(
        "version__splits__id", "id"
    )
    for split_id, label_id in labels:
        result[(split_id, Kind.LABEL, label_id)] = Counts(0, 0)
    per_label = (
        Annotation.objects.filter(split_id__in=split_ids)
        .values_list("split_id", "label_id")
        .annotate(n=Count("id"), items=Count("item_id", distinct=True))
        .order_by()
    )
    for split_id, label_id, n, items in per_label:
        result[(split_id, Kind.LABEL, label_id)] = Counts(n, items)
    members = dict(
        ItemSplit.objects.filter(split_id__in=split_ids)
        .values_list("split_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    annotations = dict(
        Annotation.objects.filter(split_id__in=split_ids)
        .values_list("split_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    has_annotation = Annotation.objects.filter(
        split_id=OuterRef("split_id"), item_id=OuterRef("item_id")
    )
    bare = dict(
        ItemSplit.objects.filter(split_id__in=split_ids)
        .filter(~Exists(has_annotation))
        .values_list("split_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for split_id in split_ids:
        result[(split_id, Kind.TOTAL, None)] = Counts(
            annotations.get(split_id, 0), members.get(split_id, 0)
        )
        result[(split_id, Kind.UNLABELLED, None)] = Counts(0, bare.get(split_id, 0))
    return result


@dataclass(frozen=True)
class Drift:
    split_id: uuid.UUID
    kind: str
    label_id: uuid.UUID | None
    stored: Counts | None
    expected: Counts


def label_stats_drift(*, split_ids: list[uuid.UUID]) -> list[Drift]:
    """Rows whose stored numbers differ from a fresh recount (or are missing)."""
    expected = label_stats_recount(split_ids=split_ids)
    stored = {
        (r.split_id, r.kind, r.label_id): Counts(r.annotation_count, r.item_count)
        for r in LabelStat.objects.filter(split_id__in=split_ids)
    }
    drift = []
    for key, counts in expected.items():
        have = stored.get(key)
        if have != counts:
            drift.append(Drift(key[0], key[1], key[2], have, counts))
    for key, have in stored.items():
        if key not in expected:
            drift.append(Drift(key[0], key[1], key[2], have, Counts(0, 0)))
    return drift
