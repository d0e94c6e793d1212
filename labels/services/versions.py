"""Duplicating a version: labels, splits, items, memberships, annotations and statistics."""

import uuid

from django.db import connections, router
from django.utils import timezone

from labels.models import Annotation, Label
from labels.selectors.stats import version_labels, version_splits
from labels.services._locks import _lock_exclusive
from labels.stats import rows_copy_for_version
from seeme.db import atomic_write, copy_rows
from seeme.models import Item, User, Version
from seeme.services import version_create
from splits.models import DatasetSplit, ItemSplit

BATCH = 10_000


def _copy_id(namespace: uuid.UUID, kind: str, old: uuid.UUID) -> uuid.UUID:
    """The copy's id: derived from the new version and the original, so no id map is kept
    in memory however many items the version has."""
    return uuid.uuid5(namespace, f"{kind}:{old}")


def _batches(queryset, *fields):
    """Rows of ``queryset`` as tuples ``(pk, *fields)``, BATCH at a time by primary key.

    Keyset pages instead of one open cursor: the copy inserts into the tables it reads, and
    SQLite leaves undefined what an open SELECT sees of such inserts."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page.values_list("pk", *fields)[:BATCH])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _insert_keeping_times(model, objs: list) -> None:
    """Insert copies with the originals' ``created_at`` (and so their order).

    ``bulk_create`` stamps ``created_at`` with now (``auto_now_add``); a raw insert, the one
    ``loaddata`` uses, writes the values as given. Callers set ``updated_at`` themselves.
    """
    if not objs:
        return
    fields = model._meta.local_concrete_fields
    size = connections[router.db_for_write(model)].ops.bulk_batch_size(fields, objs)
    size = max(1, min(size or len(objs), BATCH))
    for start in range(0, len(objs), size):
        model._base_manager._insert(objs[start : start + size], fields=fields, raw=True)


@atomic_write
def version_duplicate(
    *,
    version: Version,
    user: User | None,
    name: str = "",
    description: str | None = None,
) -> Version:
    """Copy a version into a new one of the same dataset (SeeMe's "new version from").

    Copies labels (same index, colour, shortcut), splits, items (with their creation times),
    memberships and annotations, and the LabelStat rows as they are: they were exact in the
    source, which the source's exclusive lock keeps still while it is read. An empty
    ``name`` becomes v<N>; a taken one is a Conflict. One transaction.
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

    labels = version_labels(version=version)
    label_map = {lb.pk: _copy_id(ns, "label", lb.pk) for lb in labels}
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
    split_map = {s.pk: _copy_id(ns, "split", s.pk) for s in splits}
    now = timezone.now()
    _insert_keeping_times(
        DatasetSplit,
        [
            DatasetSplit(
                id=split_map[s.pk],
                version=copy,
                user_id=s.user_id,
                name=s.name,
                description=s.description,
                created_at=s.created_at,
                updated_at=now,
            )
            for s in splits
        ],
    )

    # Rows stream through copy_rows (COPY on PostgreSQL), a page of the source at a time:
    # the ORM's per-object inserts cost ~1 ms a row, minutes for a million items.
    item_fields = (
        "user_id",
        "name",
        "description",
        "text",
        "extension",
        "group",
        "content_hash",
        "file_id",  # the copy shares the stored file (content-addressed), no bytes copied
        "version",
        "created_at",
    )
    for rows in _batches(Item.objects.filter(dataset_version=version), *item_fields):
        copy_rows(
            Item,
            ("id", "dataset_version", "updated_at", *item_fields),
            [(_copy_id(ns, "item", pk), copy.pk, now, *values) for pk, *values in rows],
        )

    for rows in _batches(
        ItemSplit.objects.filter(split__version=version), "item_id", "split_id", "created_at"
    ):
        copy_rows(
            ItemSplit,
            ("item", "split", "created_at", "updated_at"),
            [
                (_copy_id(ns, "item", item_id), split_map[split_id], created_at, now)
                for _, item_id, split_id, created_at in rows
            ],
        )

    for rows in _batches(
        Annotation.objects.filter(split__version=version),
        "label_id",
        "item_id",
        "split_id",
        "coordinates",
        "user_id",
        "created_at",
    ):
        copy_rows(
            Annotation,
            ("id", "label", "item", "split", "coordinates", "user", "created_at", "updated_at"),
            [
                (
                    _copy_id(ns, "annotation", pk),
                    label_map[label_id],
                    _copy_id(ns, "item", item_id),
                    split_map[split_id],
                    coordinates,
                    user_id,
                    created_at,
                    now,
                )
                for pk, label_id, item_id, split_id, coordinates, user_id, created_at in rows
            ],
        )

    rows_copy_for_version(source_version_id=version.pk, split_map=split_map, label_map=label_map)
    return copy
