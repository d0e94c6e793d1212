"""add_inferences: many new items of a split in one transaction, stats in aggregate."""

import uuid
from collections import Counter
from datetime import timedelta

from django.utils import timezone

from labels.models import Annotation, Label
from labels.services._locks import _lock_shared
from labels.stats import StatsDelta
from seeme.db import atomic_write, insert_rows
from seeme.exceptions import InvalidInput, NotFound
from seeme.ids import uuid7
from seeme.models import ContentType, Item, User, text_content_hash
from seeme.references import SetBasedChecks
from splits.models import DatasetSplit, ItemSplit

# -- add_inferences ---------------------------------------------------------------------------

TEXT_CONTENT_TYPES = {ContentType.TEXT, ContentType.NER}
ITEM_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "dataset_version",
    "user",
    "name",
    "description",
    "extension",
    "text",
    "content_hash",
)
ANNOTATION_COLUMNS = ("label", "item", "split", "coordinates", "user", "created_at", "updated_at")
MEMBERSHIP_COLUMNS = ("item", "split", "created_at", "updated_at")


def _predictions(inference: dict, multi_label: bool) -> list[tuple[str, str]]:
    """The (label name, coordinates) pairs an inference becomes, by the add_inferences rule."""
    if not inference.get("inference_items"):  # the common case, short: its one prediction
        prediction = inference.get("prediction")
        return [(prediction, "")] if prediction else []
    items = [i for i in inference.get("inference_items") or [] if (i.get("prediction") or "") != ""]
    if not items and inference.get("prediction"):
        items = [
            {
                "prediction": inference["prediction"],
                "confidence": inference.get("confidence") or 0.0,
                "coordinates": "",
            }
        ]
    if not multi_label:
        whole = [i for i in items if not i.get("coordinates")]
        regions = [i for i in items if i.get("coordinates")]
        best = max(whole, key=lambda i: i.get("confidence") or 0.0, default=None)
        items = ([best] if best else []) + regions
    return [(i["prediction"], i.get("coordinates") or "") for i in items]


@atomic_write
def add_inferences(
    *,
    split: DatasetSplit,
    user: User | None,
    inferences: list[dict],
    keep_annotations: bool = True,
) -> list[uuid.UUID]:
    """Turn inferences into new items of the split (annotated when ``keep_annotations``).

    One transaction and a fixed number of queries, however many inferences: one INSERT per
    table (``seeme.db.insert_rows``: a COPY on PostgreSQL) and one aggregated update of the
    statistics. A prediction naming no label of the version fails the whole request. Returns
    the new item ids, in the order of ``inferences``.
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
    user_id = getattr(user, "pk", None)
    now = timezone.now()
    item_ids = [uuid7() for _ in inferences]
    item_rows = []
    for i, (item_id, inf) in enumerate(zip(item_ids, inferences, strict=True)):
        text = (inf.get("result") or "") if as_text else ""
        # One microsecond apart: item lists (creation order) keep the inferences' order.
        at = now + timedelta(microseconds=i)
        item_rows.append(
            (
                item_id,
                at,
                at,
                version.pk,
                user_id,
                inf.get("name") or "",
                inf.get("description") or "",
                inf.get("extension") or "",
                text,
                text_content_hash(text),
            )
        )
    annotation_rows = []
    delta = StatsDelta()
    for item_id, plan in zip(item_ids, plans, strict=True):
        after: Counter[uuid.UUID] = Counter()
        for name, coordinates in plan:
            label_id = label_ids[name]
            annotation_rows.append((label_id, item_id, split.pk, coordinates, user_id, now, now))
            after[label_id] += 1
        delta.change(split.pk, None, after)
    rows = len(item_rows)
    with SetBasedChecks(Item, ItemSplit, Annotation, created=[Item], rows=rows) as checks:
        insert_rows(Item, ITEM_COLUMNS, item_rows)
        insert_rows(ItemSplit, MEMBERSHIP_COLUMNS, [(pk, split.pk, now, now) for pk in item_ids])
        insert_rows(Annotation, ANNOTATION_COLUMNS, annotation_rows)
        # The new rows, by the times given to them above (indexed): the items' span, and the
        # one time of every membership and annotation. A row of another request that falls in
        # the span is committed, so valid: checking it too costs little and changes nothing.
        last = now + timedelta(microseconds=max(rows - 1, 0))
        checks.check(
            Item,
            "c.dataset_version_id = %s AND c.created_at BETWEEN %s AND %s",
            [version.pk, now, last],
        )
        checks.check(ItemSplit, "c.created_at = %s", [now])
        checks.check(Annotation, "c.created_at = %s", [now])
    delta.apply()
    return item_ids
