"""Admin for the kernel: users, datasets with their versions and shares, items, API keys.

Every write goes through the services (``seeme.services``, and ``labels.services`` for those
that move statistics); the plumbing is in ``seeme.admin_site``.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from labels import services as label_services
from labels.admin import (
    AnnotationInline,
    LabelInline,
    has_reconcile_permission,
    reconcile_and_report,
)
from labels.admin_actions import assign_splits
from labels.models import Annotation, Label
from seeme import services
from seeme.admin_site import (
    ServiceAdmin,
    ServiceAdminMixin,
    ServiceInline,
    changed_values,
    dataset_filter,
    version_filter,
)
from seeme.models import APIKey, Dataset, DatasetShare, Item, User, Version
from splits.admin import MembershipInline, SplitInline, split_filter
from splits.models import DatasetSplit, ItemSplit


def _count_of(model, fk: str) -> Coalesce:
    """How many ``model`` rows point at the outer row through ``fk`` (0 when none)."""
    rows = (
        model.objects.filter(**{fk: OuterRef("pk")})
        .order_by()
        .values(fk)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


# -- users and API keys ---------------------------------------------------------------------------


class UserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta(auth_forms.AdminUserCreationForm.Meta):
        model = User


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta(auth_forms.UserChangeForm.Meta):
        model = User


class APIKeyInline(admin.TabularInline):
    """A user's keys, read-only: keys are created and revoked on the API key pages."""

    model = APIKey
    fields = ("name", "masked_key", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = fields
    can_delete = False
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="key")
    def masked_key(self, obj):
        return f"{obj.key_prefix}…"


@admin.register(User)
class UserAdmin(ServiceAdminMixin, DjangoUserAdmin):
    """Accounts. Deleting one deletes the datasets it owns, through ``dataset_delete``."""

    form = UserChangeForm
    add_form = UserCreationForm
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "last_login",
        "date_joined",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "first_name", "last_name", "email")
    ordering = ("username",)
    date_hierarchy = "date_joined"
    inlines = (APIKeyInline,)
    delete_cascade = (
        ("seeme.Dataset", "owner"),
        ("seeme.Version", "dataset__owner"),
        ("seeme.Item", "dataset_version__dataset__owner"),
        ("splits.DatasetSplit", "version__dataset__owner"),
        ("labels.Label", "version__dataset__owner"),
        ("labels.Annotation", "split__version__dataset__owner"),
        ("seeme.DatasetShare", ("user", "dataset__owner")),
        ("seeme.APIKey", "user"),
    )

    def autocomplete_text(self, obj) -> str:
        return obj.get_username()

    # Accounts and their rights move no numbers: the forms save them as Django does.
    def create_via_service(self, request, form):
        obj = form.instance
        obj.save()
        return obj

    def update_via_service(self, request, obj, form):
        obj.save()

    def delete_via_service(self, request, obj):
        for dataset in Dataset.objects.filter(owner=obj):
            services.dataset_delete(dataset=dataset)
        User.objects.filter(pk=obj.pk).delete()


class APIKeyCreateForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, help_text="Empty: the key never expires."
    )

    class Meta:
        model = APIKey
        fields = ("user", "name")


class KeyStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("revoked", "Revoked"), ("expired", "Expired"))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        return None


@admin.register(APIKey)
class APIKeyAdmin(ServiceAdmin):
    """API keys. The raw key is shown once, in the message after creating it; only its hash is
    stored and never shown. A key is not edited: it is revoked (and may be deleted)."""

    form = APIKeyCreateForm
    list_display = (
        "__str__",
        "user",
        "status",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = (KeyStatusFilter,)
    list_select_related = ("user",)
    search_fields = ("name", "key_prefix", "user__username", "user__email")
    autocomplete_fields = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "id")
    actions = ("revoke_keys",)
    view_fields = (
        "user",
        "name",
        "masked_key",
        "status",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "name", "expires_in_days")
        return self.view_fields

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        # The change page is a view page; the changelist keeps the revoke action.
        return obj is None and super().has_change_permission(request)

    @admin.display(description="key")
    def masked_key(self, obj):
        return f"{obj.key_prefix}…"

    @admin.display(description="status")
    def status(self, obj):
        if obj.revoked_at is not None:
            return "revoked"
        if obj.expires_at is not None and obj.expires_at <= timezone.now():
            return "expired"
        return "active"

    def create_via_service(self, request, form):
        data = form.cleaned_data
        key, raw = services.apikey_create(
            user=data["user"], name=data["name"], expires_in_days=data["expires_in_days"]
        )
        self.message_user(
            request,
            f"The new API key is {raw} — copy it now: it is shown only this once "
            "(only its hash is stored).",
            messages.WARNING,
        )
        return key

    def delete_via_service(self, request, obj):
        # A key moves no numbers and has no delete service: revoking is the usual way out.
        APIKey.objects.filter(pk=obj.pk).delete()

    @admin.action(description="Revoke the selected API keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            services.apikey_revoke(key=key)
        self.message_user(request, f"Revoked {len(keys)} API keys.", messages.SUCCESS)


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
                versions_n=_count_of(Version, "dataset"),
                shares_n=_count_of(DatasetShare, "dataset"),
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
                splits_n=_count_of(DatasetSplit, "version"), labels_n=_count_of(Label, "version")
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
class ItemAdmin(ServiceAdmin):
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
    )
    list_select_related = ("dataset_version__dataset",)
    search_fields = ("name", "=group", "=content_hash")
    autocomplete_fields = ("dataset_version",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    fields = (
        "dataset_version",
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
    readonly_fields = ("content_hash", "revision_number", "user", "id", "created_at", "updated_at")
    fixed_after_create = ("dataset_version",)
    delete_cascade = (("splits.ItemSplit", "item"), ("labels.Annotation", "item"))

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(*self.list_select_related)
            .prefetch_related("splits")
            .annotate(annotations_n=_count_of(Annotation, "item"))
        )

    def get_inlines(self, request, obj):
        # Split and label choices depend on the item's version: known once the item exists.
        return (MembershipInline, AnnotationInline) if obj is not None else ()

    def autocomplete_text(self, obj) -> str:
        return f"{obj.dataset_version} / {obj}"

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
