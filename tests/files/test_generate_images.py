"""generate_dataset --images: every item gets its own picture, its regions drawn where their
coordinates say, in the label's colour; statistics stay exact."""

import json
from collections import Counter
from io import StringIO

from django.core.management import call_command
from PIL import Image

from labels.models import Annotation
from seeme import files
from seeme.models import Blob, Dataset, Item
from tests.conftest import assert_stats_exact


def rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))


def test_generate_dataset_with_images(db):
    call_command(
        "generate_dataset",
        "--items", "40", "--labels", "3", "--multi", "0.6", "--images", "--seed", "4",
        stdout=StringIO(),
    )  # fmt: skip
    dataset = Dataset.objects.order_by("-created_at").first()
    version = dataset.versions.get()
    items = {i.pk: i for i in Item.objects.filter(dataset_version=version).select_related("file")}
    assert len(items) == 40
    assert all(
        i.file and i.file.kind == "image" and i.content_hash == i.file_id for i in items.values()
    )
    assert Blob.objects.count() == 40  # every picture different: no false duplicates
    assert_stats_exact()
    colors = {lb.pk: lb.color for lb in version.labels.all()}
    regions = list(Annotation.objects.filter(split__version=version).exclude(coordinates=""))
    per_item = Counter(a.item_id for a in regions)
    # Where an item has two regions the later may cover the earlier's centre: check the others.
    alone = [a for a in regions if per_item[a.item_id] == 1]
    assert alone
    for annotation in alone:
        x1, y1, x2, y2 = json.loads(annotation.coordinates)
        assert x1 < x2 and y1 < y2
        with files.open_item_file(items[annotation.item_id]) as f:
            img = Image.open(f).convert("RGB")
        w, h = img.size
        # Label 0 is a circle, 1 a square, 2 a triangle: each covers its box's centre.
        pixel = img.getpixel((int((x1 + x2) / 2 * w), int((y1 + y2) / 2 * h)))
        expected = rgb(colors[annotation.label_id])
        assert all(abs(a - b) < 40 for a, b in zip(pixel, expected, strict=True))
