"""Item-level writes: items, membership in splits and annotations (shared version lock)."""

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from labels.models import Annotation, Label
from labels.services._locks import (
    _lock_for_annotation,
    _lock_item,
    _lock_memberships,
    _lock_shared,
    _locked_annotation,
)
from labels.stats import StatsDelta, pair_states
from seeme.db import atomic_write, column_of
from seeme.exceptions import InvalidInput, NotFound
from seeme.models import Item, User, Version, text_content_hash
from splits.models import DatasetSplit, ItemSplit

# -- items and membership -------------------------------------------------------------------


def _splits_of_version(version: Version, split_ids: Iterable[uuid.UUID]) -> list[DatasetSplit]:
    split_ids = list(dict.fromkeys(split_ids))
    found = {s.pk: s for s in DatasetSplit.objects.filter(version=version, pk__in=split_ids)}
    missing = [str(s) for s in split_ids if s not in found]
    if missing:
        raise InvalidInput(
            "Some splits do not belong to this version: " + ", ".join(missing),
            {"splits": [f"unknown split {m}" for m in missing]},
        )
    return [found[s] for s in split_ids]


@atomic_write
def item_create(
    *,
    version: Version,
    user: User | None,
    name: str = "",
    description: str = "",
    text: str = "",
    extension: str = "",
    split_ids: Sequence[uuid.UUID] = (),
    group: str = "",
    content_hash: str = "",
) -> Item:
    """Create an item, member of the given splits (unlabelled there).

    ``content_hash`` is the hash of the item's file when the caller knows it, else the
    SHA-256 of ``text``."""
    _lock_shared(version)
    splits = _splits_of_version(version, split_ids)
    item = Item.objects.create(
        dataset_version=version,
        user=user,
        name=name,
        description=description,
        text=text,
        extension=extension,
        group=group,
        content_hash=content_hash or text_content_hash(text),
    )
    ItemSplit.objects.bulk_create([ItemSplit(item=item, split=s) for s in splits])
    delta = StatsDelta()
    for split in splits:
        delta.change(split.pk, None, Counter())
    delta.apply()
    return item


@atomic_write
def item_add_to_split(*, item: Item, split: DatasetSplit) -> bool:
    """Make an item a member of a split (unlabelled there); False if it already was.

    Locks the item, so a concurrent removal cannot delete it as "in no split" meanwhile.
    """
    _lock_shared(split.version)
    if split.version_id != item.dataset_version_id:
        raise InvalidInput("The item and the split belong to different versions.")
    _lock_item(item.pk)
    _, created = ItemSplit.objects.get_or_create(item=item, split=split)
    if created:
        delta = StatsDelta()
        delta.change(split.pk, None, Counter())
        delta.apply()
    return created


def _remove_memberships(pairs: set[tuple], delta: StatsDelta) -> None:
    """Drop locked (item, split) pairs and their annotations, recording the stats change."""
    for (_item_id, split_id), before in pair_states(pairs).items():
        delta.change(split_id, before, None)
    q = Q()
    for item_id, split_id in pairs:
        q |= Q(item_id=item_id, split_id=split_id)
    if pairs:
        Annotation.objects.filter(q).delete()
        ItemSplit.objects.filter(q).delete()


@atomic_write
def item_remove_from_split(*, item: Item, split: DatasetSplit) -> bool:
    """Remove an item from a split with its annotations there; returns True when the item,
    left in no split, was deleted. Locks the item first: its set of splits holds still."""
    _lock_shared(split.version)
    if split.version_id != item.dataset_version_id:
        raise NotFound("This item is not in this split.")
    _lock_item(item.pk)
    pair = (item.pk, split.pk)
    if pair not in _lock_memberships([pair]):
        raise NotFound("This item is not in this split.")
    delta = StatsDelta()
    _remove_memberships({pair}, delta)
    delta.apply()
    if not ItemSplit.objects.filter(item_id=item.pk).exists():
        Annotation.objects.filter(item_id=item.pk).delete()
        Item.objects.filter(pk=item.pk).delete()
        return True
    return False


@atomic_write
def item_delete(*, item: Item) -> None:
    """Delete an item with its memberships and annotations in every split."""
    _lock_shared(item.dataset_version)
    _lock_item(item.pk)
    split_ids = ItemSplit.objects.filter(item=item).values_list("split_id", flat=True)
    pairs = _lock_memberships((item.pk, s) for s in split_ids)
    delta = StatsDelta()
    _remove_memberships(pairs, delta)
    delta.apply()
    Annotation.objects.filter(item_id=item.pk).delete()
    Item.objects.filter(pk=item.pk).delete()


