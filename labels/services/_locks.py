"""Lock helpers shared by the write services (see ``seeme.locks`` for the hierarchy)."""

import uuid
from collections.abc import Iterable

from django.db.models import Q

from seeme.exceptions import NotFound
from seeme.locks import lock_version_shared, lock_versions_exclusive
from seeme.models import Version
from splits.models import ItemSplit


def _lock_shared(version: Version) -> None:
    if not lock_version_shared(version.pk):
        raise NotFound("This dataset version does not exist.")


def _lock_exclusive(version: Version) -> None:
    if not lock_versions_exclusive([version.pk]):
        raise NotFound("This dataset version does not exist.")


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
