"""Writes that change a split's numbers: all of them update LabelStat in their transaction.

Each function locks top-down (see ``seeme.locks``): the version row, then the ItemSplit rows
it changes (primary-key order), then ``StatsDelta.apply()`` locks the LabelStat rows. Every
public function is one transaction (``atomic_write``), retried whole after a deadlock.
"""

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError
from django.db.models import Max, Q

from labels.models import Annotation, Label
from labels.stats import StatsDelta, pair_states, rows_create_for_label, rows_create_for_split
from seeme.db import atomic_write
from seeme.exceptions import Conflict, InvalidInput, NotFound
from seeme.locks import lock_version_shared, lock_versions_exclusive
from seeme.models import ContentType, Dataset, Item, Version
from seeme.services import version_create
from splits.models import DEFAULT_SPLIT_NAMES, DatasetSplit, ItemSplit


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


# -- datasets and splits --------------------------------------------------------------------


@atomic_write
def dataset_create(
    *, owner: AbstractBaseUser, name: str, description: str = "", notes: str = "",
    multi_label: bool = False, default_splits: bool = False,
    content_type: str = ContentType.IMAGES,
) -> Dataset:
    """Create a dataset and its first version ``v1``, with train/valid/test if asked."""
    dataset = Dataset.objects.create(
        owner=owner, name=name, description=description, notes=notes, multi_label=multi_label,
        default_splits=default_splits, content_type=content_type,
    )
    version = version_create(dataset=dataset, user=owner, name="v1")
    if default_splits:
        for split_name in DEFAULT_SPLIT_NAMES:
            split_create(version=version, user=owner, name=split_name)
    return dataset


@atomic_write
def split_create(
    *, version: Version, user: AbstractBaseUser | None, name: str, description: str = ""
) -> DatasetSplit:
    """Create a split and its zeroed statistics rows. 409 when the name is taken."""
    _lock_exclusive(version)
    if DatasetSplit.objects.filter(version=version, name=name).exists():
        message = f"A split named {name!r} exists in this version."
        raise Conflict(message, {"name": [message]})
    split = DatasetSplit.objects.create(
        version=version, user=user, name=name, description=description
    )
    rows_create_for_split(split)
    return split


@atomic_write
def split_delete(*, split: DatasetSplit) -> None:
    """Delete a split, its memberships, annotations and statistics; items stay."""
    _lock_exclusive(split.version)
    Annotation.objects.filter(split=split).delete()
    ItemSplit.objects.filter(split=split).delete()
    DatasetSplit.objects.filter(pk=split.pk).delete()


# -- labels ------------------------------------------------------------------------------------


@atomic_write
def label_create(
    *, version: Version, user: AbstractBaseUser | None, name: str, description: str = "",
    color: str | None = None, shortcut: str = "",
) -> Label:
    """Create a label with the next index and a zeroed row in every split. 409 on a duplicate."""
    _lock_exclusive(version)
    if Label.objects.filter(version=version, name=name).exists():
        message = f"A label named {name!r} exists in this version."
        raise Conflict(message, {"name": [message]})
    top = Label.objects.filter(version=version).aggregate(top=Max("index"))["top"]
    index = 0 if top is None else top + 1
    label = Label(
        version=version, user=user, name=name, description=description, shortcut=shortcut,
        index=index,
    )
    label.color = color or PALETTE[index % len(PALETTE)]
    label.save()
    rows_create_for_label(label)
    return label


# Tableau 10: distinct, colour-blind-aware defaults for labels created without a colour.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")


@atomic_write
def label_update(*, label: Label, data: dict) -> Label:
    """Rename, recolour or describe a label. 409 when the new name is taken."""
    for field in ("name", "description", "color", "shortcut"):
        if field in data:
            setattr(label, field, data[field])
    try:
        label.save()
    except IntegrityError as exc:
        message = f"A label named {label.name!r} exists in this version."
        raise Conflict(message, {"name": [message]}) from exc
    return label


