"""Admin for splits and item membership; every write goes through ``labels.services``.

Membership changes move statistics, so adding an item to a split, moving it to another split
and removing it all call the services (see ``seeme.admin_site`` for the plumbing).
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import IntegerField, OuterRef, Subquery, Sum
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html

from labels import services as label_services
from labels.models import LabelStat
from seeme.admin_site import (
    BoundedCountAdminMixin,
    DatasetFilter,
    DrillDownFilter,
    KeysetAdminMixin,
    ServiceAdmin,
    ServiceInline,
    VersionFilter,
    changed_values,
    dataset_filter,
    parse_uuid,
    version_filter,
    version_scoped_filter,
)
from splits import services as split_services
from splits.models import DatasetSplit, ItemSplit


class SplitIdsFilter(DrillDownFilter):
    """A dataset or version filter applied as ``<split path>__in=[the ids of its splits]``
    (one small query over the splits). The list's query then names its own split column, so
    PostgreSQL estimates it from that column's statistics and reaches a small version's rows
    through the split indexes; through a join to the versions it walked the newest-first
    ``created_at`` index past every row of the bigger, newer versions (~800 ms at 1M)."""

    split_path = "split"
    scope = "version_id"

    def queryset(self, request, queryset):
        if self.value() is None:
            return None
        scope = {self.scope: self.chosen_id()}
        if self.parameter_name == "dataset":
            # With a version chosen too, one list of ids says both (the version's splits, if
            # the version is the dataset's): a second IN list halves and halves again the
            # planner's estimate, which then joins every row before sorting.
            version_id = parse_uuid(request.GET.get("version"))
            if version_id is not None:
                scope["version_id"] = version_id
        elif request.GET.get("dataset") is not None and parse_uuid(self.value()) is not None:
            return None  # the dataset filter applies the version (above)
        ids = list(DatasetSplit.objects.filter(**scope).values_list("pk", flat=True))
        return queryset.filter(**{f"{self.split_path}__in": ids})


def split_dataset_filter(split_path: str) -> type[DrillDownFilter]:
    """The dataset filter of a model reaching its split's id at ``split_path``."""
    attrs = {"split_path": split_path, "scope": "version__dataset_id"}
    return type("DatasetFilter", (SplitIdsFilter, DatasetFilter), attrs)


def split_version_filter(split_path: str) -> type[DrillDownFilter]:
    """The version filter of a model reaching its split's id at ``split_path``."""
    attrs = {"split_path": split_path, "scope": "version_id"}
    return type("VersionFilter", (SplitIdsFilter, VersionFilter), attrs)


def split_filter(path: str) -> type[DrillDownFilter]:
    """A split filter for a model reaching its split's id at ``path``."""
    return version_scoped_filter(DatasetSplit, "split", path)


def _total_row(field: str) -> Subquery:
    """One number of the split's total statistics row (exact, and one index lookup)."""
    rows = LabelStat.objects.filter(split_id=OuterRef("pk"), kind=LabelStat.Kind.TOTAL)
    return Subquery(rows.values(field)[:1], output_field=IntegerField())


def stats_totals_sum(field: str) -> int:
    """``field`` summed over every split's total statistics row: how many memberships
    (``item_count``) or annotations there are, without counting them (one query over the
    LabelStat rows, whose number grows with splits and labels, not with items)."""
    rows = LabelStat.objects.filter(kind=LabelStat.Kind.TOTAL)
    return rows.aggregate(n=Sum(field))["n"] or 0


def with_totals(queryset):
    """Splits annotated with their item and annotation counts from the statistics."""
    return queryset.annotate(
        total_items=_total_row("item_count"), total_annotations=_total_row("annotation_count")
    )


SPLIT_FIELDS = ("name", "description")


@admin.register(DatasetSplit)
class DatasetSplitAdmin(ServiceAdmin):
    list_display = ("name", "version", "item_count", "annotation_count", "statistics", "created_at")
    list_display_links = ("name",)
    list_filter = (dataset_filter("version__dataset"), version_filter("version"))
    list_select_related = ("version__dataset",)
    search_fields = ("name", "version__name", "version__dataset__name")
    autocomplete_fields = ("version",)
    ordering = ("version__dataset__name", "version__created_at", "name")
    fields = ("version", "name", "description", "id", "created_at", "updated_at")
    readonly_fields = ("id", "created_at", "updated_at")
    fixed_after_create = ("version",)
    delete_cascade = (
        ("splits.ItemSplit", "split"),
        ("labels.Annotation", "split"),
        ("labels.LabelStat", "split"),
    )

    def get_queryset(self, request):
        return with_totals(super().get_queryset(request).select_related(*self.list_select_related))

    def autocomplete_text(self, obj) -> str:
        return f"{obj.version} / {obj.name}"

    @admin.display(description="items", ordering="total_items")
    def item_count(self, obj):
        return obj.total_items

    @admin.display(description="annotations", ordering="total_annotations")
    def annotation_count(self, obj):
        return obj.total_annotations

    @admin.display(description="label statistics")
    def statistics(self, obj):
        url = reverse("admin:labels_labelstat_changelist", current_app=self.admin_site.name)
        query = f"dataset={obj.version.dataset_id}&version={obj.version_id}&split={obj.pk}"
        return format_html('<a href="{}?{}">per label</a>', url, query)

    def create_via_service(self, request, form):
        data = form.cleaned_data
        return label_services.split_create(
            version=data["version"],
            user=request.user,
            name=data["name"],
            description=data["description"],
        )

    def update_via_service(self, request, obj, form):
        return split_services.split_update(split=obj, data=changed_values(form, SPLIT_FIELDS))

    def delete_via_service(self, request, obj):
        label_services.split_delete(split=obj)


