"""Writes that change a split's numbers: all of them update LabelStat in their transaction.

Each function locks top-down (see ``seeme.locks``): the version row, then the ItemSplit rows
it changes (primary-key order), then ``StatsDelta.apply()`` locks the LabelStat rows. Every
public function is one transaction (``atomic_write``), retried whole after a deadlock.
"""

from labels.colors import PALETTE
from labels.services.annotate import LabelResult, items_label_whole
from labels.services.assignment import items_assign_to_splits, items_move_to_split
from labels.services.bulk import NewItem, items_bulk_create
from labels.services.inferences import add_inferences
from labels.services.item_put import item_update_with_splits
from labels.services.items import (
    annotation_create,
    annotation_delete,
    annotation_update,
    item_add_to_split,
    item_create,
    item_delete,
    item_move_to_split,
    item_remove_from_split,
)
from labels.services.reconcile import label_stats_reconcile
from labels.services.structure import (
    dataset_create,
    label_create,
    label_delete,
    label_update,
    split_create,
    split_delete,
)
from labels.services.versions import version_duplicate

__all__ = [
    "PALETTE",
    "add_inferences",
    "annotation_create",
    "annotation_delete",
    "annotation_update",
    "dataset_create",
    "item_add_to_split",
    "item_create",
    "item_delete",
    "item_move_to_split",
    "item_remove_from_split",
    "item_update_with_splits",
    "items_assign_to_splits",
    "items_bulk_create",
    "items_label_whole",
    "LabelResult",
    "items_move_to_split",
    "NewItem",
    "label_create",
    "label_delete",
    "label_stats_reconcile",
    "label_update",
    "split_create",
    "split_delete",
    "version_duplicate",
]
