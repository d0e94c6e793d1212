"""Admin of datasets, their versions and shares."""

from django.contrib import admin

from labels import services as label_services
from labels.admin import (
    LabelInline,
    has_reconcile_permission,
    reconcile_and_report,
)
from labels.admin_actions import assign_splits
from labels.models import Label
from seeme import services
from seeme.admin.counts import count_of
from seeme.admin_site import (
    ServiceAdmin,
    ServiceInline,
    changed_values,
    dataset_filter,
)
from seeme.models import Dataset, DatasetShare, Version
from splits.admin import SplitInline
from splits.models import DatasetSplit

# -- datasets, versions, shares -------------------------------------------------------------------

DATASET_FIELDS = ("name", "description", "notes", "multi_label", "content_type")
VERSION_FIELDS = ("name", "description", "default_split", "config")


class VersionInline(ServiceInline, admin.TabularInline):
    """A dataset's versions, on the dataset's page (their splits and labels are on theirs)."""

    model = Version
    fields = ("name", "description", "default_split", "created_at")
    readonly_fields = ("created_at",)
    show_change_link = True

    def create_via_service(self, request, parent, form):
        data = form.cleaned_data
        return services.version_create(
            dataset=parent,
            user=request.user,
            name=data["name"],
            description=data["description"],
            default_split=data["default_split"],
        )

    def update_via_service(self, request, original, form):
        services.version_update(version=original, data=changed_values(form, VERSION_FIELDS))

    def delete_via_service(self, request, original):
        services.version_delete(version=original)


def _share(dataset, user, role) -> DatasetShare:
    return services.dataset_share(dataset=dataset, identifier=user.get_username(), role=role)[0]


class DatasetShareInline(ServiceInline, admin.TabularInline):
    """Who else may use a dataset, and with which role."""

    model = DatasetShare
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)

    def create_via_service(self, request, parent, form):
        return _share(parent, form.cleaned_data["user"], form.cleaned_data["role"])

    def update_via_service(self, request, original, form):
        if "user" in form.changed_data:
            services.dataset_unshare(dataset=original.dataset, user_id=original.user_id)
        _share(original.dataset, form.cleaned_data["user"], form.cleaned_data["role"])

    def delete_via_service(self, request, original):
        services.dataset_unshare(dataset=original.dataset, user_id=original.user_id)


