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


def label_stats_for_version(*, version_id: uuid.UUID) -> QuerySet[LabelStat]:
    """Every stats row of a version's splits, for matrices and exports. One query."""
    return (
        LabelStat.objects.filter(split__version_id=version_id)
        .select_related("label", "split")
        .order_by("split__created_at", "split_id", "kind", "label__index")
    )


@dataclass(frozen=True)
class MatrixCell:
    """One split's numbers in one row; ``share`` is item_count in % of the split's items
    (None when the split has no items)."""

    split: DatasetSplit
    item_count: int
    annotation_count: int
    share: float | None


@dataclass(frozen=True)
class MatrixRow:
    """A label row (``label`` set), the unlabelled row or the totals row; one cell a split."""

    kind: str
    label: Label | None
    cells: list[MatrixCell]


@dataclass(frozen=True)
class StatsMatrix:
    """The split x label matrix of a version, as persisted in its LabelStat rows."""

    splits: list[DatasetSplit]
    labels: list[Label]
    rows: list[MatrixRow]
    unlabelled: MatrixRow
    totals: MatrixRow


def label_stats_matrix(*, version_id: uuid.UUID) -> StatsMatrix:
    """The split x label matrix: a column per split (creation order), a row per label (by
    index), the unlabelled row and the split-total row. Reads only DatasetSplit, Label and
    LabelStat rows (three queries, O(labels x splits)); never recounts."""
    splits = list(DatasetSplit.objects.filter(version_id=version_id).order_by("created_at", "id"))
    labels = list(Label.objects.filter(version_id=version_id).order_by("index", "id"))
    stored = {
        (row.split_id, row.kind, row.label_id): row
        for row in LabelStat.objects.filter(split__version_id=version_id).only(
            "split_id", "kind", "label_id", "item_count", "annotation_count"
        )
    }
    split_items = {}
    for split in splits:
        total = stored.get((split.pk, Kind.TOTAL, None))
        split_items[split.pk] = total.item_count if total else 0

    def row(kind: str, label: Label | None) -> MatrixRow:
        cells = []
        for split in splits:
            stat = stored.get((split.pk, kind, label.pk if label else None))
            items = stat.item_count if stat else 0
            whole = split_items[split.pk]
            cells.append(
                MatrixCell(
                    split=split,
                    item_count=items,
                    annotation_count=stat.annotation_count if stat else 0,
                    share=100 * items / whole if whole else None,
                )
            )
        return MatrixRow(kind=kind, label=label, cells=cells)

    return StatsMatrix(
        splits=splits,
        labels=labels,
        rows=[row(Kind.LABEL, label) for label in labels],
        unlabelled=row(Kind.UNLABELLED, None),
        totals=row(Kind.TOTAL, None),
    )


CSV_HEADER = [
    "split",
    "split_id",
    "row",
    "label",
    "label_id",
    "label_index",
    "item_count",
    "annotation_count",
    "share_of_split_items_percent",
]
# A cell starting with one of these is a formula to a spreadsheet: quote it (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def label_stats_csv_rows(*, version_id: uuid.UUID) -> list[list]:
    """The matrix as CSV rows, header first: one row per split and label (label index
    order), then the split's unlabelled and total rows. The one source of the CSV download
    of the version page and of the API. Same queries as ``label_stats_matrix``."""
    matrix = label_stats_matrix(version_id=version_id)
    rows: list[list] = [CSV_HEADER]
    for column, split in enumerate(matrix.splits):
        for line in [*matrix.rows, matrix.unlabelled, matrix.totals]:
            cell = line.cells[column]
            label = line.label
            rows.append(
                [
                    _csv_text(split.name),
                    str(split.pk),
                    line.kind,
                    _csv_text(label.name) if label else "",
                    str(label.pk) if label else "",
                    label.index if label else "",
                    cell.item_count,
                    cell.annotation_count,
                    "" if cell.share is None else f"{cell.share:.2f}",
                ]
            )
    return rows


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
