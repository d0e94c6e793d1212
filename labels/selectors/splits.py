"""Reads of one split's statistics, from its persisted LabelStat rows (never a recount)."""

import uuid

from labels.models import LabelStat
from splits.models import DatasetSplit

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


def label_stats_of_split_id(*, version_id: uuid.UUID, split_id: uuid.UUID) -> list[LabelStat]:
    """For the API: the split's label rows by label index, then the unlabelled row, found
    by ids in one query (the split checked against the version in the same query, the labels
    joined for the order only). Empty when the version has no such split: a split always has
    its unlabelled row."""
    return list(
        LabelStat.objects.filter(
            split_id=split_id,
            split__version_id=version_id,
            kind__in=[Kind.LABEL, Kind.UNLABELLED],
        ).order_by("kind", "label__index")
    )


def label_stat_total_of_split_id(*, version_id: uuid.UUID, split_id: uuid.UUID) -> LabelStat | None:
    """For the API: the split-total row by ids, in one query; None when the version has no
    such split."""
    return LabelStat.objects.filter(
        split_id=split_id, split__version_id=version_id, kind=Kind.TOTAL
    ).first()


def label_stat_total_for_split(*, split: DatasetSplit) -> LabelStat | None:
    """The split-total row: every item and every annotation in the split. One query."""
    return LabelStat.objects.filter(split=split, kind=Kind.TOTAL).first()
