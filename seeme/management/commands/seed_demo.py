"""Load a small demo dataset and a demo login (idempotent); `make run` calls it."""

import io
import json
import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from labels import services as label_services
from labels.models import Annotation
from labels.regions import region_box
from seeme.demo_pictures import Shape, picture, random_box
from seeme.files import attach_item_file
from seeme.models import ContentType, Dataset, Item

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"
DATASET_NAME = "Pets (demo)"
LABELS = [("cat", "#4e79a7"), ("dog", "#f28e2b"), ("bird", "#59a14f"), ("rabbit", "#b07aa1")]


class Command(BaseCommand):
    help = "Create the demo user and a small demo dataset (a few labels, three splits, pictures)."

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, default=36)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, items: int, seed: int, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={
                "email": "demo@example.com",
                "first_name": "Demo",
                "last_name": "User",
                "is_staff": True,
                "is_superuser": True,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        existing = Dataset.objects.filter(owner=user, name=DATASET_NAME).first()
        if existing is None:
            self._create_dataset(user, items, random.Random(seed))
            self.stdout.write(self.style.SUCCESS(f"Created the demo dataset {DATASET_NAME!r}."))
        else:
            added = self._add_missing_pictures(existing, random.Random(seed))
            if added:
                self.stdout.write(self.style.SUCCESS(f"Gave {added} demo items their pictures."))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo login: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r} "
                "(web pages, /admin/ and POST /api/v1/login)"
            )
        )

    def _create_dataset(self, user, n_items: int, rng: random.Random) -> None:
        dataset = label_services.dataset_create(
            owner=user,
            name=DATASET_NAME,
            description="A few labelled pet photos.",
            multi_label=True,
            default_splits=True,
            content_type=ContentType.IMAGES,
        )
        version = dataset.versions.get()
        splits = list(version.splits.order_by("created_at"))
        labels = [
            label_services.label_create(version=version, user=user, name=name, color=color)
            for name, color in LABELS
        ]
        weights = [8, 5, 2, 1]
        for i in range(n_items):
            # 70 / 15 / 15, interleaved so every split gets some of each label.
            slot = i % 20
            split = splits[0] if slot < 14 else splits[1] if slot < 17 else splits[2]
            item = label_services.item_create(
                version=version,
                user=user,
                name=f"pet-{i:03d}.jpg",
                extension="jpg",
                description=f"Demo photo {i}",
                split_ids=[split.pk],
            )
            # The picture shows its label's shape in the label's colour (an unlabelled item
            # shows one too: labelling it is the work left to do).
            label = rng.choices(labels, weights=weights)[0]
            shapes = [Shape(labels.index(label), label.color, random_box(rng))]
            region = None
            if rng.random() < 0.85:
                label_services.annotation_create(
                    version=version,
                    user=user,
                    label_id=label.pk,
                    item_id=item.pk,
                    split_id=split.pk,
                )
                if rng.random() < 0.25:
                    extra = rng.choice(labels)
                    region = (extra, random_box(rng, small=True))
                    shapes.append(Shape(labels.index(extra), extra.color, region[1]))
            attach_item_file(item, io.BytesIO(picture(shapes, seed=i)), filename=item.name)
            if region is not None:
                label_services.annotation_create(
                    version=version,
                    user=user,
                    label_id=region[0].pk,
                    item_id=item.pk,
                    split_id=split.pk,
                    coordinates=json.dumps(list(region[1])),
                )

    def _add_missing_pictures(self, dataset, rng: random.Random) -> int:
        """A demo loaded before items had files: draw each item's labels (its first whole-item
        label big, its regions in their boxes) and attach the picture."""
        added = 0
        for version in dataset.versions.all():
            labels = {label.pk: label for label in version.labels.order_by("index")}
            order = list(labels)
            for item in Item.objects.filter(dataset_version=version, file__isnull=True):
                annotations = list(Annotation.objects.filter(item=item).order_by("created_at"))
                whole = [a.label_id for a in annotations if not a.coordinates] or order[:1]
                shapes = [
                    Shape(order.index(label_id), labels[label_id].color, random_box(rng))
                    for label_id in whole[:1]
                ]
                for a in annotations:
                    box = region_box(a.coordinates, 1000, 1000)
                    if box is not None:
                        relative = (box.x / 1000, box.y / 1000)
                        end = ((box.x + box.width) / 1000, (box.y + box.height) / 1000)
                        color = labels[a.label_id].color
                        shapes.append(Shape(order.index(a.label_id), color, (*relative, *end)))
                data = picture(shapes, seed=item.created_at.microsecond + added)
                attach_item_file(item, io.BytesIO(data), filename=item.name or None)
                added += 1
        return added