@atomic_write
def label_delete(*, label: Label) -> None:
    """Delete a label and its annotations; items left bare count as unlabelled again."""
    _lock_exclusive(label.version)
    pairs = set(Annotation.objects.filter(label=label).values_list("item_id", "split_id"))
    delta = StatsDelta()
    for (_item_id, split_id), before in pair_states(pairs).items():
        after = Counter(before)
        del after[label.pk]
        delta.change(split_id, before, after)
    # The label's own rows go with the label; only the other rows need moving.
    delta.drop_label(label.pk)
    delta.apply()
    Annotation.objects.filter(label=label).delete()
    Label.objects.filter(pk=label.pk).delete()


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
    *, version: Version, user: AbstractBaseUser | None, name: str = "", description: str = "",
    text: str = "", extension: str = "", split_ids: Sequence[uuid.UUID] = (),
) -> Item:
    """Create an item, member of the given splits (unlabelled there)."""
    _lock_shared(version)
    splits = _splits_of_version(version, split_ids)
    item = Item.objects.create(
        dataset_version=version, user=user, name=name, description=description, text=text,
        extension=extension,
    )
    ItemSplit.objects.bulk_create([ItemSplit(item=item, split=s) for s in splits])
    delta = StatsDelta()
    for split in splits:
        delta.change(split.pk, None, Counter())
    delta.apply()
    return item


@atomic_write
def item_add_to_split(*, item: Item, split: DatasetSplit) -> bool:
    """Make an item a member of a split (unlabelled there); False if it already was."""
    _lock_shared(split.version)
    if split.version_id != item.dataset_version_id:
        raise InvalidInput("The item and the split belong to different versions.")
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
    left in no split, was deleted."""
    _lock_shared(split.version)
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
    split_ids = ItemSplit.objects.filter(item=item).values_list("split_id", flat=True)
    pairs = _lock_memberships((item.pk, s) for s in split_ids)
    delta = StatsDelta()
    _remove_memberships(pairs, delta)
    delta.apply()
    Annotation.objects.filter(item_id=item.pk).delete()
    Item.objects.filter(pk=item.pk).delete()


# -- annotations ----------------------------------------------------------------------------


def _label_of_version(version: Version, label_id) -> Label:
    label = Label.objects.filter(pk=label_id, version=version).first()
    if label is None:
        raise InvalidInput(
            "The label does not belong to this dataset version.",
            {"label_id": ["unknown label for this version"]},
        )
    return label


def _require_membership(version: Version, item_id, split_id) -> tuple:
    split = DatasetSplit.objects.filter(pk=split_id, version=version).first()
    if split is None:
        raise InvalidInput(
            "The split does not belong to this dataset version.",
            {"split_id": ["unknown split for this version"]},
        )
    pair = (item_id, split.pk)
    if pair not in _lock_memberships([pair]):
        if not Item.objects.filter(pk=item_id, dataset_version=version).exists():
            raise InvalidInput(
                "The item does not belong to this dataset version.",
                {"item_id": ["unknown item for this version"]},
            )
        raise InvalidInput(
            "The item is not a member of this split; add it to the split first.",
            {"item_id": ["item is not in this split"]},
        )
    return pair


def _whole_item_replaced(version: Version, item_id, split_id, keep_id=None) -> list:
    """Ids of whole-item annotations a new whole-item one replaces (single-label datasets)."""
    if version.dataset.multi_label:
        return []
    qs = Annotation.objects.filter(item_id=item_id, split_id=split_id, coordinates="")
    if keep_id is not None:
        qs = qs.exclude(pk=keep_id)
    return list(qs.values_list("id", "label_id"))


@atomic_write
def annotation_create(
    *, version: Version, user: AbstractBaseUser | None, label_id, item_id, split_id,
    coordinates: str = "",
) -> Annotation:
    """Annotate an item in a split. On a single-label dataset a whole-item annotation
    replaces the item's previous whole-item annotation in that split."""
    _lock_shared(version)
    label = _label_of_version(version, label_id)
    item_id, split_id = _require_membership(version, item_id, split_id)
    before = pair_states([(item_id, split_id)])[(item_id, split_id)]
    after = Counter(before)
    if not coordinates:
        replaced = _whole_item_replaced(version, item_id, split_id)
        for _, old_label in replaced:
            after[old_label] -= 1
        Annotation.objects.filter(pk__in=[pk for pk, _ in replaced]).delete()
    annotation = Annotation.objects.create(
        label=label, item_id=item_id, split_id=split_id, coordinates=coordinates, user=user
    )
    after[label.pk] += 1
    delta = StatsDelta()
    delta.change(split_id, before, +after)
    delta.apply()
    return annotation


