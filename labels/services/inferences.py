"""add_inferences: many new items of a split in one transaction, stats in aggregate."""

import uuid
from collections import Counter

from django.contrib.auth.models import AbstractBaseUser

from labels.models import Annotation, Label
from labels.services._locks import _lock_shared
from labels.stats import StatsDelta
from seeme.db import atomic_write
from seeme.exceptions import InvalidInput, NotFound
from seeme.models import ContentType, Item, text_content_hash
from splits.models import DatasetSplit, ItemSplit

# -- add_inferences ---------------------------------------------------------------------------

TEXT_CONTENT_TYPES = {ContentType.TEXT, ContentType.NER}
BULK_BATCH = 2000


def _predictions(inference: dict, multi_label: bool) -> list[tuple[str, str]]:
    """The (label name, coordinates) pairs an inference becomes, by the add_inferences rule."""
    items = [
        i for i in inference.get("inference_items") or [] if (i.get("prediction") or "") != ""
    ]
    if not items and inference.get("prediction"):
        items = [{"prediction": inference["prediction"],
                  "confidence": inference.get("confidence") or 0.0, "coordinates": ""}]
    if not multi_label:
        whole = [i for i in items if not i.get("coordinates")]
        regions = [i for i in items if i.get("coordinates")]
        best = max(whole, key=lambda i: i.get("confidence") or 0.0, default=None)
        items = ([best] if best else []) + regions
    return [(i["prediction"], i.get("coordinates") or "") for i in items]


@atomic_write
def add_inferences(
    *, split: DatasetSplit, user: AbstractBaseUser | None, inferences: list[dict],
    keep_annotations: bool = True,
) -> list[uuid.UUID]:
    """Turn inferences into new items of the split (annotated when ``keep_annotations``).

    One transaction; the number of queries grows only with batches of 2,000 rows, and the
    statistics move in one aggregated update. A prediction naming no label of the version
    fails the whole request. Returns the new item ids, in the order of ``inferences``.
    """
    version = split.version
    _lock_shared(version)
    if not DatasetSplit.objects.filter(pk=split.pk).exists():
        raise NotFound("This split does not exist.")
    multi_label = version.dataset.multi_label
    plans = [_predictions(inf, multi_label) if keep_annotations else [] for inf in inferences]
    label_ids = dict(Label.objects.filter(version=version).values_list("name", "id"))
    unknown = sorted({name for plan in plans for name, _ in plan if name not in label_ids})
    if unknown:
        raise InvalidInput(
            "Predictions name labels this version does not have: " + ", ".join(unknown),
            {"inferences": [f"unknown label {name!r}" for name in unknown]},
        )
    as_text = version.dataset.content_type in TEXT_CONTENT_TYPES
    items = [
        Item(
            dataset_version=version, user=user, name=inf.get("name") or "",
            description=inf.get("description") or "", extension=inf.get("extension") or "",
            text=(inf.get("result") or "") if as_text else "",
            content_hash=text_content_hash(inf.get("result") or "") if as_text else "",
        )
        for inf in inferences
    ]
    Item.objects.bulk_create(items, batch_size=BULK_BATCH)
    ItemSplit.objects.bulk_create(
        [ItemSplit(item=item, split=split) for item in items], batch_size=BULK_BATCH
    )
    annotations = []
    delta = StatsDelta()
    for item, plan in zip(items, plans, strict=True):
        after = Counter()
        for name, coordinates in plan:
            annotations.append(Annotation(
                label_id=label_ids[name], item=item, split=split, coordinates=coordinates,
                user=user,
            ))
            after[label_ids[name]] += 1
        delta.change(split.pk, None, after)
    Annotation.objects.bulk_create(annotations, batch_size=BULK_BATCH)
    delta.apply()
    return [item.pk for item in items]
