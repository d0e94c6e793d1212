"""The read-only LabelStat admin and the "Reconcile statistics" action (also offered on
datasets in the kernel's admin)."""

import uuid
from collections.abc import Iterable

from django.contrib import admin, messages

from labels import services as label_services
from labels.models import Label, LabelStat
from labels.selectors import Drift
from seeme.admin.counts import thousands
from seeme.admin_site import (
    BoundedCountAdminMixin,
    DrillDownFilter,
    dataset_filter,
    version_filter,
    version_scoped_filter,
)
from splits.admin import split_filter
from splits.models import DatasetSplit

# -- filters and the reconcile action -----------------------------------------------------------


def label_filter(path: str) -> type[DrillDownFilter]:
    """A label filter for a model reaching its label's id at ``path``."""
    return version_scoped_filter(Label, "label", path)


# A message names at most this many fixed rows; the count covers them all.
REPORTED_DRIFTS = 10


def reconcile_and_report(
    modeladmin,
    request,
    *,
    dataset_ids: Iterable[uuid.UUID] | None = None,
    split_ids: Iterable[uuid.UUID] | None = None,
) -> list[Drift]:
    """Recount the statistics of the given datasets or splits, fix drifted rows, and tell the
    user what was fixed (row by row, stored → recounted)."""
    drift = label_services.label_stats_reconcile(dataset_ids=dataset_ids, split_ids=split_ids)
    if not drift:
        modeladmin.message_user(
            request, "The statistics were exact: nothing to fix.", messages.SUCCESS
        )
        return drift
    shown = drift[:REPORTED_DRIFTS]
    splits = DatasetSplit.objects.select_related("version__dataset").in_bulk(
        {d.split_id for d in shown}
    )
    labels = Label.objects.in_bulk({d.label_id for d in shown if d.label_id})
    details = []
    for d in shown:
        split = splits.get(d.split_id)
        where = f"{split.version} / {split.name}" if split else str(d.split_id)
        row = labels[d.label_id].name if d.label_id in labels else d.kind
        stored = (
            f"{d.stored.item_count} items, {d.stored.annotation_count} annotations"
            if d.stored
            else "missing"
        )
        details.append(
            f"{where} [{row}]: {stored} → {d.expected.item_count} items, "
            f"{d.expected.annotation_count} annotations"
        )
    more = f"; and {len(drift) - len(shown)} more" if len(drift) > len(shown) else ""
    split_count = len({d.split_id for d in drift})
    modeladmin.message_user(
        request,
        f"Fixed {len(drift)} statistics rows in {split_count} splits: "
        + "; ".join(details)
        + more
        + ".",
        messages.WARNING,
    )
    return drift


def has_reconcile_permission(request) -> bool:
    """Reconciling rewrites statistics rows: it takes the right to change them, which no one
    can use otherwise (the admin shows them read-only)."""
    return request.user.has_perm("labels.change_labelstat")


# -- statistics -----------------------------------------------------------------------------------


@admin.register(LabelStat)
class LabelStatAdmin(BoundedCountAdminMixin, admin.ModelAdmin):
    """Computed rows: read-only, filterable, and repaired by reconciling."""

    computed = True
    list_display = (
        "dataset",
        "version",
        "split_name",
        "kind",
        "label",
        "items",
        "annotations",
        "updated_at",
    )
    list_filter = (
        dataset_filter("split__version__dataset"),
        version_filter("split__version"),
        split_filter("split"),
        "kind",
    )
    list_select_related = ("split__version__dataset", "label")
    search_fields = ("split__name", "label__name", "split__version__dataset__name")
    ordering = (
        "split__version__dataset__name",
        "split__version__created_at",
        "split__name",
        "kind",
        "label__index",
    )
    actions = ("reconcile_statistics",)
    fields = (
        "split",
        "kind",
        "label",
        "item_count",
        "annotation_count",
        "count",
        "id",
        "created_at",
        "updated_at",
    )

    @admin.display(description="items", ordering="item_count")
    def items(self, obj):
        return thousands(obj.item_count)

    @admin.display(description="annotations", ordering="annotation_count")
    def annotations(self, obj):
        return thousands(obj.annotation_count)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_reconcile_permission(self, request):
        return has_reconcile_permission(request)

    @admin.display(description="dataset", ordering="split__version__dataset__name")
    def dataset(self, obj):
        return obj.split.version.dataset.name

    @admin.display(description="version", ordering="split__version__name")
    def version(self, obj):
        return obj.split.version.name

    @admin.display(description="split", ordering="split__name")
    def split_name(self, obj):
        return obj.split.name

    @admin.action(
        description="Reconcile statistics of the selected rows' splits", permissions=["reconcile"]
    )
    def reconcile_statistics(self, request, queryset):
        split_ids = set(queryset.values_list("split_id", flat=True))
        reconcile_and_report(self, request, split_ids=split_ids)
