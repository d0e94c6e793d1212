"""Labelling from the pages: whole-item labels on one item or on a selection, in one
transaction, through ``annotation_create`` (so every count moves with the write)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from labels.models import Annotation, Label
from labels.services.items import annotation_create
from seeme.db import atomic_write
from seeme.exceptions import InvalidInput
from seeme.models import Item, User, Version
from splits.models import ItemSplit


@dataclass(frozen=True)
class LabelResult:
    """``labelled``: items that got the label; ``unchanged``: they had it already;
    ``skipped``: items in no split, or in several with none chosen."""

    labelled: int
    unchanged: int
    skipped: int


@atomic_write
def items_label_whole(
    *,
    version: Version,
    user: User | None,
    label_id: uuid.UUID,
    item_ids: Sequence[uuid.UUID],
    split_id: uuid.UUID | None = None,
) -> LabelResult:
    """Give each item the whole-item label ``label_id`` in ``split_id`` (when the item is a
    member of it) or else in its only split.

    An item that already carries the label there as a whole-item annotation is left alone
    (no duplicate; on a single-label dataset no churn). On a single-label dataset the new
    label replaces the item's other whole-item label (``annotation_create``'s rule). One
    transaction: any refused item (unknown label or item) writes nothing.
    """
    if not Label.objects.filter(pk=label_id, version=version).exists():
        raise InvalidInput("This label is not in this version.", {"label": ["unknown label"]})
    ids = sorted(set(item_ids))
    known = set(
        Item.objects.filter(dataset_version=version, pk__in=ids).values_list("pk", flat=True)
    )
    missing = [str(i) for i in ids if i not in known]
    if missing:
        raise InvalidInput(
            "Some items are not in this version: " + ", ".join(missing[:10]),
            {"items": ["unknown item"]},
        )
    memberships: dict[uuid.UUID, list[uuid.UUID]] = {}
    for item_id, member_split in ItemSplit.objects.filter(item_id__in=ids).values_list(
        "item_id", "split_id"
    ):
        memberships.setdefault(item_id, []).append(member_split)
    has = set(
        Annotation.objects.filter(item_id__in=ids, label_id=label_id, coordinates="").values_list(
            "item_id", "split_id"
        )
    )
    labelled = unchanged = skipped = 0
    for item_id in ids:
        splits = memberships.get(item_id, [])
        if split_id is not None and split_id in splits:
            target = split_id
        elif len(splits) == 1:
            target = splits[0]
        else:
            skipped += 1
            continue
        if (item_id, target) in has:
            unchanged += 1
            continue
        annotation_create(
            version=version, user=user, label_id=label_id, item_id=item_id, split_id=target
        )
        labelled += 1
    return LabelResult(labelled=labelled, unchanged=unchanged, skipped=skipped)