@atomic_write
def item_move_to_split(*, item: Item, from_split: DatasetSplit, to_split: DatasetSplit) -> bool:
    """Move an item from one split of its version to another, its annotations there with it.

    The membership row and the annotations change split in place, and both splits' numbers
    move in the same transaction. Returns False when the two splits are the same. Raises
    InvalidInput when a split is not of the item's version or the item is already in
    ``to_split``, NotFound when it is not in ``from_split``. Locks the version (shared), the
    item, then its membership rows.
    """
    version = Version(pk=item.dataset_version_id)
    _lock_shared(version)
    _splits_of_version(version, [from_split.pk, to_split.pk])
    if from_split.pk == to_split.pk:
        return False
    _lock_item(item.pk)
    old, new = (item.pk, from_split.pk), (item.pk, to_split.pk)
    held = _lock_memberships({old, new})
    if old not in held:
        raise NotFound("This item is not in this split.")
    if new in held:
        message = f"The item is already in the split {to_split.name!r}."
        raise InvalidInput(message, {"split": [message]})
    before = pair_states([old])[old]
    ItemSplit.objects.filter(item_id=item.pk, split_id=from_split.pk).update(
        split=to_split, updated_at=timezone.now()
    )
    Annotation.objects.filter(item_id=item.pk, split_id=from_split.pk).update(
        split=to_split, updated_at=timezone.now()
    )
    delta = StatsDelta()
    delta.change(from_split.pk, before, None)
    delta.change(to_split.pk, None, before)
    delta.apply()
    return True


# -- annotations ----------------------------------------------------------------------------


def _label_of_version(version: Version, label_id) -> Label:
    label = Label.objects.filter(pk=label_id, version=version).first()
    if label is None:
        raise InvalidInput(
            "The label does not belong to this dataset version.",
            {"label_id": ["unknown label for this version"]},
        )
    return label


def _split_of_version(version: Version, split_id) -> DatasetSplit:
    split = DatasetSplit.objects.filter(pk=split_id, version=version).first()
    if split is None:
        raise InvalidInput(
            "The split does not belong to this dataset version.",
            {"split_id": ["unknown split for this version"]},
        )
    return split


def _as_uuid(value, field: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise InvalidInput(f"{field} is not an id.", {field: ["must be a UUID"]}) from exc


def _not_a_member(version: Version, item_id) -> InvalidInput:
    """The error for an annotation on a pair whose membership row does not exist."""
    if not Item.objects.filter(pk=item_id, dataset_version=version).exists():
        return InvalidInput(
            "The item does not belong to this dataset version.",
            {"item_id": ["unknown item for this version"]},
        )
    return InvalidInput(
        "The item is not a member of this split; add it to the split first.",
        {"item_id": ["item is not in this split"]},
    )


def _annotations_of(item_id, split_ids: set) -> dict[tuple, list[tuple]]:
    """(id, label_id, coordinates) of an item's annotations in the given splits, by pair.

    One query; the caller holds the pairs' membership locks, so the answer stays true. It
    filters on the item only, like ``labels.stats.pair_states`` and for the same reason. Raw
    SQL: on the path of every annotation write, the ORM spends longer building this query
    than the database answering it.
    """
    found: dict[tuple, list[tuple]] = {(item_id, s): [] for s in split_ids}
    meta, quote = Annotation._meta, connection.ops.quote_name
    columns = ", ".join(
        quote(column_of(meta, name)) for name in ("id", "split", "label", "coordinates")
    )
    as_uuid = meta.pk.to_python
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {quote(meta.db_table)} "
            f"WHERE {quote(meta.get_field('item').column)} = %s",
            [meta.pk.get_db_prep_value(item_id, connection)],
        )
        rows = cursor.fetchall()
    for pk, split_id, label_id, coordinates in rows:
        split_id = as_uuid(split_id)
        if split_id in split_ids:
            found[(item_id, split_id)].append((as_uuid(pk), as_uuid(label_id), coordinates))
    return found


