"""Bulk loads: many new items with their memberships and annotations, stats in aggregate."""

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from labels.models import Annotation, Label, LabelStat
from labels.services._locks import _lock_shared
from labels.stats import StatsDelta
from seeme.db import atomic_write, copy_rows
from seeme.exceptions import InvalidInput
from seeme.ids import uuid7
from seeme.models import Blob, Item, User, Version, text_content_hash
from splits.models import DatasetSplit, ItemSplit

Kind = LabelStat.Kind
ITEM_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "dataset_version",
    "user",
    "name",
    "extension",
    "text",
    "content_hash",
    "file",
)
MEMBERSHIP_COLUMNS = ("item", "split", "created_at")
ANNOTATION_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "label",
    "item",
    "split",
    "coordinates",
    "user",
)


@dataclass(frozen=True)
class NewItem:
    """One item to load: its splits and its annotations as (split_id, label_id, coordinates).

    ``file_sha256``: a blob stored by ``seeme.files.store_blob`` (with its ``extension``);
    the item's ``content_hash`` is then the file's hash, else the hash of ``text``."""

    name: str
    split_ids: tuple[uuid.UUID, ...]
    annotations: tuple[tuple[uuid.UUID, uuid.UUID, str], ...] = ()
    extension: str = ""
    text: str = ""
    file_sha256: str = ""


@dataclass
class _Counts:
    """A load's contribution to the statistics, counted as the rows are built."""

    members: Counter
    annotations: Counter
    bare: Counter
    label_annotations: Counter
    label_items: Counter

    def delta(self) -> StatsDelta:
        delta = StatsDelta()
        for split_id, items in self.members.items():
            delta.add(
                split_id, Kind.TOTAL, None, annotations=self.annotations[split_id], items=items
            )
        for split_id, items in self.bare.items():
            delta.add(split_id, Kind.UNLABELLED, None, items=items)
        for (split_id, label_id), items in self.label_items.items():
            delta.add(
                split_id,
                Kind.LABEL,
                label_id,
                annotations=self.label_annotations[(split_id, label_id)],
                items=items,
            )
        return delta


@atomic_write
def items_bulk_create(
    *,
    version: Version,
    user: User | None,
    items: Sequence[NewItem],
    created_at: datetime | None = None,
) -> list[uuid.UUID]:
    """Create many items with their memberships and annotations in one transaction.

    Rows are streamed to the database (``seeme.db.copy_rows``: COPY on PostgreSQL) and the
    statistics are counted in aggregate while the rows are built, then moved by one
    ``StatsDelta``: a fixed number of statements per table, whatever the number of items.
    Checked first, nothing written on failure: splits and labels belong to the version,
    every annotation is in one of its item's splits, and on a single-label dataset an item
    has at most one whole-item annotation per split. Items keep the given order in item
    lists (creation times one microsecond apart from ``created_at``, default now). Takes the
    version lock shared, like every item-level writer. Returns the new item ids.
    """
    _lock_shared(version)
    split_ids = set(DatasetSplit.objects.filter(version=version).values_list("id", flat=True))
    label_ids = set(Label.objects.filter(version=version).values_list("id", flat=True))
    single_label = not version.dataset.multi_label
    base = created_at or timezone.now()
    user_id = getattr(user, "pk", None)
    counts = _Counts(Counter(), Counter(), Counter(), Counter(), Counter())
    item_rows, membership_rows, annotation_rows = [], [], []
    used_splits: set = set()
    used_labels: set = set()
    for n, new in enumerate(items):
        item_id = uuid7()
        at = base + timedelta(microseconds=n)
        item_rows.append(
            (
                item_id,
                at,
                at,
                version.pk,
                user_id,
                new.name,
                new.extension,
                new.text,
                new.file_sha256 or text_content_hash(new.text),
                new.file_sha256 or None,
            )
        )
        labels_in: dict[uuid.UUID, list] = defaultdict(list)
        whole_in: Counter = Counter()
        for split_id, label_id, coordinates in new.annotations:
            labels_in[split_id].append(label_id)
            used_labels.add(label_id)
            whole_in[split_id] += not coordinates
            annotation_rows.append(
                (uuid7(), at, at, label_id, item_id, split_id, coordinates, user_id)
            )
        member_of = dict.fromkeys(new.split_ids)
        used_splits.update(member_of)
        if not set(labels_in) <= set(member_of):
            raise InvalidInput(f"Item {n} ({new.name!r}) is annotated in a split it is not in.")
        if single_label and any(v > 1 for v in whole_in.values()):
            raise InvalidInput(
                f"Item {n} ({new.name!r}) has two whole-item annotations in one "
                "split of a single-label dataset."
            )
        for split_id in member_of:
            membership_rows.append((item_id, split_id, at))
            counts.members[split_id] += 1
            labels = labels_in[split_id]
            if not labels:
                counts.bare[split_id] += 1
                continue
            counts.annotations[split_id] += len(labels)
            for label_id in labels:
                counts.label_annotations[(split_id, label_id)] += 1
            for label_id in set(labels):
                counts.label_items[(split_id, label_id)] += 1
    if not used_splits <= split_ids or not used_labels <= label_ids:
        raise InvalidInput("Some splits or labels do not belong to this dataset version.")
    _lock_blobs({new.file_sha256 for new in items if new.file_sha256})
    copy_rows(Item, ITEM_COLUMNS, item_rows)
    copy_rows(ItemSplit, MEMBERSHIP_COLUMNS, membership_rows)
    copy_rows(Annotation, ANNOTATION_COLUMNS, annotation_rows)
    counts.delta().apply()
    return [row[0] for row in item_rows]


def _lock_blobs(hashes: set[str]) -> None:
    """Every referenced file is stored (else InvalidInput); its row stays locked until the
    items referring to it are committed, so ``gc_files`` cannot take it meanwhile."""
    ordered = sorted(hashes)
    found: set[str] = set()
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start : start + 5000]
        rows = Blob.objects.select_for_update(no_key=True).filter(pk__in=chunk).order_by("pk")
        found.update(rows.values_list("pk", flat=True))
    missing = hashes - found
    if missing:
        raise InvalidInput(
            f"{len(missing)} files are not stored (store them with seeme.files.store_blob "
            f"first): {', '.join(sorted(missing)[:5])}"
        )
