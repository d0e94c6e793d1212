"""Row locks that order concurrent writers; the only place that knows about the vendor.

Lock hierarchy (always taken top-down, each level in primary-key order):

1. the Version row: item-level writers take it shared (``FOR KEY SHARE``); structural writers
   (label or split create / delete, version or dataset delete) take it exclusively
   (``FOR UPDATE``), so they never run beside an item-level writer of the same version;
2. Item rows (``FOR NO KEY UPDATE``), taken only by writers that add or remove an item's
   memberships or delete it, so the set of an item's splits holds still while they work (an
   annotation writer, whose foreign keys take ``FOR KEY SHARE`` on the item at commit, is not
   blocked by it);
3. ItemSplit membership rows (``FOR UPDATE``): serialise writers of one item in one split; an
   annotation can only change (label, split, existence) while its pair's row is locked;
4. LabelStat rows (``FOR UPDATE``), taken by ``labels.stats`` just before they are updated.

A writer that finds, under a lock, that it needs one more lock of an earlier level (an
annotation moved to another split meanwhile) takes it out of order; the deadlock this can
cause is detected by PostgreSQL and the whole transaction is retried by
``seeme.db.atomic_write``.

On SQLite every transaction starts with ``BEGIN IMMEDIATE`` and so already runs alone; the
functions still run the SELECT so callers learn whether the rows exist.
"""

import uuid
from collections.abc import Iterable

from django.db import connection

from seeme.models import Item, Version


def _locked_ids(model, ids: Iterable[uuid.UUID], mode: str) -> set[uuid.UUID]:
    ids = sorted({i for i in ids}, key=str)
    if not ids:
        return set()
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        placeholders = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {table} WHERE id IN ({placeholders}) ORDER BY id {mode}", ids
            )
            return {row[0] for row in cursor.fetchall()}
    return set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))


def lock_clause(*, key_share: Iterable[str] = (), update: Iterable[str] = ()) -> str:
    """The row-locking clause of a SELECT that joins several levels of the hierarchy: the
    aliases in ``key_share`` ``FOR KEY SHARE`` (the version, and rows only referenced), those
    in ``update`` ``FOR UPDATE``; PostgreSQL locks them in the order of the FROM clause.

    Empty on SQLite, where the transaction already runs alone. The caller must read anything
    that other writers may have changed while it waited in a later statement.
    """
    if connection.vendor != "postgresql":
        return ""
    clauses = [
        f"FOR {mode} OF {', '.join(aliases)}"
        for mode, aliases in (("KEY SHARE", list(key_share)), ("UPDATE", list(update)))
        if aliases
    ]
    return " " + " ".join(clauses)


def lock_version_shared(version_id: uuid.UUID) -> bool:
    """Take the version lock for an item-level write; False when the version is gone.

    Must be called inside ``transaction.atomic()``.
    """
    return bool(_locked_ids(Version, [version_id], "FOR KEY SHARE"))


def lock_versions_exclusive(version_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Take the version lock for a structural write; returns the ids that still exist.

    Must be called inside ``transaction.atomic()``.
    """
    return _locked_ids(Version, version_ids, "FOR UPDATE")


def lock_items(item_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Lock items whose memberships are about to change; returns the ids that still exist.

    Must be called inside ``transaction.atomic()``, after the version lock.
    """
    return _locked_ids(Item, item_ids, "FOR NO KEY UPDATE")
