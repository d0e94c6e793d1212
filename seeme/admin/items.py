"""Admin of items."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from labels import services as label_services
from labels.admin import (
    AnnotationInline,
)
from labels.models import Annotation
from seeme import services
from seeme.admin.counts import count_of
from seeme.admin_site import (
    BoundedCountAdminMixin,
    KeysetAdminMixin,
    ServiceAdmin,
    changed_values,
    dataset_filter,
    version_filter,
)
from seeme.models import Item
from splits.admin import MembershipInline, split_filter, stats_totals_sum
from splits.models import ItemSplit

# -- items ----------------------------------------------------------------------------------------


class ItemForm(forms.ModelForm):
    """An item; ``revision`` carries the item's version as read, for a lost-update check."""

    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Item
        fields = ("dataset_version", "name", "description", "text", "extension", "group")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.initial["revision"] = self.instance.version


@admin.register(Item)
class ItemAdmin(KeysetAdminMixin, BoundedCountAdminMixin, ServiceAdmin):
    """Items. Their splits and annotations are edited on the item's page once it exists."""

    form = ItemForm
    list_display = (
        "name",
        "dataset_version",
        "split_names",
        "annotation_count",
        "extension",
        "revision_number",
        "created_at",
    )
    list_filter = (
        dataset_filter("dataset_version__dataset"),
        version_filter("dataset_version"),
        split_filter("memberships__split"),
        # Not date_hierarchy: its year links scan every row of the table for their dates.
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("dataset_version__dataset",)
    # 50 rows, not Django's 100: rendering the rows is most of the page's time.
    list_per_page = 50
    # Wide text columns the list never shows (seeme.admin_site.keyset).
    list_defer = (
        "text",
        "description",
        "dataset_version__description",
        "dataset_version__config",
        "dataset_version__dataset__description",
        "dataset_version__dataset__notes",
    )
    search_fields = ("name", "=group", "=content_hash")
    autocomplete_fields = ("dataset_version",)
    ordering = ("-created_at", "-id")
    fields = (
        "dataset_version",
        "file_preview",
        "name",
        "description",
        "text",
        "extension",
        "group",
        "content_hash",
        "revision",
        "revision_number",
        "user",
        "id",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "file_preview",
        "content_hash",
        "revision_number",
        "user",
        "id",
        "created_at",
        "updated_at",
    )
    fixed_after_create = ("dataset_version",)
    delete_cascade = (("splits.ItemSplit", "item"), ("labels.Annotation", "item"))

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .prefetch_related("splits")
            .annotate(annotations_n=count_of(Annotation, "item"))
        )

    def estimated_count(self) -> int:
        # An item in several splits counts once in each: "about", as the page says.
        return stats_totals_sum("item_count")

    def get_inlines(self, request, obj):
        # Split and label choices depend on the item's version: known once the item exists.
        return (MembershipInline, AnnotationInline) if obj is not None else ()

    def autocomplete_text(self, obj) -> str:
        return f"{obj.dataset_version} / {obj}"

    @admin.display(description="file")
    def file_preview(self, obj):
        """The item's thumbnail (images) and a download link, through the API (access checked)."""
        if obj is None or obj.pk is None or obj.file_id is None:
            return "—"
        url = reverse(
            "item-download",
            kwargs={
                "dataset_id": obj.dataset_version.dataset_id,
                "version_id": obj.dataset_version_id,
                "pk": obj.pk,
            },
        )
        blob = obj.file
        thumb = (
            format_html(
                '<img src="{}?thumbnail=true" width="{}" height="{}" alt="" '
                'style="object-fit: contain; background: #f0f2f5; display: block">',
                url,
                settings.SEEME_THUMBNAIL_PX,
                settings.SEEME_THUMBNAIL_PX,
            )
            if blob.kind == "image"
            else ""
        )
        return format_html(
            '{}<a href="{}" download>Download {} ({} bytes)</a>',
            thumb,
            url,
            blob.extension.upper(),
            blob.size,
        )

    @admin.display(description="revision", ordering="version")
    def revision_number(self, obj):
        return obj.version

    @admin.display(description="splits")
    def split_names(self, obj):
        return ", ".join(sorted(s.name for s in obj.splits.all())) or "—"

    @admin.display(description="annotations", ordering="annotations_n")
    def annotation_count(self, obj):
        return obj.annotations_n

    def create_via_service(self, request, form):
        data = form.cleaned_data
        return label_services.item_create(
            version=data["dataset_version"],
            user=request.user,
            name=data["name"],
            description=data["description"],
            text=data["text"],
            extension=data["extension"],
            group=data["group"],
        )

    def update_via_service(self, request, obj, form):
        data = changed_values(form, services.ITEM_FIELDS)
        if not data:
            return None
        return services.item_update(item=obj, data=data, if_match=form.cleaned_data["revision"])

    def delete_via_service(self, request, obj):
        label_services.item_delete(item=obj)

    def save_related(self, request, form, formsets, change):
        """Splits the item joins (or moves to) first, so annotations can go there; splits it
        leaves last, so leaving a split wins over annotating there in the same save."""
        form.save_m2m()
        memberships = [fs for fs in formsets if fs.model is ItemSplit]
        others = [fs for fs in formsets if fs.model is not ItemSplit]
        for formset in memberships:
            self.save_inline_changes(request, formset, deletes=False)
        for formset in others:
            self.save_formset(request, form, formset, change)
        for formset in memberships:
            self.save_inline_changes(request, formset, writes=False)
