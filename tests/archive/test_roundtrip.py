"""Round trip (hypothesis): a version exported in a format and imported into an empty
version gives back the same splits, labels, statistics and item contents (file bytes, text),
for every format, with data that format can carry."""

import io
import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labels import services as label_services
from labels.archive.plan import box_coordinates, parse_region, span_coordinates
from labels.models import Annotation, Label
from labels.services import NewItem
from seeme.files import open_item_file, store_blob
from seeme.models import Item
from splits.models import ItemSplit
from tests.archive.conftest import (
    download_url,
    label_names,
    post_zip,
    split_names,
    stats_by_name,
    upload_url,
)
from tests.archive.helpers import png
from tests.conftest import assert_stats_exact

pytestmark = pytest.mark.django_db

SPLITS = ["train", "valid", "test", "hold out", "ünseen"]
LABELS = ["cat", "dog", "a b", "ünï", "x|y"]
SAFE_TEXT = st.text(
    alphabet=st.characters(
        whitelist_categories=("L", "N", "Zs"), whitelist_characters=".,;:!?'\"-_é\n"
    ),
    min_size=1,
    max_size=30,
)
CONTENT_TYPES = {"folders": "images", "yolo": "images", "csv": "tabular", "spacy-ner": "ner"}
BOX = st.tuples(st.integers(0, 14), st.integers(0, 14), st.integers(1, 16), st.integers(1, 16)).map(
    lambda t: (t[0] / 16, t[1] / 16, min(1, (t[0] + t[2]) / 16), min(1, (t[1] + t[3]) / 16))
)


@st.composite
def worlds(draw, fmt: str):
    """(multi_label, splits, labels, items); an item is (kind, payload, {split: [(label,
    coordinates)]})."""
    multi = draw(st.booleans())
    splits = draw(st.lists(st.sampled_from(SPLITS), min_size=1, max_size=3, unique=True))
    labels = draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=4, unique=True))
    items = []
    for n in range(draw(st.integers(0, 7))):
        min_splits = 0 if fmt == "csv" else 1
        member_of = draw(
            st.lists(st.sampled_from(splits), min_size=min_splits, max_size=2, unique=True)
        )
        annotations = {}
        for split in member_of:
            if fmt in ("folders", "csv"):
                chosen = draw(st.lists(st.sampled_from(labels), max_size=3, unique=True))
                annotations[split] = [(lb, "") for lb in (chosen if multi else chosen[:1])]
            elif fmt == "yolo":
                boxes = draw(st.lists(st.tuples(st.sampled_from(labels), BOX), max_size=3))
                annotations[split] = [(lb, box_coordinates(*box)) for lb, box in boxes]
            else:
                annotations[split] = []
        if fmt == "yolo":
            kind, payload = "image", png((n * 30 % 256, n * 7 % 256, 200))
        elif fmt == "csv":
            row = {"a": draw(SAFE_TEXT), "b": str(n)}
            kind, payload = "text", json.dumps(row, ensure_ascii=False)
        else:
            kind = "image" if fmt == "folders" and draw(st.booleans()) else "text"
            payload = (
                png((n * 30 % 256, 40, n * 11 % 256))
                if kind == "image"
                else f"{n}: {draw(SAFE_TEXT)}"
            )
        if fmt == "spacy-ner":
            for split in member_of:
                spans = draw(
                    st.lists(
                        st.tuples(
                            st.sampled_from(labels),
                            st.integers(0, len(payload) - 1),
                            st.integers(1, 5),
                        ),
                        max_size=3,
                    )
                )
                annotations[split] = [
                    (lb, span_coordinates(start, min(len(payload), start + length)))
                    for lb, start, length in spans
                ]
        items.append((kind, payload, annotations))
    return multi, splits, labels, items


def build(user, fmt, world):
    multi, splits, labels, items = world
    dataset = label_services.dataset_create(
        owner=user, name=f"source {fmt}", multi_label=multi, content_type=CONTENT_TYPES[fmt]
    )
    version = dataset.versions.get()
    split_ids = {
        s: label_services.split_create(version=version, user=user, name=s).pk for s in splits
    }
    label_ids = {
        lb: label_services.label_create(version=version, user=user, name=lb).pk for lb in labels
    }
    new = []
    for n, (kind, payload, annotations) in enumerate(items):
        sha, ext, text = "", "txt", ""
        if kind == "image":
            info = store_blob(io.BytesIO(payload))
            sha, ext = info.sha256, info.extension
        else:
            text = payload
        new.append(
            NewItem(
                name=f"item {n}.{ext}",
                split_ids=tuple(split_ids[s] for s in annotations),
                annotations=tuple(
                    (split_ids[s], label_ids[lb], coords)
                    for s, pairs in annotations.items()
                    for lb, coords in pairs
                ),
                extension=ext,
                text=text,
                file_sha256=sha,
            )
        )
    label_services.items_bulk_create(version=version, user=user, items=new)
    return version


def content_of(item: Item) -> bytes:
    if item.file_id:
        with open_item_file(item) as f:
            return f.read()
    return item.text.encode()


def memberships(version) -> Counter:
    """(split, content, sorted (label, region)) for every membership; (None, content) for
    items in no split."""
    found: Counter = Counter()
    names = dict(Label.objects.filter(version=version).values_list("pk", "name"))
    for item in Item.objects.filter(dataset_version=version):
        rows = ItemSplit.objects.filter(item=item).select_related("split")
        if not rows:
            found[(None, content_of(item), ())] += 1
        for m in rows:
            anns = Annotation.objects.filter(item=item, split=m.split)
            key = tuple(sorted((names[a.label_id], str(parse_region(a.coordinates))) for a in anns))
            found[(m.split.name, content_of(item), key)] += 1
    return found


def used_labels(version) -> set[str]:
    return set(
        Annotation.objects.filter(label__version=version).values_list("label__name", flat=True)
    )


def round_trip(api, user, fmt, world):
    source = build(user, fmt, world)
    response = api.get(download_url(source, format=fmt))
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    target_ds = label_services.dataset_create(
        owner=user, name=f"target {fmt}", multi_label=world[0], content_type=CONTENT_TYPES[fmt]
    )
    target = target_ds.versions.get()
    reply = post_zip(api, upload_url(target, fmt), data)
    assert reply.status_code == 200, reply.json()
    assert memberships(target) == memberships(source)
    if fmt == "csv":  # a CSV names only the splits and labels its rows use
        source_stats = {s: v for s, v in stats_by_name(source).items() if v["*"][0]}
        assert set(label_names(target)) == used_labels(source)
        target_stats = stats_by_name(target)
        for split, rows in source_stats.items():
            assert {k: v for k, v in rows.items() if v != (0, 0)} == {
                k: v for k, v in target_stats[split].items() if v != (0, 0)
            }
        assert set(target_stats) == set(source_stats)
    else:
        assert split_names(target) == split_names(source)
        assert label_names(target) == label_names(source)
        assert stats_by_name(target) == stats_by_name(source)
    assert_stats_exact()


HYPOTHESIS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("fmt", ["folders", "yolo", "csv", "spacy-ner"])
def test_export_then_import_gives_the_same_version(api, user, fmt):
    @HYPOTHESIS
    @given(world=worlds(fmt))
    def check(world):
        round_trip(api, user, fmt, world)

    check()
