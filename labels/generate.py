"""Realistic generated data (``manage.py generate_dataset``, benchmarks, demos): Zipf-skewed
label frequencies, some items with several annotations, some unlabelled. Loaded chunk by
chunk through ``items_bulk_create``, so the statistics are exact by construction.

Each chunk draws from its own random stream (seed and chunk start), so a run cut short can
resume at any chunk boundary and produce the same items (the ``generate_dataset`` job)."""

import itertools
import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from labels.services import NewItem, items_bulk_create
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
        batch.append(
            NewItem(
                name=f"img-{start + offset:07d}.jpg",
                split_ids=(split,),
                annotations=annotations,
                extension="jpg",
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
            box = [
                round(rng.random() * 0.5, 3),
                round(rng.random() * 0.5, 3),
                round(0.1 + rng.random() * 0.4, 3),
                round(0.1 + rng.random() * 0.4, 3),
            ]
            extra.append((split, label, str(box)))
    return tuple(extra)
