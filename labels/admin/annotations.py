"""Admin of annotations (and their inline on items); writes through ``labels.services``."""

from django.contrib import admin

from labels import services as label_services
from labels.admin.statistics import label_filter
from labels.models import Annotation
from seeme.admin_site import (
    BoundedCountAdminMixin,
    KeysetAdminMixin,
    ServiceAdmin,
    ServiceInline,
    changed_values,
)
from splits.admin import (
    split_dataset_filter,
    split_filter,
    split_version_filter,
    stats_totals_sum,
)

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
class AnnotationAdmin(KeysetAdminMixin, BoundedCountAdminMixin, ServiceAdmin):
    list_display = ("short_id", "item", "label", "split", "version", "region", "user", "created_at")
    list_filter = (
        split_dataset_filter("split"),
        split_version_filter("split"),
        split_filter("split"),
        label_filter("label"),
        # Not date_hierarchy: its year links scan every row of the table for their dates.
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("item", "label", "split__version__dataset", "user")
    # 50 rows, not Django's 100: rendering the rows is most of the page's time.
    list_per_page = 50
    sort_small_lists = True  # seeme.admin_site.keyset.KeysetChangeList._rows
    # Wide text columns the list never shows (seeme.admin_site.keyset).
    list_defer = (
        "item__text",
        "item__description",
        "split__description",
        "split__version__description",
        "split__version__config",
        "split__version__dataset__description",
        "split__version__dataset__notes",
    )
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
