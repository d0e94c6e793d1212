"""Admin for labels, annotations and the (read-only, computed) label statistics.

Every write goes through ``labels.services``, so the statistics stay exact; LabelStat rows
can only be looked at, and repaired with the "Reconcile statistics" action.
"""

import uuid
from collections.abc import Iterable

from django import forms
from django.contrib import admin, messages
from django.core.validators import RegexValidator
from django.db.models import IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.html import format_html

from labels import services as label_services
from labels.models import Annotation, Label, LabelStat
from labels.selectors import Drift
from seeme.admin_site import (
    DrillDownFilter,
    ServiceAdmin,
    ServiceInline,
    changed_values,
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


# -- labels ---------------------------------------------------------------------------------------

LABEL_FIELDS = ("name", "description", "color", "shortcut")


class LabelForm(forms.ModelForm):
    """A label; an empty colour takes the next one of the palette."""

    color = forms.CharField(
        required=False,
        max_length=7,
        help_text="#rrggbb; empty picks the next palette colour.",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour is #rrggbb.")],
    )

    class Meta:
        model = Label
        fields = ("version", "name", "description", "color", "shortcut")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            self.initial["color"] = ""


def _label_create(request, version, data) -> Label:
    return label_services.label_create(
        version=version,
        user=request.user,
        name=data["name"],
        description=data["description"],
        color=data["color"] or None,
        shortcut=data["shortcut"],
    )


def _label_update(label_id, form) -> Label:
    """Apply the form's changes to the stored label (an emptied colour keeps the colour)."""
    data = changed_values(form, LABEL_FIELDS)
    if not data.get("color", True):
        del data["color"]
    return label_services.label_update(label=Label.objects.get(pk=label_id), data=data)


def _annotations_of_label() -> Coalesce:
    rows = (
        LabelStat.objects.filter(label_id=OuterRef("pk"))
        .order_by()
        .values("label_id")
        .annotate(n=Sum("annotation_count"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


@admin.register(Label)
class LabelAdmin(ServiceAdmin):
    form = LabelForm
    list_display = (
        "name",
        "index",
        "swatch",
        "shortcut",
        "version",
        "annotation_count",
        "created_at",
    )
    list_filter = (dataset_filter("version__dataset"), version_filter("version"))
    list_select_related = ("version__dataset",)
    search_fields = ("name", "version__name", "version__dataset__name")
    autocomplete_fields = ("version",)
    ordering = ("version__dataset__name", "version__created_at", "index")
    fields = (
        "version",
        "name",
        "description",
        "color",
        "shortcut",
        "index",
        "id",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("index", "id", "created_at", "updated_at")
    fixed_after_create = ("version",)
    delete_cascade = (("labels.Annotation", "label"), ("labels.LabelStat", "label"))

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .annotate(total_annotations=_annotations_of_label())
        )

    def autocomplete_text(self, obj) -> str:
        return f"{obj.version} / {obj.name}"

    @admin.display(description="colour", ordering="color")
    def swatch(self, obj):
        return format_html(
            '<span style="display:inline-block;width:1em;height:1em;background:{};'
            'vertical-align:middle"></span> {}',
            obj.color,
            obj.color,
        )

    @admin.display(description="annotations", ordering="total_annotations")
    def annotation_count(self, obj):
        return obj.total_annotations

    def create_via_service(self, request, form):
        return _label_create(request, form.cleaned_data["version"], form.cleaned_data)

    def update_via_service(self, request, obj, form):
        return _label_update(obj.pk, form)

    def delete_via_service(self, request, obj):
        label_services.label_delete(label=obj)


class LabelInline(ServiceInline, admin.TabularInline):
    """The labels of a version, on the version's page."""

    model = Label
    form = LabelForm
    fields = ("index", "name", "color", "shortcut", "description", "annotation_count")
    readonly_fields = ("index", "annotation_count")
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(total_annotations=_annotations_of_label())

    @admin.display(description="annotations")
    def annotation_count(self, obj):
        return getattr(obj, "total_annotations", None)

    def create_via_service(self, request, parent, form):
        return _label_create(request, parent, form.cleaned_data)

    def update_via_service(self, request, original, form):
        _label_update(original.pk, form)

    def delete_via_service(self, request, original):
        label_services.label_delete(label=original)


# -- annotations ----------------------------------------------------------------------------------


def _annotation_changes(form) -> dict:
    data = changed_values(form, ("label", "split", "coordinates"))
    for name in ("label", "split"):
        if name in data:
            data[f"{name}_id"] = data.pop(name).pk
    return data


def _annotation_create(request, item, data) -> Annotation:
    split = data["split"]
    return label_services.annotation_create(
        version=split.version,
        user=request.user,
        label_id=data["label"].pk,
        item_id=item.pk,
        split_id=split.pk,
        coordinates=data["coordinates"],
    )


@admin.register(Annotation)
class AnnotationAdmin(ServiceAdmin):
    list_display = ("short_id", "item", "label", "split", "version", "region", "user", "created_at")
    list_filter = (
        dataset_filter("split__version__dataset"),
        version_filter("split__version"),
        split_filter("split"),
        label_filter("label"),
    )
    list_select_related = ("item", "label", "split__version__dataset", "user")
    search_fields = ("item__name", "label__name")
    autocomplete_fields = ("item", "label", "split")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    fields = ("item", "split", "label", "coordinates", "user", "id", "created_at", "updated_at")
    readonly_fields = ("user", "id", "created_at", "updated_at")
    fixed_after_create = ("item",)

    @admin.display(description="id")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="version", ordering="split__version__name")
    def version(self, obj):
        return obj.split.version

    @admin.display(description="region")
    def region(self, obj):
        return obj.coordinates[:40] or "whole item"

    def create_via_service(self, request, form):
        return _annotation_create(request, form.cleaned_data["item"], form.cleaned_data)

    def update_via_service(self, request, obj, form):
        data = _annotation_changes(form)
        if not data:
            return None
        original = Annotation.objects.select_related("split__version").get(pk=obj.pk)
        return label_services.annotation_update(annotation=original, data=data)

    def delete_via_service(self, request, obj):
        label_services.annotation_delete(annotation=obj)


class AnnotationInline(ServiceInline, admin.TabularInline):
    """An item's annotations, on the item's page; labels and splits of the item's version."""

    model = Annotation
    fields = ("label", "split", "coordinates", "user", "created_at")
    readonly_fields = ("user", "created_at")
    version_scoped_fields = ("label", "split")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def parent_version_id(self, parent):
        return parent.dataset_version_id

    def create_via_service(self, request, parent, form):
        return _annotation_create(request, parent, form.cleaned_data)

    def update_via_service(self, request, original, form):
        data = _annotation_changes(form)
        if data:
            label_services.annotation_update(annotation=original, data=data)

    def delete_via_service(self, request, original):
        label_services.annotation_delete(annotation=original)


# -- statistics -----------------------------------------------------------------------------------


@admin.register(LabelStat)
class LabelStatAdmin(admin.ModelAdmin):
    """Computed rows: read-only, filterable, and repaired by reconciling."""

    computed = True
    list_display = (
        "dataset",
        "version",
        "split_name",
        "kind",
        "label",
        "item_count",
        "annotation_count",
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
    show_full_result_count = False
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
