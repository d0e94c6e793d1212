"""Reads of one split's statistics, from its persisted LabelStat rows (never a recount)."""

import uuid

from django.db.models import QuerySet

from labels.models import LabelStat
from seeme.selectors import AnyUser, dataset_list_visible
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


# The API's row fields: read as values, so a stats read builds no model instance.
API_FIELDS = (
    "id",
    "created_at",
    "updated_at",
    "label_id",
    "split_id",
    "count",
    "annotation_count",
    "item_count",
)


def _rows_for_reader(
    *, user: AnyUser, dataset_id: uuid.UUID, version_id: uuid.UUID, split_id: uuid.UUID
) -> QuerySet[LabelStat]:
    """The split's rows if ``user`` may see its dataset (``dataset_list_visible``, the one
    access rule: any dataset they see they may read) and the ids nest; else none. The
    access check, the ids and the rows are one query: a stats read costs one query after
    authentication."""
    return LabelStat.objects.filter(
        split_id=split_id,
        split__version_id=version_id,
        split__version__dataset_id=dataset_id,
        split__version__dataset__in=dataset_list_visible(user=user),
    )


def label_stats_of_split_id(
    *, user: AnyUser, dataset_id: uuid.UUID, version_id: uuid.UUID, split_id: uuid.UUID
) -> list[dict]:
    """For the API: the split's label rows by label index, then the unlabelled row (as
    dicts of ``API_FIELDS``), in one query with the access check (see ``_rows_for_reader``).
    Empty when the user may not see it or the ids do not nest: a split always has its
    unlabelled row."""
    rows = _rows_for_reader(
        user=user, dataset_id=dataset_id, version_id=version_id, split_id=split_id
    )
    return list(
        rows.filter(kind__in=[Kind.LABEL, Kind.UNLABELLED])
        .order_by("kind", "label__index")
        .values(*API_FIELDS)
    )


def label_stat_total_of_split_id(
    *, user: AnyUser, dataset_id: uuid.UUID, version_id: uuid.UUID, split_id: uuid.UUID
) -> dict | None:
    """For the API: the split-total row (a dict of ``API_FIELDS``), in one query with the
    access check; None when the user may not see it or the ids do not nest."""
    rows = _rows_for_reader(
        user=user, dataset_id=dataset_id, version_id=version_id, split_id=split_id
    )
    return rows.filter(kind=Kind.TOTAL).values(*API_FIELDS).first()


def label_stat_total_for_split(*, split: DatasetSplit) -> LabelStat | None:
    """The split-total row: every item and every annotation in the split. One query."""
    return LabelStat.objects.filter(split=split, kind=Kind.TOTAL).first()
