"""Generate a large, realistic dataset with exact statistics (for benchmarks and demos)."""

import itertools
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from labels import services
from labels.assignment import RatioError, parse_ratios
from labels.generate import generate_chunk, label_names
from labels.jobs import generate_dataset_enqueue
from labels.models import LabelStat


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
        parser.add_argument(
            "--job",
            action="store_true",
            help="Create the dataset, its splits and labels now, and load the items in a job "
            "(run by manage.py db_worker); prints the job's id and page.",
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
        split_ids = [s.pk for s in splits]
        split_cum = list(itertools.accumulate(r for _, r in ratios))
        label_ids = [lb.pk for lb in labels]
        if opts["job"]:
            job = generate_dataset_enqueue(
                version=version,
                owner=owner,
                split_ids=split_ids,
                split_cum=split_cum,
                label_ids=label_ids,
                opts=opts,
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"Dataset {dataset.pk} (version {version.pk}) created; its "
                    f"{opts['items']:,} items load in job {job.pk}: /jobs/{job.pk}/ "
                    f"(GET /api/v1/jobs/{job.pk}); a worker runs it (manage.py db_worker)."
                )
            )
            return
        self._load(version, owner, split_ids, split_cum, label_ids, opts)
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
        total, chunk = opts["items"], opts["chunk"]
        base = timezone.now()
        for start in range(0, total, chunk):
            size = min(chunk, total - start)
            generate_chunk(
                version=version,
                owner=owner,
                split_ids=split_ids,
                split_cum=split_cum,
                label_ids=label_ids,
                opts=opts,
                start=start,
                size=size,
                base=base,
            )
            self.stdout.write(f"  {start + size:,} / {total:,} items")
