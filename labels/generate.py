"""Realistic generated data (``manage.py generate_dataset``, benchmarks, demos): Zipf-skewed
label frequencies, some items with several annotations, some unlabelled. Loaded chunk by
chunk through ``items_bulk_create``, so the statistics are exact by construction.

Each chunk draws from its own random stream (seed and chunk start), so a run cut short can
resume at any chunk boundary and produce the same items (the ``generate_dataset`` job)."""

import io
import itertools
import json
import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from labels.models import Label
from labels.services import NewItem, items_bulk_create
from seeme.demo_pictures import Shape, picture, random_box
from seeme.files import store_blob
from seeme.models import User, Version

COMMON_LABELS = [
    "cat",
    "dog",
    "car",
    "person",
    "bicycle",
    "bird",
    "tree",
    "house",
    "boat",
    "horse",
    "truck",
    "bus",
    "sheep",
    "cow",
    "chair",
    "bottle",
    "plane",
    "train",
    "flower",
    "sign",
]


def label_names(n: int) -> list[str]:
    return [COMMON_LABELS[i] if i < len(COMMON_LABELS) else f"class-{i:04d}" for i in range(n)]


def zipf_weights(n: int, s: float) -> list[float]:
    """Cumulative weights of ranks 1..n under Zipf's law with exponent ``s``."""
    return list(itertools.accumulate(1 / (rank**s) for rank in range(1, n + 1)))


def generate_chunk(
    *,
    version: Version,
    owner: User | None,
    split_ids: list,
    split_cum: list[float],
    label_ids: list,
    opts: dict[str, Any],
    start: int,
    size: int,
    base=None,
) -> int:
    """Create items ``start`` .. ``start + size - 1`` (named ``img-<n>.jpg``) in one
    transaction (``items_bulk_create``). Returns how many were created."""
    rng = random.Random(f"{opts['seed']}:{start}")
    label_cum = zipf_weights(len(label_ids), opts["zipf"])
    multi_label = opts["multi_label"]
    colors = _label_colors(label_ids) if opts.get("images") else {}
    split_of = rng.choices(split_ids, cum_weights=split_cum, k=size)
    label_of = rng.choices(label_ids, cum_weights=label_cum, k=size)
    batch = []
    for offset in range(size):
        split, label = split_of[offset], label_of[offset]
        annotations: tuple = ()
        if rng.random() >= opts["unlabelled"]:
            annotations = ((split, label, ""),)
            if rng.random() < opts["multi"]:
                annotations += _extra(rng, split, label, label_ids, label_cum, multi_label)
        number = start + offset
        file_sha256 = _picture(rng, colors, number, label, annotations) if colors else ""
        batch.append(
            NewItem(
                name=f"img-{number:07d}.jpg",
                split_ids=(split,),
                annotations=annotations,
                extension="jpg",
                file_sha256=file_sha256,
            )
        )
    base = base or timezone.now()
    items_bulk_create(
        version=version, user=owner, items=batch, created_at=base + timedelta(microseconds=start)
    )
    return size


def _extra(rng, split, first, label_ids, label_cum, multi_label) -> tuple:
    """One or two more annotations: other whole-item labels on a multi-label dataset,
    else regions (a single-label item has one whole-item label)."""
    extra, whole = [], {first}
    for label in rng.choices(label_ids, cum_weights=label_cum, k=1 + (rng.random() < 0.3)):
        if multi_label and label not in whole:
            whole.add(label)
            extra.append((split, label, ""))
        else:
            # x_min, y_min, x_max, y_max, relative (labels/regions.py)
            x, y = rng.random() * 0.5, rng.random() * 0.5
            box = [
                round(x, 3),
                round(y, 3),
                round(x + 0.1 + rng.random() * 0.4, 3),
                round(y + 0.1 + rng.random() * 0.4, 3),
            ]
            extra.append((split, label, str(box)))
    return tuple(extra)


def _label_colors(label_ids: list) -> dict:
    """Each label's (index, colour): the index picks its shape in the pictures."""
    color_of = dict(Label.objects.filter(pk__in=label_ids).values_list("pk", "color"))
    return {pk: (n, color_of.get(pk, "")) for n, pk in enumerate(label_ids)}


def _picture(rng, colors: dict, number: int, label, annotations) -> str:
    """Store the item's picture: its whole-item label's shape (a random label's when it is
    unlabelled) and each region's label in its box. Returns the blob's hash."""
    whole = [a[1] for a in annotations if not a[2]] or [label]
    shapes = [Shape(*colors[whole[0]], random_box(rng))]
    for _, region_label, coordinates in annotations:
        if coordinates:
            x1, y1, x2, y2 = json.loads(coordinates)
            shapes.append(Shape(*colors[region_label], (x1, y1, x2, y2)))
    data = picture(shapes, seed=number, size=(160, 120), quality=80)
    return store_blob(io.BytesIO(data)).sha256