@atomic_write
def annotation_update(*, annotation: Annotation, data: dict) -> Annotation:
    """Change an annotation's label, split or coordinates, moving the counts with it."""
    version = annotation.split.version
    _lock_shared(version)
    current = Annotation.objects.filter(pk=annotation.pk).first()
    if current is None:
        raise NotFound("This annotation does not exist.")
    label = _label_of_version(version, data.get("label_id", current.label_id))
    old_pair = (current.item_id, current.split_id)
    if "split_id" in data and data["split_id"] != current.split_id:
        new_pair = _require_membership(version, current.item_id, data["split_id"])
    else:
        new_pair = old_pair
    _lock_memberships({old_pair, new_pair})
    states = pair_states({old_pair, new_pair})
    befores = {p: Counter(s) for p, s in states.items()}
    states[old_pair][current.label_id] -= 1
    coordinates = data.get("coordinates", current.coordinates)
    if not coordinates:
        replaced = _whole_item_replaced(version, new_pair[0], new_pair[1], keep_id=current.pk)
        for _, old_label in replaced:
            states[new_pair][old_label] -= 1
        Annotation.objects.filter(pk__in=[pk for pk, _ in replaced]).delete()
    states[new_pair][label.pk] += 1
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
    """Delete an annotation; returns it as it was."""
    _lock_shared(annotation.split.version)
    pair = (annotation.item_id, annotation.split_id)
    _lock_memberships([pair])
    current = Annotation.objects.filter(pk=annotation.pk).first()
    if current is None:
        raise NotFound("This annotation does not exist.")
    before = pair_states([pair])[pair]
    after = Counter(before)
    after[current.label_id] -= 1
    Annotation.objects.filter(pk=current.pk).delete()
    delta = StatsDelta()
    delta.change(pair[1], before, +after)
    delta.apply()
    return current


# -- add_inferences ---------------------------------------------------------------------------

TEXT_CONTENT_TYPES = {ContentType.TEXT, ContentType.NER}
BULK_BATCH = 2000


def _predictions(inference: dict, multi_label: bool) -> list[tuple[str, str]]:
    """The (label name, coordinates) pairs an inference becomes, by the add_inferences rule."""
    items = [
        i for i in inference.get("inference_items") or [] if (i.get("prediction") or "") != ""
    ]
    if not items and inference.get("prediction"):
        items = [{"prediction": inference["prediction"],
                  "confidence": inference.get("confidence") or 0.0, "coordinates": ""}]
    if not multi_label:
        whole = [i for i in items if not i.get("coordinates")]
        regions = [i for i in items if i.get("coordinates")]
        best = max(whole, key=lambda i: i.get("confidence") or 0.0, default=None)
        items = ([best] if best else []) + regions
    return [(i["prediction"], i.get("coordinates") or "") for i in items]


@atomic_write
def add_inferences(
    *, split: DatasetSplit, user: AbstractBaseUser | None, inferences: list[dict],
    keep_annotations: bool = True,
) -> list[uuid.UUID]:
    """Turn inferences into new items of the split (annotated when ``keep_annotations``).

    One transaction; the number of queries grows only with batches of 2,000 rows, and the
    statistics move in one aggregated update. A prediction naming no label of the version
    fails the whole request. Returns the new item ids, in the order of ``inferences``.
    """
    version = split.version
    _lock_shared(version)
    if not DatasetSplit.objects.filter(pk=split.pk).exists():
        raise NotFound("This split does not exist.")
    multi_label = version.dataset.multi_label
    plans = [_predictions(inf, multi_label) if keep_annotations else [] for inf in inferences]
    label_ids = dict(Label.objects.filter(version=version).values_list("name", "id"))
    unknown = sorted({name for plan in plans for name, _ in plan if name not in label_ids})
    if unknown:
        raise InvalidInput(
            "Predictions name labels this version does not have: " + ", ".join(unknown),
            {"inferences": [f"unknown label {name!r}" for name in unknown]},
        )
    as_text = version.dataset.content_type in TEXT_CONTENT_TYPES
    items = [
        Item(
            dataset_version=version, user=user, name=inf.get("name") or "",
            description=inf.get("description") or "", extension=inf.get("extension") or "",
            text=(inf.get("result") or "") if as_text else "",
        )
        for inf in inferences
    ]
    Item.objects.bulk_create(items, batch_size=BULK_BATCH)
    ItemSplit.objects.bulk_create(
        [ItemSplit(item=item, split=split) for item in items], batch_size=BULK_BATCH
    )
    annotations = []
    delta = StatsDelta()
    for item, plan in zip(items, plans, strict=True):
        after = Counter()
        for name, coordinates in plan:
            annotations.append(Annotation(
                label_id=label_ids[name], item=item, split=split, coordinates=coordinates,
                user=user,
            ))
            after[label_ids[name]] += 1
        delta.change(split.pk, None, after)
    Annotation.objects.bulk_create(annotations, batch_size=BULK_BATCH)
    delta.apply()
    return [item.pk for item in items]
