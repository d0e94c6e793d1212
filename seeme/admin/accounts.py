"""Admin of users and their API keys."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from seeme import services
from seeme.admin_site import (
    ServiceAdmin,
    ServiceAdminMixin,
)
from seeme.models import APIKey, Dataset, User

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
