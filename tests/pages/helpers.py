"""A small labelled world for the page tests, and a parser for the numbers pages show."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.test import Client

from labels.models import LabelStat
from tests.factories import AnnotationFactory, DatasetFactory, ItemFactory, LabelFactory


@dataclass
class World:
    """``owner``'s dataset: v1 with train / valid / test, labels cat and dog, items:
    train: a (cat), b (cat + dog, two cat annotations), c (unlabelled); valid: d (dog)."""

    dataset: object
    version: object
    splits: dict
    labels: dict
    items: dict = field(default_factory=dict)


def build_world(owner, name="pets") -> World:
    dataset = DatasetFactory(owner=owner, name=name, description="Pet photos")
    version = dataset.versions.get()
    splits = {s.name: s for s in version.splits.all()}
    labels = {
        "cat": LabelFactory(version=version, name="cat", color="#4e79a7"),
        "dog": LabelFactory(version=version, name="dog", color="#f28e2b"),
    }
    world = World(dataset, version, splits, labels)
    train, valid = splits["train"], splits["valid"]
    for name, split in [("a.jpg", train), ("b.jpg", train), ("c.jpg", train), ("d.jpg", valid)]:
        world.items[name] = ItemFactory(
            dataset_version=version, name=name, splits=[split], text=f"The text of {name}"
        )
    AnnotationFactory(item=world.items["a.jpg"], split=train, label=labels["cat"])
    AnnotationFactory(item=world.items["b.jpg"], split=train, label=labels["cat"])
    AnnotationFactory(
        item=world.items["b.jpg"], split=train, label=labels["cat"], coordinates="[1, 2, 3, 4]"
    )
    AnnotationFactory(
        item=world.items["b.jpg"], split=train, label=labels["dog"], coordinates="[5, 6, 7, 8]"
    )
    AnnotationFactory(item=world.items["d.jpg"], split=valid, label=labels["dog"])
    return world


def page_client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def stat_numbers(version) -> dict:
    """{(row, split_id): (items, annotations)} from the persisted LabelStat rows, with row
    the label id, "unlabelled" or "total"."""
    numbers = {}
    for stat in LabelStat.objects.filter(split__version=version):
        row = str(stat.label_id) if stat.label_id else stat.kind
        numbers[(row, str(stat.split_id))] = (stat.item_count, stat.annotation_count)
    return numbers


class CellParser(HTMLParser):
    """Collects the text of every element carrying ``data-split-id`` and ``data-kind``
    inside a ``<tr data-row>``: {(row, split_id, kind): text}."""

    def __init__(self):
        super().__init__()
        self.cells: dict = {}
        self._row = None
        self._key = None
        self._depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self._row = attrs.get("data-row")
        if self._key is not None:
            self._depth += 1
        elif self._row and "data-split-id" in attrs and "data-kind" in attrs:
            self._key = (self._row, attrs["data-split-id"], attrs["data-kind"])
            self._depth = 0
            self._text = []

    def handle_endtag(self, tag):
        if self._key is None:
            return
        if self._depth == 0:
            self.cells[self._key] = "".join(self._text).strip()
            self._key = None
        else:
            self._depth -= 1

    def handle_data(self, data):
        if self._key is not None:
            self._text.append(data)


def matrix_cells(html: str) -> dict:
    parser = CellParser()
    parser.feed(html)
    return parser.cells


def as_int(text: str) -> int:
    return int(text.replace(",", ""))
