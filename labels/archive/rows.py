"""Reading a version for export in bounded memory: its items split by split, in creation
order, a chunk at a time, each with its annotations in that split."""

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db.models import Count

from labels.models import Annotation, Label
from seeme.models import Item, Version
from splits.models import DatasetSplit, ItemSplit

CHUNK = 2000
# ``ExportScope.on_rows`` is called after every this many rows read (a job's progress).
PROGRESS_EVERY = 500
ITEM_FIELDS = (
    "id",
    "name",
    "extension",
    "text",
    "content_hash",
    "file_id",
    "file__width",
    "file__height",
)


@dataclass(frozen=True, slots=True)
class Row:
    """One item as a member of one split (``split`` None: an item in no split), with its
    annotations there as (label_id, coordinates)."""

    item_id: uuid.UUID
    name: str
    extension: str
    text: str
    content_hash: str
    split: DatasetSplit | None
    annotations: tuple[tuple[uuid.UUID, str], ...]
    file: str = ""
    width: int | None = None
    height: int | None = None


def _row(values: tuple, split: DatasetSplit | None, annotations: tuple) -> Row:
    """A Row from the ``ITEM_FIELDS`` values of an item."""
    item_id, name, extension, text, content_hash, file, width, height = values
    return Row(
        item_id, name, extension, text, content_hash, split, annotations, file or "", width, height
    )


@dataclass
class ExportScope:
    """What one download covers: the version, its labels (index order), and its splits (all,
    or the one asked for; ``loose``: also the items in no split). ``on_rows(seen)``, when
    set, is called every ``PROGRESS_EVERY`` rows read (``seen``: rows read so far, over
    every pass a format makes; ``row_count`` says how many that will be)."""

    version: Version
    labels: list[Label]
    splits: list[DatasetSplit]
    loose: bool
    on_rows: Callable[[int], None] | None = field(default=None, repr=False)
    seen: int = 0

    def _counted(self, rows: Iterator[Row]) -> Iterator[Row]:
        for row in rows:
            yield row
            self.seen += 1
            if self.on_rows is not None and self.seen % PROGRESS_EVERY == 0:
                self.on_rows(self.seen)

    def row_count(self, fmt: str) -> int:
        """How many rows the export in ``fmt`` reads (each format's passes over the rows of
        ``labels.archive.export``): the progress total of an export job."""
        members = ItemSplit.objects.filter(split__in=self.splits).count()
        loose = (
            Item.objects.filter(dataset_version=self.version, memberships__isnull=True).count()
            if self.loose
            else 0
        )
        every = members + loose
        distinct = (
            Item.objects.filter(dataset_version=self.version).count() if self.loose else every
        )
        tabular = self.version.dataset.content_type == "tabular"
        return {
            "folders": members,
            "spacy-ner": members,
            "yolo": 2 * members,
            "coco": 3 * members,
            "csv": every * (2 if tabular else 1),
            "manifest": distinct + 2 * every,
            "manifest-csv": distinct + every,
            "manifest-jsonl": distinct + every,
        }[fmt]

    @classmethod
    def of(cls, version: Version, split: DatasetSplit | None = None) -> "ExportScope":
        labels = list(Label.objects.filter(version=version).order_by("index", "id"))
        if split is not None:
            return cls(version, labels, [split], False)
        splits = list(DatasetSplit.objects.filter(version=version).order_by("created_at", "id"))
        return cls(version, labels, splits, True)

    @property
    def label_names(self) -> dict[uuid.UUID, str]:
        return {label.pk: label.name for label in self.labels}

    def rows(self, split: DatasetSplit) -> Iterator[Row]:
        """The split's members, a chunk of ``CHUNK`` at a time (two queries a chunk)."""
        return self._counted(self._rows(split))

    def _rows(self, split: DatasetSplit) -> Iterator[Row]:
        members = (
            ItemSplit.objects.filter(split=split)
            .order_by("item__created_at", "item_id")
            .values_list(*(f"item__{f}" for f in ITEM_FIELDS))
            .iterator(chunk_size=CHUNK)
        )
        batch: list[tuple] = []
        for values in members:
            batch.append(values)
            if len(batch) >= CHUNK:
                yield from self._with_annotations(batch, split)
                batch = []
        if batch:
            yield from self._with_annotations(batch, split)

    def loose_rows(self) -> Iterator[Row]:
        """The version's items that are in no split."""
        return self._counted(self._loose_rows())

    def _loose_rows(self) -> Iterator[Row]:
        items = (
            Item.objects.filter(dataset_version=self.version, memberships__isnull=True)
            .order_by("created_at", "id")
            .values_list(*ITEM_FIELDS)
            .iterator(chunk_size=CHUNK)
        )
        for values in items:
            yield _row(values, None, ())

    def distinct_rows(self) -> Iterator[Row]:
        """Each item of the scope once (the first split it is in, for a whole version)."""
        if not self.loose:
            yield from self.all_rows()
            return
        items = (
            Item.objects.filter(dataset_version=self.version)
            .order_by("created_at", "id")
            .values_list(*ITEM_FIELDS)
            .iterator(chunk_size=CHUNK)
        )
        yield from self._counted(_row(values, None, ()) for values in items)

    def all_rows(self) -> Iterator[Row]:
        for split in self.splits:
            yield from self.rows(split)
        if self.loose:
            yield from self.loose_rows()

    def _with_annotations(self, batch: list[tuple], split: DatasetSplit) -> Iterator[Row]:
        found: dict[uuid.UUID, list] = defaultdict(list)
        annotations = (
            Annotation.objects.filter(split=split, item_id__in=[values[0] for values in batch])
            .order_by("created_at", "id")
            .values_list("item_id", "label_id", "coordinates")
        )
        for item_id, label_id, coordinates in annotations:
            found[item_id].append((label_id, coordinates))
        for values in batch:
            yield _row(values, split, tuple(found.get(values[0], ())))

    def repeated_names(self, split: DatasetSplit) -> set[str]:
        """Item names used more than once in the split (only those are held in memory)."""
        return set(
            ItemSplit.objects.filter(split=split)
            .values("item__name")
            .order_by()
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .values_list("item__name", flat=True)
        )
