"""Admin of annotations (and their inline on items); writes through ``labels.services``."""

from django.contrib import admin

from labels import services as label_services
from labels.admin.statistics import label_filter
from labels.models import Annotation
from seeme.admin_site import (
    BoundedCountAdminMixin,
    ServiceAdmin,
    ServiceInline,
    changed_values,
    dataset_filter,
    version_filter,
)
from splits.admin import split_filter, stats_totals_sum

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
class AnnotationAdmin(BoundedCountAdminMixin, ServiceAdmin):
    list_display = ("short_id", "item", "label", "split", "version", "region", "user", "created_at")
    list_filter = (
        dataset_filter("split__version__dataset"),
        version_filter("split__version"),
        split_filter("split"),
        label_filter("label"),
        # Not date_hierarchy: its year links scan every row of the table for their dates.
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("item", "label", "split__version__dataset", "user")
    search_fields = ("item__name", "label__name")
    autocomplete_fields = ("item", "label", "split")
    ordering = ("-created_at", "-id")
    fields = ("item", "split", "label", "coordinates", "user", "id", "created_at", "updated_at")
    readonly_fields = ("user", "id", "created_at", "updated_at")
    fixed_after_create = ("item",)

    def estimated_count(self) -> int:
        return stats_totals_sum("annotation_count")

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
