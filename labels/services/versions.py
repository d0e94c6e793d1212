"""Duplicating a version: labels, splits, items, memberships, annotations and statistics."""

from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from labels.models import Annotation, Label, LabelStat
from labels.selectors.stats import version_labels, version_splits
from labels.services._locks import _lock_exclusive
from labels.stats import rows_copy_for_version
from seeme.db import atomic_write, derived_uuid, derived_uuid_sql, insert_select, mapped_sql
from seeme.models import Item, ItemState, User, Version
from seeme.references import SetBasedChecks
from seeme.services import version_create
from splits.models import DatasetSplit, ItemSplit

# progress(done, total, message): how far the copy is, in items.
Progress = Callable[[int, int, str], None]


def version_duplicate_size(*, version: Version) -> int:
    """How many items a duplicate of ``version`` copies (what SEEME_SYNC_LIMIT is about)."""
    return Item.objects.filter(dataset_version=version).count()


def _row_counts(version: Version) -> tuple[int, int]:
    """(memberships, annotations) of ``version``, for the progress only: from its exact
    statistics (each split's total row counts its members, the label rows its annotations),
    one indexed read instead of two counts over the version's rows."""
    sums = LabelStat.objects.filter(split__version=version).aggregate(
        members=Sum("item_count", filter=Q(kind=LabelStat.Kind.TOTAL)),
        annotations=Sum("annotation_count", filter=Q(kind=LabelStat.Kind.LABEL)),
    )
    return sums["members"] or 0, sums["annotations"] or 0


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _version_param(pk) -> Any:
    """A version id as the database takes it (every foreign key to Version prepares alike)."""
    return Item._meta.get_field("dataset_version").get_db_prep_value(pk, connection)


def _in_splits(alias: str, split_ids: Iterable) -> tuple[str, list[Any]]:
    """``<alias>.split_id IN (...)`` and its parameters: the ids as the database takes them."""
    field = ItemSplit._meta.get_field("split")
    params = [field.get_db_prep_value(pk, connection) for pk in split_ids]
    return f"{alias}.{_q('split_id')} IN ({', '.join(['%s'] * len(params)) or 'NULL'})", params


@atomic_write
def version_duplicate(
    *,
    version: Version,
    user: User | None,
    name: str = "",
    description: str | None = None,
    progress: Progress | None = None,
) -> Version:
    """Copy a version into a new one of the same dataset (SeeMe's "new version from").

    Copies labels (same index, colour, shortcut), splits, items (with their creation times),
    memberships and annotations with one ``INSERT ... SELECT`` per table inside the database
    (the copy's ids are derived from the new version's and the originals', in SQL:
    ``seeme.db.derived_uuid_sql``), and the LabelStat rows as they are: they were exact in
    the source, which the source's exclusive lock keeps still while it is read. An empty
    ``name`` becomes v<N>; a taken one is a Conflict. ``progress(done, total, message)`` hears
    after each table how far the copy is, in items. One transaction.
    """
    _lock_exclusive(version)
    copy = version_create(
        dataset=version.dataset,
        user=user,
        name=name,
        description=version.description if description is None else description,
        default_split=version.default_split,
        config=version.config,
    )
    ns = copy.pk
    now = timezone.now()

    labels = version_labels(version=version)
    label_map = {lb.pk: derived_uuid(ns, "label", lb.pk) for lb in labels}
    Label.objects.bulk_create(
        [
            Label(
                id=label_map[lb.pk],
                version=copy,
                user_id=lb.user_id,
                name=lb.name,
                description=lb.description,
                color=lb.color,
                index=lb.index,
                shortcut=lb.shortcut,
            )
            for lb in labels
        ]
    )
    splits = version_splits(version=version)
    split_map = {s.pk: derived_uuid(ns, "split", s.pk) for s in splits}
    in_splits, split_ids = _in_splits("s", split_map)
    source_version = _version_param(version.pk)
    insert_select(
        DatasetSplit,
        source=f"{_q(DatasetSplit._meta.db_table)} s",
        where=f"s.{_q('version_id')} = %s",
        where_params=[source_version],
        set_values={"version": copy.pk, "updated_at": now},
        set_sql={"id": derived_uuid_sql("s.id", ns, "split")},
    )

    total = version_duplicate_size(version=version)
    memberships, annotations = _row_counts(version)
    rows = max(1, total + memberships + annotations)

    def report(copied: int, message: str) -> None:
        # In items, the unit people think in: the share of all rows copied so far.
        if progress:
            progress(total * copied // rows, total, message)

    copy_version = _version_param(copy.pk)
    in_new_splits, new_split_ids = _in_splits("c", split_map.values())
    split_field = ItemSplit._meta.get_field("split")
    label_field = Annotation._meta.get_field("label")
    copied = (Item, ItemSplit, Annotation, ItemState)
    created = (Version, Label, DatasetSplit, Item)
    with SetBasedChecks(*copied, created=created, rows=rows) as checks:
        report(0, "Copying items")
        insert_select(
            Item,
            source=f"{_q(Item._meta.db_table)} s",
            where=f"s.{_q('dataset_version_id')} = %s",
            where_params=[source_version],
            set_values={"dataset_version": copy.pk, "updated_at": now},
            set_sql={"id": derived_uuid_sql("s.id", ns, "item")},
        )
        report(total, "Copying split memberships")
        insert_select(
            ItemSplit,
            source=f"{_q(ItemSplit._meta.db_table)} s",
            where=in_splits,
            where_params=split_ids,
            set_values={"updated_at": now},
            set_sql={
                "id": derived_uuid_sql("s.id", ns, "membership"),
                "item": derived_uuid_sql("s.item_id", ns, "item"),
                "split": mapped_sql("s.split_id", split_map, split_field),
            },
        )
        report(total + memberships, "Copying annotations")
        insert_select(
            Annotation,
            source=f"{_q(Annotation._meta.db_table)} s",
            where=in_splits,
            where_params=split_ids,
            set_values={"updated_at": now},
            set_sql={
                "id": derived_uuid_sql("s.id", ns, "annotation"),
                "label": mapped_sql("s.label_id", label_map, label_field),
                "item": derived_uuid_sql("s.item_id", ns, "item"),
                "split": mapped_sql("s.split_id", split_map, split_field),
            },
        )
        insert_select(
            ItemState,
            source=f"{_q(ItemState._meta.db_table)} s",
            where=f"s.{_q('dataset_version_id')} = %s",
            where_params=[source_version],
            set_values={"dataset_version": copy.pk, "updated_at": now},
            set_sql={
                "id": derived_uuid_sql("s.id", ns, "state"),
                "item": derived_uuid_sql("s.item_id", ns, "item"),
            },
        )
        checks.check(Item, f"c.{_q('dataset_version_id')} = %s", [copy_version])
        checks.check(ItemSplit, in_new_splits, new_split_ids)
        checks.check(Annotation, in_new_splits, new_split_ids)
        checks.check(ItemState, f"c.{_q('dataset_version_id')} = %s", [copy_version])
    rows_copy_for_version(source_version_id=version.pk, split_map=split_map, label_map=label_map)
    report(rows, "Copied")
    return copy
