"""Labels, annotations and the persisted per-split label statistics."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from seeme.models import Item, TimeStampedModel, Version
from splits.models import DatasetSplit


class Label(TimeStampedModel):
    """A class name of a version; ``index`` is assigned by the server (0, 1, 2 ...)."""

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="labels")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    color = models.CharField(max_length=7, default="#4e79a7")
    index = models.PositiveIntegerField(editable=False)
    shortcut = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["index", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="label_unique_name"),
            models.UniqueConstraint(fields=["version", "index"], name="label_unique_index"),
            models.CheckConstraint(condition=Q(name__length__gt=0), name="label_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Annotation(TimeStampedModel):
    """A label on an item within one split; ``coordinates`` empty means the whole item."""

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="annotations")
    # No single-column indexes on item and split: annotation_item_split and
    # annotation_split_item lead with each.
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="annotations", db_index=False
    )
    split = models.ForeignKey(
        DatasetSplit, on_delete=models.CASCADE, related_name="annotations", db_index=False
    )
    coordinates = models.TextField(blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["split", "item"], name="annotation_split_item"),
            models.Index(fields=["split", "label", "item"], name="annotation_split_label"),
            models.Index(fields=["item", "split"], name="annotation_item_split"),
        ]

    def __str__(self) -> str:
        return f"{self.label_id} on {self.item_id}"


class LabelStat(TimeStampedModel):
    """Persisted counts for one split: one row per label, one unlabelled row, one total row.

    Maintained only by ``labels.stats``, in the transaction of the write that changed them.
    """

    class Kind(models.TextChoices):
        LABEL = "label", "Label"
        UNLABELLED = "unlabelled", "Unlabelled"
        TOTAL = "total", "Split total"

    split = models.ForeignKey(DatasetSplit, on_delete=models.CASCADE, related_name="label_stats")
    label = models.ForeignKey(
        Label, on_delete=models.CASCADE, null=True, blank=True, related_name="stats"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.LABEL)
    count = models.BigIntegerField(default=0)
    annotation_count = models.BigIntegerField(default=0)
    item_count = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["split", "kind", "label__index"]
        constraints = [
            models.UniqueConstraint(
                fields=["split", "label"], condition=Q(kind="label"), name="labelstat_unique_label"
            ),
            models.UniqueConstraint(
                fields=["split", "kind"], condition=~Q(kind="label"), name="labelstat_unique_bucket"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="label", label__isnull=False)
                    | (Q(kind__in=["unlabelled", "total"]) & Q(label__isnull=True))
                ),
                name="labelstat_kind_label",
            ),
            models.CheckConstraint(
                condition=Q(count__gte=0, annotation_count__gte=0, item_count__gte=0),
                name="labelstat_non_negative",
            ),
            models.CheckConstraint(condition=Q(count=F("item_count")), name="labelstat_count"),
            models.CheckConstraint(
                condition=~Q(kind="unlabelled") | Q(annotation_count=0),
                name="labelstat_unlabelled_no_annotations",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.split_id}/{self.kind}/{self.label_id}"
