"""Generate a large, realistic dataset with exact statistics (for benchmarks and demos)."""

import io
import itertools
import json
import random
import time
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from labels import services
from labels.assignment import RatioError, parse_ratios
from labels.models import LabelStat
from labels.services import NewItem
from seeme.demo_pictures import Shape, picture, random_box
from seeme.files import store_blob

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


class Command(BaseCommand):
    help = (
        "Create a dataset of N items over the given splits with L labels: Zipf-skewed label "
        "frequencies, some items with several annotations, some unlabelled. Statistics are "
        "exact (counted in aggregate while loading). Loads in chunks, one transaction each."
    )

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, required=True, help="Number of items.")
        parser.add_argument("--labels", type=int, default=10, help="Number of labels.")
        parser.add_argument(
            "--splits",
            default="train=0.8,valid=0.1,test=0.1",
            help="Split names and ratios, e.g. train=0.8,valid=0.1,test=0.1.",
        )
        parser.add_argument(
            "--unlabelled",
            type=float,
            default=0.1,
            help="Share of items with no annotation (default 0.1).",
        )
        parser.add_argument(
            "--multi",
            type=float,
            default=0.1,
            help="Share of labelled items with more than one annotation.",
        )
        parser.add_argument(
            "--zipf",
            type=float,
            default=1.1,
            help="Zipf exponent of the label frequencies (default 1.1).",
        )
        parser.add_argument(
            "--multi-label",
            action="store_true",
            help="Make a multi-label dataset (default: single-label).",
        )
        parser.add_argument(
            "--owner", help="Username of the owner (default: 'generator', created if missing)."
        )
        parser.add_argument("--name", default="", help="Dataset name.")
        parser.add_argument("--seed", type=int, default=0, help="Random seed (reproducible).")
        parser.add_argument(
            "--chunk", type=int, default=50_000, help="Items per transaction (default 50,000)."
        )
        parser.add_argument(
            "--images",
            action="store_true",
            help="Give every item a small JPEG (Pillow) showing its labels: each label a shape "
            "in its colour, regions where their boxes say. About 1 ms an item.",
        )

    def handle(self, *args, **opts):
        self._check(opts)
        try:
            ratios = parse_ratios(opts["splits"])
        except RatioError as exc:
            raise CommandError(f"--splits: {exc} {' '.join(exc.errors)}") from exc
        owner = self._owner(opts["owner"])
        started = time.monotonic()
        dataset = services.dataset_create(
            owner=owner,
            multi_label=opts["multi_label"],
            name=opts["name"] or f"generated {opts['items']:,} items",
            description=(
                f"generate_dataset --items {opts['items']} --labels {opts['labels']} "
                f"--splits {opts['splits']} --seed {opts['seed']}"
            ),
        )
        version = dataset.versions.get()
        splits = [
            services.split_create(version=version, user=owner, name=name) for name, _ in ratios
        ]
        labels = [
            services.label_create(version=version, user=owner, name=name)
            for name in label_names(opts["labels"])
        ]
        self.colors = {lb.pk: (n, lb.color) for n, lb in enumerate(labels)}
        self._load(
            version,
            owner,
            [s.pk for s in splits],
            list(itertools.accumulate(r for _, r in ratios)),
            [lb.pk for lb in labels],
            opts,
        )
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Dataset {dataset.pk} (version {version.pk}): {opts['items']:,} items in "
                f"{elapsed:.1f} s"
            )
        )
        for split in splits:
            total = LabelStat.objects.get(split=split, kind=LabelStat.Kind.TOTAL)
            self.stdout.write(
                f"  split {split.name} {split.pk}: {total.item_count:,} items, "
                f"{total.annotation_count:,} annotations"
            )

    def _check(self, opts) -> None:
        if opts["items"] < 0 or opts["labels"] < 1 or opts["chunk"] < 1:
            raise CommandError("--items must be >= 0, --labels and --chunk >= 1.")
        for name in ("unlabelled", "multi"):
            if not 0 <= opts[name] <= 1:
                raise CommandError(f"--{name} must be between 0 and 1.")

    def _owner(self, username: str | None):
        User = get_user_model()
        if username is None:
            user, _ = User.objects.get_or_create(
                username="generator", defaults={"email": "generator@example.com"}
            )
            return user
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return user

    def _load(self, version, owner, split_ids, split_cum, label_ids, opts) -> None:
        rng = random.Random(opts["seed"])
        label_cum = zipf_weights(len(label_ids), opts["zipf"])
        multi_label = opts["multi_label"]
        total, chunk = opts["items"], opts["chunk"]
        base = timezone.now()
        for start in range(0, total, chunk):
            size = min(chunk, total - start)
            split_of = rng.choices(split_ids, cum_weights=split_cum, k=size)
            label_of = rng.choices(label_ids, cum_weights=label_cum, k=size)
            batch = []
            for offset in range(size):
                split, label = split_of[offset], label_of[offset]
                annotations = ()
                if rng.random() >= opts["unlabelled"]:
                    annotations = ((split, label, ""),)
                    if rng.random() < opts["multi"]:
                        annotations += self._extra(
                            rng, split, label, label_ids, label_cum, multi_label
                        )
                number = start + offset
                picture = self._picture(rng, number, label, annotations) if opts["images"] else ""
                batch.append(
                    NewItem(
                        name=f"img-{number:07d}.jpg",
                        split_ids=(split,),
                        annotations=annotations,
                        extension="jpg",
                        file_sha256=picture,
                    )
                )
            services.items_bulk_create(
                version=version,
                user=owner,
                items=batch,
                created_at=base + timedelta(microseconds=start),
            )
            self.stdout.write(f"  {start + size:,} / {total:,} items")

    def _extra(self, rng, split, first, label_ids, label_cum, multi_label) -> tuple:
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

    def _picture(self, rng, number: int, label, annotations) -> str:
        """Store the item's picture: its whole-item label's shape (a random label's when it
        is unlabelled) and each region's label in its box. Returns the blob's hash."""
        whole = [a[1] for a in annotations if not a[2]] or [label]
        shapes = [Shape(*self.colors[whole[0]], random_box(rng))]
        for _, region_label, coordinates in annotations:
            if coordinates:
                x1, y1, x2, y2 = json.loads(coordinates)
                shapes.append(Shape(*self.colors[region_label], (x1, y1, x2, y2)))
        data = picture(shapes, seed=number, size=(160, 120), quality=80)
        return store_blob(io.BytesIO(data)).sha256
