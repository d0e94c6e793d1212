"""The statistics engine: the one place that changes LabelStat rows.

Every write that changes a split's numbers describes, for each (item, split) pair it touches,
the pair's state before and after: ``None`` when the item is not a member of the split, else a
Counter of the item's annotations in that split by label id. ``StatsDelta`` turns those
transitions into per-row deltas and ``StatsDelta.apply()`` writes them, inside the caller's
transaction, after locking the affected rows in primary-key order.

A pair's contribution to its split's rows:
- total row: +1 item, +N annotations (N = all its annotations there);
- unlabelled row: +1 item when N == 0;
- label L's row: +1 item and +n annotations when the pair holds n > 0 annotations of L.
"""

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from labels.models import Annotation, Label, LabelStat
from seeme.db import column_of as _column
from splits.models import DatasetSplit

PairState = Counter | None
Kind = LabelStat.Kind


class StatsIntegrityError(RuntimeError):
    """A write tried to move a LabelStat row that does not exist or below zero (a bug)."""


class StatsDelta:
    """Accumulated changes to LabelStat rows, keyed by (split_id, kind, label_id)."""

    def __init__(self) -> None:
        self._rows: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])

    def _add(self, split_id, kind, label_id, annotations: int, items: int) -> None:
        row = self._rows[(split_id, kind, label_id)]
        row[0] += annotations
        row[1] += items

    def add_state(self, split_id: uuid.UUID, state: PairState, sign: int = 1) -> None:
        """Add (sign=1) or remove (sign=-1) one (item, split) pair's contribution."""
        if state is None:
            return
        total = sum(state.values())
        self._add(split_id, Kind.TOTAL, None, sign * total, sign)
        if total == 0:
            self._add(split_id, Kind.UNLABELLED, None, 0, sign)
        for label_id, n in state.items():
            if n > 0:
                self._add(split_id, Kind.LABEL, label_id, sign * n, sign)

    def change(self, split_id: uuid.UUID, before: PairState, after: PairState) -> None:
        """Record that one (item, split) pair went from ``before`` to ``after``."""
        self.add_state(split_id, before, -1)
        self.add_state(split_id, after, 1)

    def add(
        self,
        split_id: uuid.UUID,
        kind: str,
        label_id: uuid.UUID | None,
        *,
        annotations: int = 0,
        items: int = 0,
    ) -> None:
        """Move one row by counts computed in aggregate (bulk imports, label deletes)."""
        self._add(split_id, kind, label_id, annotations, items)

    def nonzero(self) -> dict[tuple, tuple[int, int]]:
        return {k: (a, i) for k, (a, i) in self._rows.items() if a or i}

    def apply(self) -> int:
        """Lock and update the affected rows; returns how many rows changed.

        Two statements whatever the size of the delta: ``SELECT ... ORDER BY id FOR UPDATE``
        (the lock order every writer shares) and one ``UPDATE ... FROM (VALUES ...)``. Must be
        called inside the transaction of the write it describes.
        """
        changes = self.nonzero()
        if not changes:
            return 0
        assert transaction.get_connection().in_atomic_block, "stats must change inside a write"
        rows = _locked_rows({k[0] for k in changes}, {k[2] for k in changes if k[2] is not None})
        by_key = {(s, k, lb): (pk, a, i) for pk, s, k, lb, a, i in rows}
        counts = []
        for key, (annotations, items) in changes.items():
            row = by_key.get(key)
            if row is None:
                raise StatsIntegrityError(f"no LabelStat row for {key}")
            pk, stored_annotations, stored_items = row
            if stored_annotations + annotations < 0 or stored_items + items < 0:
                raise StatsIntegrityError(f"LabelStat {key} would go negative")
            counts.append((pk, stored_annotations + annotations, stored_items + items))
        _write_counts(counts)
        return len(counts)


def _locked_rows(split_ids: set, label_ids: set) -> list[tuple]:
    """(id, split_id, kind, label_id, annotation_count, item_count) of the rows a delta may
    touch (the splits' total and unlabelled rows, the labels' rows), locked in id order.

    Raw SQL because every write runs it and the ORM takes several times longer to build this
    query than the database takes to answer it.
    """
    connection = transaction.get_connection()
    meta, quote = LabelStat._meta, connection.ops.quote_name
    column = {
        name: quote(_column(meta, name))
        for name in ("id", "split", "kind", "label", "annotation_count", "item_count")
    }
    uuid_field = meta.pk

    def ids(values) -> tuple[str, list]:
        return (
            ", ".join(["%s"] * len(values)),
            [uuid_field.get_db_prep_value(v, connection) for v in values],
        )

    splits, params = ids(split_ids)
    where = f"{column['split']} IN ({splits}) AND ({column['kind']} IN (%s, %s)"
    params += [Kind.UNLABELLED.value, Kind.TOTAL.value]
    if label_ids:
        labels, label_params = ids(label_ids)
        where += f" OR {column['label']} IN ({labels})"
        params += label_params
    lock = ""
    if connection.features.has_select_for_update:
        lock = " " + connection.ops.for_update_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(column.values())} FROM {quote(meta.db_table)} "
            f"WHERE {where}) ORDER BY {column['id']}{lock}",
            params,
        )
        rows = cursor.fetchall()
    as_uuid = uuid_field.to_python
    return [
        (as_uuid(pk), as_uuid(split), kind, None if label is None else as_uuid(label), a, i)
        for pk, split, kind, label, a, i in rows
    ]


