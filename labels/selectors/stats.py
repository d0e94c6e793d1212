"""The one statistics read model of a version, and the shapes its readers need.

``version_stats`` reads a version's splits, labels and persisted LabelStat rows (three
queries, O(labels x splits), never a recount). Every reader derives its shape from it: the
split x label matrix of the version page and the CSV (``label_stats_matrix``), split health
and version comparison (``labels.reports``), the before / after counts of a split
assignment (``CountsTable``).
"""

import uuid
from dataclasses import dataclass, field

from labels.models import Label, LabelStat
from labels.stats import StatsDelta
from seeme.models import Version
from splits.models import DatasetSplit

Kind = LabelStat.Kind
VersionRef = Version | uuid.UUID
RowKey = tuple[uuid.UUID, str, uuid.UUID | None]  # (split_id, kind, label_id)


def version_splits(*, version: VersionRef) -> list[DatasetSplit]:
    """The version's splits in creation order. One query."""
    return list(DatasetSplit.objects.filter(version=version).order_by("created_at", "id"))


def version_labels(*, version: VersionRef) -> list[Label]:
    """The version's labels by index. One query."""
    return list(Label.objects.filter(version=version).order_by("index", "id"))


@dataclass(frozen=True)
class VersionStats:
    """A version's splits (creation order), labels (by index) and persisted numbers:
    ``rows[(split_id, kind, label_id)] = (items, annotations)`` for every LabelStat row."""

    splits: list[DatasetSplit]
    labels: list[Label]
    rows: dict[RowKey, tuple[int, int]]

    def get(
        self, split_id: uuid.UUID, kind: str, label_id: uuid.UUID | None = None
    ) -> tuple[int, int] | None:
        """(items, annotations) of one row; None when the row does not exist."""
        return self.rows.get((split_id, kind, label_id))

    def count(
        self, split_id: uuid.UUID, kind: str, label_id: uuid.UUID | None = None
    ) -> tuple[int, int]:
        """(items, annotations) of one row; zeros when the row does not exist."""
        return self.rows.get((split_id, kind, label_id), (0, 0))


def version_stats(*, version: VersionRef) -> VersionStats:
    """The version's statistics read model: three queries (splits, labels, LabelStat)."""
    splits = version_splits(version=version)
    labels = version_labels(version=version)
    rows: dict[RowKey, tuple[int, int]] = {
        (split_id, kind, label_id): (items, annotations)
        for split_id, kind, label_id, items, annotations in LabelStat.objects.filter(
            split__version=version
        ).values_list("split_id", "kind", "label_id", "item_count", "annotation_count")
    }
    return VersionStats(splits=splits, labels=labels, rows=rows)


# -- the split x label matrix -----------------------------------------------------------------


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


def stats_matrix(stats: VersionStats) -> StatsMatrix:
    """The matrix of a read model: a column per split, a row per label, the unlabelled row
    and the split-total row. No query."""
    split_items = {s.pk: stats.count(s.pk, Kind.TOTAL)[0] for s in stats.splits}

    def row(kind: str, label: Label | None) -> MatrixRow:
        cells = []
        for split in stats.splits:
            items, annotations = stats.count(split.pk, kind, label.pk if label else None)
            whole = split_items[split.pk]
            cells.append(
                MatrixCell(
                    split=split,
                    item_count=items,
                    annotation_count=annotations,
                    share=100 * items / whole if whole else None,
                )
            )
        return MatrixRow(kind=kind, label=label, cells=cells)

    return StatsMatrix(
        splits=stats.splits,
        labels=stats.labels,
        rows=[row(Kind.LABEL, label) for label in stats.labels],
        unlabelled=row(Kind.UNLABELLED, None),
        totals=row(Kind.TOTAL, None),
    )


def label_stats_matrix(*, version_id: uuid.UUID) -> StatsMatrix:
    """The split x label matrix of a version (``version_stats`` + ``stats_matrix``): three
    queries, O(labels x splits); never recounts."""
    return stats_matrix(version_stats(version=version_id))


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


