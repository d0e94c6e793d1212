"""Lock helpers shared by the write services (see ``seeme.locks`` for the hierarchy)."""

import uuid
from collections.abc import Iterable

from django.db import connection
from django.db.models import Q

from labels.models import Annotation, Label
from seeme.exceptions import NotFound
from seeme.locks import lock_clause, lock_items, lock_version_shared, lock_versions_exclusive
from seeme.models import Version
from splits.models import DatasetSplit, ItemSplit


def _lock_shared(version: Version) -> None:
    if not lock_version_shared(version.pk):
        raise NotFound("This dataset version does not exist.")


def _lock_exclusive(version: Version) -> None:
    if not lock_versions_exclusive([version.pk]):
        raise NotFound("This dataset version does not exist.")


def _lock_item(item_id: uuid.UUID) -> None:
    """Lock an item whose memberships are about to change; NotFound when it is gone."""
    if not lock_items([item_id]):
        raise NotFound("This item does not exist.")


def _lock_memberships(pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]) -> set[tuple]:
    """Lock the (item, split) membership rows in id order; returns the pairs that exist."""
    pairs = set(pairs)
    if not pairs:
        return set()
    q = Q()
    for item_id, split_id in pairs:
        q |= Q(item_id=item_id, split_id=split_id)
    rows = ItemSplit.objects.select_for_update().filter(q).order_by("id")
    return {(r.item_id, r.split_id) for r in rows}


def _lock_for_annotation(version: Version, label_id, split_id, item_id) -> bool:
    """The locks and checks of a new annotation in ONE statement: the version (shared), the
    label and the split of that version (key share: they cannot be deleted under us) and the
    (item, split) membership row (update); False when any of them is missing.

    Equivalent to ``_lock_shared`` and then ``_lock_memberships`` of the pair, three
    statements fewer on the path every annotation takes. On False the caller finds out, in
    fresh statements, what is missing.
    """
    tables = {
        alias: connection.ops.quote_name(model._meta.db_table)
        for alias, model in (("v", Version), ("l", Label), ("s", DatasetSplit), ("m", ItemSplit))
    }
    sql = (
        f"SELECT m.id FROM {tables['v']} v JOIN {tables['l']} l ON l.version_id = v.id "
        f"JOIN {tables['s']} s ON s.version_id = v.id "
        f"JOIN {tables['m']} m ON m.split_id = s.id "
        "WHERE v.id = %s AND l.id = %s AND s.id = %s AND m.item_id = %s"
        + lock_clause(key_share=["v", "l", "s"], update=["m"])
    )
    pk = Version._meta.pk
    params = [
        pk.get_db_prep_value(value, connection)
        for value in (version.pk, label_id, split_id, item_id)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _locked_annotation(
    annotation_id: uuid.UUID, also_split_id: uuid.UUID | None = None
) -> tuple[Annotation, set[tuple]]:
    """The annotation as it stands once the membership row of its (item, split) pair, and of
    (item, ``also_split_id``) when given, are locked; with the pairs that exist.

    The annotation is read before the lock to learn its pair and again after: a concurrent
    writer may have moved it to another split meanwhile, in which case that pair is locked
    too and the annotation read again. Once the annotation is read under its pair's lock,
    nobody else can change or delete it before this transaction ends.
    """
    held: set[tuple] = set()
    existing: set[tuple] = set()
    while True:
        current = Annotation.objects.filter(pk=annotation_id).first()
        if current is None:
            raise NotFound("This annotation does not exist.")
        wanted = {(current.item_id, current.split_id)}
        if also_split_id is not None:
            wanted.add((current.item_id, also_split_id))
        if wanted <= held:
            return current, existing
        existing |= _lock_memberships(wanted - held)
        held |= wanted
