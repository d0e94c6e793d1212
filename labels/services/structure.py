"""Structural writes: datasets with default splits, splits and labels (exclusive version lock)."""

from django.db import IntegrityError
from django.db.models import Count, Exists, Max, OuterRef

from labels.colors import first_unused_color
from labels.models import Annotation, Label, LabelStat
from labels.services._locks import _lock_exclusive
from labels.stats import StatsDelta, rows_create_for_label, rows_create_for_split
from seeme.db import atomic_write
from seeme.exceptions import Conflict
from seeme.models import ContentType, Dataset, User, Version
from seeme.services import version_create
from splits.models import DEFAULT_SPLIT_NAMES, DatasetSplit, ItemSplit

Kind = LabelStat.Kind

# -- datasets and splits --------------------------------------------------------------------


@atomic_write
def dataset_create(
    *,
    owner: User,
    name: str,
    description: str = "",
    notes: str = "",
    multi_label: bool = False,
    default_splits: bool = False,
    content_type: str = ContentType.IMAGES,
) -> Dataset:
    """Create a dataset and its first version ``v1``, with train/valid/test if asked."""
    dataset = Dataset.objects.create(
        owner=owner,
        name=name,
        description=description,
        notes=notes,
        multi_label=multi_label,
        default_splits=default_splits,
        content_type=content_type,
    )
    version = version_create(dataset=dataset, user=owner, name="v1")
    if default_splits:
        for split_name in DEFAULT_SPLIT_NAMES:
            split_create(version=version, user=owner, name=split_name)
    return dataset


@atomic_write
def split_create(
    *, version: Version, user: User | None, name: str, description: str = ""
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
    *,
    version: Version,
    user: User | None,
    name: str,
    description: str = "",
    color: str | None = None,
    shortcut: str = "",
) -> Label:
    """Create a label with the next index and a zeroed row in every split. 409 on a duplicate."""
    _lock_exclusive(version)
    if Label.objects.filter(version=version, name=name).exists():
        message = f"A label named {name!r} exists in this version."
        raise Conflict(message, {"name": [message]})
    top = Label.objects.filter(version=version).aggregate(top=Max("index"))["top"]
    index = 0 if top is None else top + 1
    label = Label(
        version=version,
        user=user,
        name=name,
        description=description,
        shortcut=shortcut,
        index=index,
    )
    # A default colour no other label of the version has (readable on white: labels.colors).
    label.color = color or first_unused_color(
        Label.objects.filter(version=version).values_list("color", flat=True)
    )
    label.save()
    rows_create_for_label(label)
    return label


@atomic_write
def label_update(*, label: Label, data: dict) -> Label:
    """Rename, recolour or describe a label. 409 when the new name is taken. An empty
    colour keeps the current one: a label always has a colour."""
    for field in ("name", "description", "color", "shortcut"):
        if field in data and (field != "color" or data[field]):
            setattr(label, field, data[field])
    try:
        label.save()
    except IntegrityError as exc:
        message = f"A label named {label.name!r} exists in this version."
        raise Conflict(message, {"name": [message]}) from exc
    return label


@atomic_write
def label_delete(*, label: Label) -> None:
    """Delete a label and its annotations; items left bare count as unlabelled again.

    Counts in aggregate (one grouped query, whatever the number of annotations): per split,
    the total row loses the label's annotations and the unlabelled row gains the items whose
    only annotations there had this label. Other labels' rows do not move; the label's own
    rows go with the label.
    """
    _lock_exclusive(label.version)
    other_labels = Annotation.objects.filter(
        split_id=OuterRef("split_id"), item_id=OuterRef("item_id")
    ).exclude(label_id=label.pk)
    per_split = (
        Annotation.objects.filter(label=label)
        .values("split_id")
        .annotate(n=Count("id"), bare=Count("item_id", distinct=True, filter=~Exists(other_labels)))
        .order_by()
    )
    delta = StatsDelta()
    for row in per_split:
        delta.add(row["split_id"], Kind.TOTAL, None, annotations=-row["n"])
        delta.add(row["split_id"], Kind.UNLABELLED, None, items=row["bare"])
    delta.apply()
    Annotation.objects.filter(label=label).delete()
    Label.objects.filter(pk=label.pk).delete()