def label_stats_csv_rows(*, version_id: uuid.UUID) -> list[list]:
    """The matrix as CSV rows, header first: one row per split and label (label index
    order), then the split's unlabelled and total rows. The one source of the CSV download
    of the version page and of the API (written by ``seeme.csvsafe``, which neutralises
    formulas). Same queries as ``label_stats_matrix``."""
    matrix = label_stats_matrix(version_id=version_id)
    rows: list[list] = [CSV_HEADER]
    for column, split in enumerate(matrix.splits):
        for line in [*matrix.rows, matrix.unlabelled, matrix.totals]:
            cell = line.cells[column]
            label = line.label
            rows.append(
                [
                    split.name,
                    str(split.pk),
                    line.kind,
                    label.name if label else "",
                    str(label.pk) if label else "",
                    label.index if label else "",
                    cell.item_count,
                    cell.annotation_count,
                    "" if cell.share is None else f"{cell.share:.2f}",
                ]
            )
    return rows


# -- before / after counts of a bulk split write ----------------------------------------------


@dataclass
class SplitCounts:
    """One split's persisted numbers: totals, the unlabelled bucket and per-label counts."""

    split: DatasetSplit
    items: int = 0
    annotations: int = 0
    unlabelled: int = 0
    labels: dict[uuid.UUID, list[int]] = field(default_factory=dict)  # label -> [items, anns]


@dataclass
class CountsTable:
    """Every split of a version with its numbers, read from LabelStat rows (no recount), and
    what a planned ``StatsDelta`` would make of them."""

    labels: list[Label]
    splits: list[SplitCounts]

    @classmethod
    def for_version(cls, version: VersionRef) -> "CountsTable":
        """Three queries (``version_stats``)."""
        return cls.from_stats(version_stats(version=version))

    @classmethod
    def from_stats(cls, stats: VersionStats) -> "CountsTable":
        table = cls(
            stats.labels,
            [SplitCounts(s, labels={lb.pk: [0, 0] for lb in stats.labels}) for s in stats.splits],
        )
        table._add(((key, (a, i)) for key, (i, a) in stats.rows.items()), sign=1)
        return table

    def _add(self, entries, sign: int) -> None:
        """Add ``((split_id, kind, label_id), (annotations, items))`` entries."""
        by_id = {sc.split.pk: sc for sc in self.splits}
        for (split_id, kind, label_id), (annotations, items) in entries:
            counts = by_id.get(split_id)
            if counts is None:
                continue
            if kind == Kind.TOTAL:
                counts.items += sign * items
                counts.annotations += sign * annotations
            elif kind == Kind.UNLABELLED:
                counts.unlabelled += sign * items
            elif label_id in counts.labels:
                counts.labels[label_id][0] += sign * items
                counts.labels[label_id][1] += sign * annotations

    def plus(self, delta: StatsDelta) -> "CountsTable":
        """A copy with a planned delta applied: the numbers a write would leave behind."""
        copy = CountsTable(
            self.labels,
            [
                SplitCounts(
                    sc.split,
                    sc.items,
                    sc.annotations,
                    sc.unlabelled,
                    {k: list(v) for k, v in sc.labels.items()},
                )
                for sc in self.splits
            ],
        )
        copy._add(delta.nonzero().items(), sign=1)
        return copy


def counts_change(before: CountsTable, after: CountsTable) -> list[dict]:
    """Per split and label, the numbers before and after, ready for JSON or a template."""
    result = []
    for b, a in zip(before.splits, after.splits, strict=True):
        result.append(
            {
                "split_id": str(b.split.pk),
                "name": b.split.name,
                "before": {
                    "items": b.items,
                    "annotations": b.annotations,
                    "unlabelled": b.unlabelled,
                },
                "after": {
                    "items": a.items,
                    "annotations": a.annotations,
                    "unlabelled": a.unlabelled,
                },
                "labels": [
                    {
                        "label_id": str(label.pk),
                        "name": label.name,
                        "before": {
                            "items": b.labels[label.pk][0],
                            "annotations": b.labels[label.pk][1],
                        },
                        "after": {
                            "items": a.labels[label.pk][0],
                            "annotations": a.labels[label.pk][1],
                        },
                    }
                    for label in before.labels
                ],
            }
        )
    return result