def _write_counts(counts: list[tuple[uuid.UUID, int, int]]) -> None:
    """Set (id, annotation_count, item_count) of locked rows in one UPDATE.

    Plain SQL that PostgreSQL and SQLite (3.33+) both run: ``bulk_update``'s CASE WHEN per
    field and row cost more Python time than the whole rest of an annotation write.
    """
    connection = transaction.get_connection()
    meta, quote = LabelStat._meta, connection.ops.quote_name
    table = quote(meta.db_table)
    column = {
        name: quote(_column(meta, name))
        for name in ("id", "annotation_count", "item_count", "count", "updated_at")
    }
    rows = ", ".join(["(%s, %s, %s)"] * len(counts))
    params: list = [timezone.now()]
    for row_id, annotations, items in counts:
        params += [meta.pk.get_db_prep_value(row_id, connection), annotations, items]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column['annotation_count']} = v.column2, "
            f"{column['item_count']} = v.column3, {column['count']} = v.column3, "
            f"{column['updated_at']} = %s FROM (VALUES {rows}) AS v "
            f"WHERE {table}.{column['id']} = v.column1",
            params,
        )


def pair_states(pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> dict[tuple, Counter]:
    """Current annotation Counters for the given (item_id, split_id) pairs (one query).

    Pairs with no annotation map to an empty Counter; membership is the caller's business.
    Reads all annotations of the items and keeps the pairs' in Python: an item has few, and
    a filter on the item alone keeps the plan on the item index whatever the planner
    believes about a split's size (a filter on split too let stale statistics pick the
    split index and scan the whole split).
    """
    pairs = set(pairs)
    states: dict[tuple, Counter] = {p: Counter() for p in pairs}
    if not pairs:
        return states
    item_ids = {p[0] for p in pairs}
    rows = Annotation.objects.filter(item_id__in=item_ids).values_list(
        "item_id", "split_id", "label_id"
    )
    for item_id, split_id, label_id in rows:
        if (item_id, split_id) in states:
            states[(item_id, split_id)][label_id] += 1
    return states


def rows_create_for_split(split) -> None:
    """Create the zeroed rows of a new split: total, unlabelled, and one per label."""
    now = timezone.now()
    labels = Label.objects.filter(version_id=split.version_id).values_list("id", flat=True)
    LabelStat.objects.bulk_create(
        [
            LabelStat(split=split, kind=Kind.TOTAL, created_at=now, updated_at=now),
            LabelStat(split=split, kind=Kind.UNLABELLED, created_at=now, updated_at=now),
        ]
        + [
            LabelStat(
                split=split, kind=Kind.LABEL, label_id=label_id, created_at=now, updated_at=now
            )
            for label_id in labels
        ]
    )


def rows_create_for_label(label) -> None:
    """Create the zeroed rows of a new label, one per split of its version."""
    now = timezone.now()
    split_ids = DatasetSplit.objects.filter(version_id=label.version_id).values_list(
        "id", flat=True
    )
    LabelStat.objects.bulk_create(
        [
            LabelStat(
                split_id=split_id, kind=Kind.LABEL, label=label, created_at=now, updated_at=now
            )
            for split_id in split_ids
        ]
    )


def rows_copy_for_version(*, source_version_id, split_map: dict, label_map: dict) -> None:
    """Copy a version's rows to its duplicate, verbatim: ``split_map`` and ``label_map`` give
    the copy's id of each source split and label. The caller holds the source version's
    exclusive lock, so the rows are exact and still while they are read."""
    LabelStat.objects.bulk_create(
        [
            LabelStat(
                split_id=split_map[row.split_id],
                kind=row.kind,
                label_id=label_map[row.label_id] if row.label_id else None,
                count=row.count,
                annotation_count=row.annotation_count,
                item_count=row.item_count,
            )
            for row in LabelStat.objects.filter(split__version_id=source_version_id)
        ],
        batch_size=2000,
    )