class SplitInline(ServiceInline, admin.TabularInline):
    """The splits of a version, with their numbers; on the version's page."""

    model = DatasetSplit
    fields = ("name", "description", "item_count", "annotation_count", "created_at")
    readonly_fields = ("item_count", "annotation_count", "created_at")
    show_change_link = True

    def get_queryset(self, request):
        return with_totals(super().get_queryset(request))

    @admin.display(description="items")
    def item_count(self, obj):
        return getattr(obj, "total_items", None)

    @admin.display(description="annotations")
    def annotation_count(self, obj):
        return getattr(obj, "total_annotations", None)

    def create_via_service(self, request, parent, form):
        data = form.cleaned_data
        return label_services.split_create(
            version=parent, user=request.user, name=data["name"], description=data["description"]
        )

    def update_via_service(self, request, original, form):
        split_services.split_update(split=original, data=changed_values(form, SPLIT_FIELDS))

    def delete_via_service(self, request, original):
        label_services.split_delete(split=original)


class MembershipFormSet(BaseInlineFormSet):
    """An item's splits. Removing the last one would delete the item (the service's rule for
    an item left in no split), so the form asks for the item's delete button instead."""

    def clean(self):
        super().clean()
        had = sum(1 for f in self.initial_forms if f.instance.pk is not None)
        keeps = sum(
            1
            for f in self.forms
            if not self._should_delete_form(f) and (f.instance.pk is not None or f.has_changed())
        )
        if had and not keeps:
            raise forms.ValidationError(
                "An item must stay in at least one split: removing it from its last split "
                "deletes it. To delete the item, use its Delete button."
            )


class MembershipInline(ServiceInline, admin.TabularInline):
    """An item's splits, on the item's page: add, move (change the split) or remove."""

    model = ItemSplit
    formset = MembershipFormSet
    fields = ("split", "created_at")
    readonly_fields = ("created_at",)
    version_scoped_fields = ("split",)
    verbose_name = "split membership"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "split":
            field.help_text = (
                "Another split moves the item there with its annotations; removing the row "
                "takes the item out of the split and drops its annotations there."
            )
        return field

    def parent_version_id(self, parent):
        return parent.dataset_version_id

    def create_via_service(self, request, parent, form):
        split = form.cleaned_data["split"]
        label_services.item_add_to_split(item=parent, split=split)
        return ItemSplit.objects.get(item=parent, split=split)

    def update_via_service(self, request, original, form):
        label_services.item_move_to_split(
            item=original.item, from_split=original.split, to_split=form.cleaned_data["split"]
        )

    def delete_via_service(self, request, original):
        label_services.item_remove_from_split(item=original.item, split=original.split)


@admin.register(ItemSplit)
class ItemSplitAdmin(KeysetAdminMixin, BoundedCountAdminMixin, ServiceAdmin):
    list_display = ("item", "split", "version", "created_at")
    list_filter = (
        split_dataset_filter("split"),
        split_version_filter("split"),
        split_filter("split"),
    )
    list_select_related = ("item", "split__version__dataset")
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
    search_fields = ("item__name", "split__name")
    autocomplete_fields = ("item", "split")
    ordering = ("-created_at", "-id")
    fields = ("item", "split", "created_at")
    readonly_fields = ("created_at",)
    fixed_after_create = ("item",)

    def estimated_count(self) -> int:
        # Exact while the statistics are (every membership counts once in its split's total).
        return stats_totals_sum("item_count")

    @admin.display(description="version", ordering="split__version__name")
    def version(self, obj):
        return obj.split.version

    def create_via_service(self, request, form):
        item, split = form.cleaned_data["item"], form.cleaned_data["split"]
        label_services.item_add_to_split(item=item, split=split)
        return ItemSplit.objects.get(item=item, split=split)

    def update_via_service(self, request, obj, form):
        if "split" in form.changed_data:
            original = ItemSplit.objects.select_related("split").get(pk=obj.pk)
            label_services.item_move_to_split(
                item=obj.item, from_split=original.split, to_split=form.cleaned_data["split"]
            )
            return ItemSplit.objects.get(pk=obj.pk)
        return None

    def delete_via_service(self, request, obj):
        item = obj.item
        if label_services.item_remove_from_split(item=item, split=obj.split):
            self.message_user(
                request,
                f"The item {item} was in no split any more, so it was deleted.",
                messages.WARNING,
            )
