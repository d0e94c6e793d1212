"""An item PUT that may carry ``splits``: the item's own fields and its membership in one
transaction (DATA.md, "Moving an item by PUT").

A ``splits`` list equal (as a set) to the item's present splits changes nothing. One split
that differs moves the item there through the bulk move (``items_move_to_split``: it leaves
every other split and its annotations follow). A superset of the present splits adds the
item to the new ones (unlabelled there). Anything else (no split, or dropping some splits
while adding others) is refused with a 400 naming the calls to make instead: an item PUT
never answers 200 while ignoring part of its body.
"""

import uuid
from collections.abc import Sequence

from labels.services._locks import _lock_exclusive
from labels.services.assignment import items_move_to_split
from labels.services.items import _splits_of_version, item_add_to_split
from seeme import services as kernel
from seeme.db import atomic_write
from seeme.exceptions import InvalidInput
from seeme.models import Item, Version
from splits.models import DatasetSplit, ItemSplit


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, {"splits": [message]})


@atomic_write
def item_update_with_splits(
    *,
    item: Item,
    data: dict,
    split_ids: Sequence[uuid.UUID] | None,
    if_match: int | None = None,
) -> Item:
    """Update an item's fields (``seeme.services.item_update``) and, when ``split_ids`` is
    given and differs from the item's splits, its membership (see the module docstring).

    One transaction: a refused membership change or a stale ``if_match`` writes nothing.
    Locks the version exclusively first when the splits change (the bulk move's lock), then
    the item row."""
    target: DatasetSplit | None = None
    added: list[DatasetSplit] = []
    if split_ids is not None:
        version = Version.objects.select_related("dataset").get(pk=item.dataset_version_id)
        wanted = _splits_of_version(version, split_ids)
        current = set(ItemSplit.objects.filter(item_id=item.pk).values_list("split_id", flat=True))
        wanted_ids = {s.pk for s in wanted}
        if wanted_ids != current:
            items_url = "POST …/splits/{split_id}/move with item_ids"
            if not wanted:
                raise _refuse(
                    "splits may not be empty: to take the item out of a split call "
                    "DELETE …/splits/{split_id}/items/{item_id}."
                )
            if len(wanted) == 1:
                target = wanted[0]
            elif wanted_ids >= current:
                added = [s for s in wanted if s.pk not in current]
            else:
                raise _refuse(
                    "An item PUT moves an item into ONE split, or adds it to more splits "
                    "while keeping its present ones. To leave some splits and join others, "
                    f"call {items_url} (moves annotations along) or DELETE "
                    "…/splits/{split_id}/items/{item_id}."
                )
            _lock_exclusive(version)
    updated = kernel.item_update(item=item, data=data, if_match=if_match)
    if target is not None:
        items_move_to_split(split=target, item_ids=[item.pk])
    for split in added:
        item_add_to_split(item=updated, split=split)
    return updated
