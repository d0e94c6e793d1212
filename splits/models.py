"""Splits of a version (train / valid / test ...) and item membership in them."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from seeme.models import Item, TimeStampedModel, Version

DEFAULT_SPLIT_NAMES = ("train", "valid", "test")


class DatasetSplit(TimeStampedModel):
    """A named subset of a version's items. An item may belong to several splits."""

    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="splits")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    items = models.ManyToManyField(Item, through="ItemSplit", related_name="splits")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="split_unique_name"),
            models.CheckConstraint(condition=Q(name__length__gt=0), name="split_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class ItemSplit(TimeStampedModel):
    """Membership of an item in a split; the row writers lock to serialise per-item changes."""

    # No single-column indexes: itemsplit_item and itemsplit_unique lead with each key.
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    split = models.ForeignKey(
        DatasetSplit, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["split", "item"], name="itemsplit_unique"),
        ]
        indexes = [models.Index(fields=["item", "split"], name="itemsplit_item")]

    def __str__(self) -> str:
        return f"{self.item_id} in {self.split_id}"
