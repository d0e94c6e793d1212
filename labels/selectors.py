"""Reads of labels and statistics. The stats reads touch only LabelStat and Label rows."""

import uuid
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet

from labels.models import Annotation, Label, LabelStat
from splits.models import DatasetSplit, ItemSplit

Kind = LabelStat.Kind


def label_stats_for_split(*, split: DatasetSplit) -> list[LabelStat]:
    """The split's label rows ordered by label index, then the unlabelled row. One query."""
    rows = list(
        LabelStat.objects.filter(split=split, kind__in=[Kind.LABEL, Kind.UNLABELLED])
        .select_related("label")
        .order_by("kind", "label__index")
    )
    # "label" sorts before "unlabelled", so the bucket comes last.
    return rows


def label_stat_total_for_split(*, split: DatasetSplit) -> LabelStat | None:
    """The split-total row: every item and every annotation in the split. One query."""
    return LabelStat.objects.filter(split=split, kind=Kind.TOTAL).first()


def label_stats_for_version(*, version_id: uuid.UUID) -> QuerySet[LabelStat]:
    """Every stats row of a version's splits, for matrices and exports. One query."""
    return (
        LabelStat.objects.filter(split__version_id=version_id)
        .select_related("label", "split")
        .order_by("split__created_at", "split_id", "kind", "label__index")
    )


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
        ItemSplit.objects.filter(split_id__in=split_ids).values_list("split_id")
        .annotate(n=Count("id")).order_by()
    )
    annotations = dict(
        Annotation.objects.filter(split_id__in=split_ids).values_list("split_id")
        .annotate(n=Count("id")).order_by()
    )
    has_annotation = Annotation.objects.filter(
        split_id=OuterRef("split_id"), item_id=OuterRef("item_id")
    )
    bare = dict(
        ItemSplit.objects.filter(split_id__in=split_ids).filter(~Exists(has_annotation))
        .values_list("split_id").annotate(n=Count("id")).order_by()
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