@admin.register(Dataset)
class DatasetAdmin(ServiceAdmin):
    list_display = (
        "name",
        "owner",
        "content_type",
        "multi_label",
        "version_count",
        "share_count",
        "created_at",
    )
    list_filter = ("content_type", "multi_label", ("owner", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("owner",)
    search_fields = ("name", "description", "owner__username", "owner__email")
    autocomplete_fields = ("owner",)
    date_hierarchy = "created_at"
    ordering = ("name", "created_at")
    inlines = (VersionInline, DatasetShareInline)
    actions = ("reconcile_statistics",)
    fields = (
        "owner",
        "name",
        "description",
        "notes",
        "content_type",
        "multi_label",
        "default_splits",
        "id",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("id", "created_at", "updated_at")
    fixed_after_create = ("owner", "default_splits")
    delete_cascade = (
        ("seeme.Version", "dataset"),
        ("seeme.DatasetShare", "dataset"),
        ("seeme.Item", "dataset_version__dataset"),
        ("splits.DatasetSplit", "version__dataset"),
        ("splits.ItemSplit", "split__version__dataset"),
        ("labels.Label", "version__dataset"),
        ("labels.Annotation", "split__version__dataset"),
        ("labels.LabelStat", "split__version__dataset"),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .annotate(
                versions_n=count_of(Version, "dataset"),
                shares_n=count_of(DatasetShare, "dataset"),
            )
        )

    def autocomplete_text(self, obj) -> str:
        return f"{obj.name} ({obj.owner.get_username()})"

    @admin.display(description="versions", ordering="versions_n")
    def version_count(self, obj):
        return obj.versions_n

    @admin.display(description="shares", ordering="shares_n")
    def share_count(self, obj):
        return obj.shares_n

    def create_via_service(self, request, form):
        data = form.cleaned_data
        return label_services.dataset_create(
            owner=data["owner"],
            name=data["name"],
            description=data["description"],
            notes=data["notes"],
            multi_label=data["multi_label"],
            default_splits=data["default_splits"],
            content_type=data["content_type"],
        )

    def update_via_service(self, request, obj, form):
        return services.dataset_update(dataset=obj, data=changed_values(form, DATASET_FIELDS))

    def delete_via_service(self, request, obj):
        services.dataset_delete(dataset=obj)

    def has_reconcile_permission(self, request):
        return has_reconcile_permission(request)

    @admin.action(
        description="Reconcile statistics of the selected datasets", permissions=["reconcile"]
    )
    def reconcile_statistics(self, request, queryset):
        reconcile_and_report(self, request, dataset_ids=list(queryset.values_list("pk", flat=True)))


@admin.register(DatasetShare)
class DatasetShareAdmin(ServiceAdmin):
    list_display = ("dataset", "user", "role", "created_at")
    list_filter = ("role", dataset_filter("dataset"))
    list_select_related = ("dataset", "user")
    search_fields = ("dataset__name", "user__username", "user__email")
    autocomplete_fields = ("dataset", "user")
    ordering = ("dataset__name", "user__username")
    fields = ("dataset", "user", "role", "created_at")
    readonly_fields = ("created_at",)
    fixed_after_create = ("dataset", "user")

    def create_via_service(self, request, form):
        data = form.cleaned_data
        return _share(data["dataset"], data["user"], data["role"])

    def update_via_service(self, request, obj, form):
        return _share(obj.dataset, obj.user, form.cleaned_data["role"])

    def delete_via_service(self, request, obj):
        services.dataset_unshare(dataset=obj.dataset, user_id=obj.user_id)


@admin.register(Version)
class VersionAdmin(ServiceAdmin):
    list_display = ("name", "dataset", "split_count", "label_count", "user", "created_at")
    list_filter = (dataset_filter("dataset"),)
    list_select_related = ("dataset", "user")
    search_fields = ("name", "dataset__name")
    autocomplete_fields = ("dataset",)
    ordering = ("dataset__name", "created_at")
    inlines = (SplitInline, LabelInline)
    actions = (assign_splits,)
    fields = (
        "dataset",
        "name",
        "description",
        "default_split",
        "config",
        "user",
        "id",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("user", "id", "created_at", "updated_at")
    fixed_after_create = ("dataset",)
    delete_cascade = (
        ("seeme.Item", "dataset_version"),
        ("splits.DatasetSplit", "version"),
        ("splits.ItemSplit", "split__version"),
        ("labels.Label", "version"),
        ("labels.Annotation", "split__version"),
        ("labels.LabelStat", "split__version"),
    )

    def get_queryset(self, request):
        # The changelist skips list_select_related when the queryset has a select_related.
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .annotate(
                splits_n=count_of(DatasetSplit, "version"), labels_n=count_of(Label, "version")
            )
        )

    def autocomplete_text(self, obj) -> str:
        return str(obj)

    @admin.display(description="splits", ordering="splits_n")
    def split_count(self, obj):
        return obj.splits_n

    @admin.display(description="labels", ordering="labels_n")
    def label_count(self, obj):
        return obj.labels_n

    def create_via_service(self, request, form):
        data = form.cleaned_data
        return services.version_create(
            dataset=data["dataset"],
            user=request.user,
            name=data["name"],
            description=data["description"],
            default_split=data["default_split"],
            config=data["config"],
        )

    def update_via_service(self, request, obj, form):
        return services.version_update(version=obj, data=changed_values(form, VERSION_FIELDS))

    def delete_via_service(self, request, obj):
        services.version_delete(version=obj)