def _whole_item_replaced(version: Version, rows: list[tuple], keep_id=None) -> list[tuple]:
    """The (id, label_id) of the whole-item annotations among ``rows`` that a new whole-item
    annotation replaces: all of them on a single-label dataset, none on a multi-label one."""
    if version.dataset.multi_label:
        return []
    return [
        (pk, label_id) for pk, label_id, coordinates in rows if not coordinates and pk != keep_id
    ]


@atomic_write
def annotation_create(
    *,
    version: Version,
    user: User | None,
    label_id,
    item_id,
    split_id,
    coordinates: str = "",
) -> Annotation:
    """Annotate an item in a split. On a single-label dataset a whole-item annotation
    replaces the item's previous whole-item annotation in that split.

    Locks the version (shared) and the (item, split) membership row, so writers of one pair
    run one after another; the usual case takes one statement for locks and checks.
    """
    label_id, item_id, split_id = (
        _as_uuid(value, name)
        for value, name in ((label_id, "label_id"), (item_id, "item_id"), (split_id, "split_id"))
    )
    if not _lock_for_annotation(version, label_id, split_id, item_id):
        _lock_shared(version)
        label_id = _label_of_version(version, label_id).pk
        split_id = _split_of_version(version, split_id).pk
        if (item_id, split_id) not in _lock_memberships([(item_id, split_id)]):
            raise _not_a_member(version, item_id)
    pair = (item_id, split_id)
    rows = _annotations_of(item_id, {split_id})[pair]
    before = Counter(row[1] for row in rows)
    after = Counter(before)
    if not coordinates:
        replaced = _whole_item_replaced(version, rows)
        for _, old_label in replaced:
            after[old_label] -= 1
        if replaced:
            Annotation.objects.filter(pk__in=[pk for pk, _ in replaced]).delete()
    annotation = Annotation.objects.create(
        label_id=label_id,
        item_id=item_id,
        split_id=split_id,
        coordinates=coordinates,
        user=user,
    )
    after[label_id] += 1
    delta = StatsDelta()
    delta.change(split_id, before, +after)
    delta.apply()
    return annotation


@atomic_write
def annotation_update(*, annotation: Annotation, data: dict) -> Annotation:
    """Change an annotation's label, split or coordinates, moving the counts with it.

    Locks the membership rows of the annotation's pair and of the target pair, then works
    on the annotation as it is under those locks (not as the caller last saw it).
    """
    version = annotation.split.version
    _lock_shared(version)
    label = _label_of_version(version, data["label_id"]) if "label_id" in data else None
    target = _split_of_version(version, data["split_id"]).pk if "split_id" in data else None
    current, existing = _locked_annotation(annotation.pk, target)
    label_id = current.label_id if label is None else label.pk
    old_pair = (current.item_id, current.split_id)
    new_pair = old_pair if target is None else (current.item_id, target)
    if new_pair not in existing:
        raise _not_a_member(version, current.item_id)
    rows = _annotations_of(current.item_id, {old_pair[1], new_pair[1]})
    befores = {pair: Counter(row[1] for row in found) for pair, found in rows.items()}
    states = {pair: Counter(before) for pair, before in befores.items()}
    states[old_pair][current.label_id] -= 1
    coordinates = data.get("coordinates", current.coordinates)
    if not coordinates:
        replaced = _whole_item_replaced(version, rows[new_pair], keep_id=current.pk)
        for _, old_label in replaced:
            states[new_pair][old_label] -= 1
        if replaced:
            Annotation.objects.filter(pk__in=[pk for pk, _ in replaced]).delete()
    states[new_pair][label_id] += 1
    if label is not None:
        current.label = label
    current.split_id = new_pair[1]
    current.coordinates = coordinates
    current.save()
    delta = StatsDelta()
    for pair, before in befores.items():
        delta.change(pair[1], before, +states[pair])
    delta.apply()
    return current


@atomic_write
def annotation_delete(*, annotation: Annotation) -> Annotation:
    """Delete an annotation; returns it as it was (under its pair's lock, not as the caller
    last saw it)."""
    _lock_shared(annotation.split.version)
    current, _ = _locked_annotation(annotation.pk)
    pair = (current.item_id, current.split_id)
    before = Counter(row[1] for row in _annotations_of(current.item_id, {pair[1]})[pair])
    after = Counter(before)
    after[current.label_id] -= 1
    Annotation.objects.filter(pk=current.pk).delete()
    delta = StatsDelta()
    delta.change(pair[1], before, +after)
    delta.apply()
    return current
