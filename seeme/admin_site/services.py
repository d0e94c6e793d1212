"""Admin writes through services: ``ServiceAdmin`` and ``ServiceInline`` route every save
and delete to ``*_via_service`` hooks; service errors become form errors or messages."""

import logging
import time
import uuid
from collections.abc import Callable, Iterable

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.db import OperationalError, connection, models, router, transaction
from django.forms import ModelForm
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from seeme.admin_site.a11y import labelled_formset
from seeme.db import MAX_ATTEMPTS, _retryable
from seeme.exceptions import NotFound, ServiceError

# -- writes through services -------------------------------------------------------------------

log = logging.getLogger(__name__)


def retry_on_deadlock(request, attempt: Callable):
    """Run ``attempt()``, a whole admin POST in one transaction, again after a deadlock.

    The admin wraps its writes in its own transaction, which the services join, so their
    ``atomic_write`` cannot retry; the view is retried instead, like ``atomic_write`` would.
    Messages queued by a failed attempt go with it.
    """
    if request.method != "POST" or connection.in_atomic_block:
        return attempt()
    queued = getattr(getattr(request, "_messages", None), "_queued_messages", None)
    mark = len(queued) if queued is not None else 0
    for n in range(1, MAX_ATTEMPTS + 1):
        try:
            return attempt()
        except OperationalError as exc:
            if n == MAX_ATTEMPTS or not _retryable(exc):
                raise
            if queued is not None:
                del queued[mark:]
            log.info("retrying admin %s after %s (attempt %d)", request.path, exc, n)
            time.sleep(0.01 * n)
    raise AssertionError("unreachable")


def adopt(target: models.Model, source: models.Model) -> models.Model:
    """Make ``target`` (the admin's instance) the row a service returned.

    The admin keeps using the instance it built from the form: inline formsets hang new rows
    from it and the log entry names it. The service returns another instance, so its state
    is copied over.
    """
    target.__dict__.update(source.__dict__)
    return target


def changed_values(form: ModelForm, fields: Iterable[str]) -> dict:
    """The cleaned values of the given fields the user changed, for ``*_update`` services."""
    return {name: form.cleaned_data[name] for name in form.changed_data if name in fields}


def _add_service_error(form: ModelForm, exc: ServiceError) -> None:
    """Put a service's complaint on the form: its sentence on top, its field errors (keys like
    ``label_id`` map to the ``label`` field) next to the fields the form has."""
    form.add_error(None, exc.message)
    for key, errors in exc.errors.items():
        name = key.removesuffix("_id")
        if name in form.fields and name not in form.errors:
            errors = errors if isinstance(errors, (list, tuple)) else [errors]
            form.add_error(name, [str(e) for e in errors])


class ServiceAdminMixin:
    """Routes every write of a ModelAdmin (and of its ``ServiceInline`` inlines) to services.

    Subclasses implement ``create_via_service(request, form)`` (returns the new row),
    ``update_via_service(request, obj, form)`` (``obj`` carries the form's values; may return
    the updated row) and ``delete_via_service(request, obj)``. ``delete_cascade`` lists what a
    delete takes with it, as ``(model label, lookup or lookups to this model's pk)``, for the
    confirmation page.
    """

    delete_cascade: tuple[tuple[str, str | tuple[str, ...]], ...] = ()
    #: Set on admins of computed rows (statistics): deleting a parent needs no right on them.
    computed = False
    #: Fields set when a row is created and read-only after (a row's parent, its owner): the
    #: services have no write that moves a row to another parent.
    fixed_after_create: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return (*fields, *self.fixed_after_create) if obj is not None else fields

    def create_via_service(self, request, form):
        raise NotImplementedError(f"{type(self).__name__} cannot create rows")

    def update_via_service(self, request, obj, form):
        raise NotImplementedError(f"{type(self).__name__} cannot change rows")

    def delete_via_service(self, request, obj):
        raise NotImplementedError(f"{type(self).__name__} cannot delete rows")

    # Django's hooks, rerouted.

    def save_model(self, request, obj, form, change):
        if change:
            updated = self.update_via_service(request, obj, form)
            if updated is not None and updated is not obj:
                adopt(obj, updated)
        else:
            adopt(obj, self.create_via_service(request, form))

    def delete_model(self, request, obj):
        self.delete_via_service(request, obj)

    def delete_queryset(self, request, queryset):
        """Delete one row at a time through the service (a row may be gone already: an
        earlier delete of the batch may have taken it with it)."""
        with transaction.atomic(using=router.db_for_write(self.model)):
            for obj in list(queryset):
                try:
                    self.delete_via_service(request, obj)
                except NotFound:
                    continue

    def save_formset(self, request, form, formset, change):
        self.save_inline_changes(request, formset)

    def save_inline_changes(self, request, formset, *, writes: bool = True, deletes: bool = True):
        """Apply an inline formset through its inline's services: deletes first, then
        changes, then new rows. ``writes`` / ``deletes`` let a caller split the phases."""
        inline = getattr(formset, "service_inline", None)
        if inline is None:
            # Only read-only inlines are not ServiceInlines: saving them writes nothing.
            super().save_formset(request, None, formset, True)
            return
        for name in ("new_objects", "changed_objects", "deleted_objects"):
            if not hasattr(formset, name):
                setattr(formset, name, [])
        existing = [f for f in formset.initial_forms if f.instance.pk is not None]
        originals = formset.model._default_manager.in_bulk([f.instance.pk for f in existing])
        deleted = set(formset.deleted_forms)
        if deletes:
            for f in existing:
                original = originals.get(f.instance.pk)
                if f in deleted and original is not None:
                    inline.delete_via_service(request, original)
                    formset.deleted_objects.append(original)
        if not writes:
            return
        for f in existing:
            if f in deleted or not f.has_changed():
                continue
            original = originals.get(f.instance.pk)
            if original is None:
                raise NotFound(f"This {formset.model._meta.verbose_name} was deleted meanwhile.")
            inline.update_via_service(request, original, f)
            formset.changed_objects.append((f.instance, f.changed_data))
        for f in formset.extra_forms:
            if not f.has_changed() or f in deleted:
                continue
            created = inline.create_via_service(request, formset.instance, f)
            f.instance = created
            formset.new_objects.append(created)

    # Service errors: a form error, or a message; never a 500.

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return retry_on_deadlock(
            request, lambda: self._changeform_or_errors(request, object_id, form_url, extra_context)
        )

    def _changeform_or_errors(self, request, object_id, form_url, extra_context):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as exc:
            if request.method == "POST" and not hasattr(request, "_seeme_service_error"):
                # The attempt was rolled back; validate the same input again with the
                # service's complaint on the form, which shows it with the user's input.
                request._seeme_service_error = exc
                return self.changeform_view(request, object_id, form_url, extra_context)
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(self._changelist_url())

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        exc = getattr(request, "_seeme_service_error", None)
        if exc is None:
            return form_class

        class WithServiceError(form_class):
            def clean(self):
                cleaned = super().clean()
                _add_service_error(self, exc)
                return cleaned

        return WithServiceError

    def delete_view(self, request, object_id, extra_context=None):
        return retry_on_deadlock(
            request, lambda: self._delete_or_message(request, object_id, extra_context)
        )

    def _delete_or_message(self, request, object_id, extra_context):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(self._changelist_url())

    def changelist_view(self, request, extra_context=None):
        """A bulk delete is one transaction (its log entries too): all or nothing. Other
        actions choose their own transactions (the services')."""
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        if request.POST.get("action") != "delete_selected":
            try:
                return super().changelist_view(request, extra_context)
            except ServiceError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())
        return retry_on_deadlock(request, lambda: self._bulk_delete(request, extra_context))

    def _bulk_delete(self, request, extra_context):
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().changelist_view(request, extra_context)
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def _changelist_url(self) -> str:
        opts = self.model._meta
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_changelist", current_app=self.admin_site.name
        )

    # Delete confirmations that count instead of listing.

    def get_deleted_objects(self, objs, request):
        objs = list(objs)
        pks = [obj.pk for obj in objs]
        opts = self.model._meta
        deleted = [self._deleted_object_html(obj) for obj in objs]
        counts = {opts.verbose_name_plural: len(objs)}
        perms_needed = set()
        for label, lookups in self.delete_cascade:
            model = apps.get_model(label)
            if isinstance(lookups, str):
                lookups = (lookups,)
            condition = models.Q()
            for lookup in lookups:
                condition |= models.Q(**{f"{lookup}__in": pks})
            count = model._default_manager.filter(condition).count()
            if not count:
                continue
            counts[model._meta.verbose_name_plural] = count
            model_admin = self.admin_site._registry.get(model)
            if (
                model_admin is not None
                and not getattr(model_admin, "computed", False)
                and not model_admin.has_delete_permission(request)
            ):
                perms_needed.add(model._meta.verbose_name)
        return deleted, counts, perms_needed, []

    def _deleted_object_html(self, obj) -> str:
        opts = obj._meta
        url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=(quote(obj.pk),),
            current_app=self.admin_site.name,
        )
        return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj)

    # Search: a pasted UUID finds its row.

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            pk = uuid.UUID(search_term.strip())
        except ValueError:
            return found, may_have_duplicates
        if not isinstance(self.model._meta.pk, models.UUIDField):
            return found, may_have_duplicates
        return found | queryset.filter(pk=pk), may_have_duplicates


class ServiceAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """A ModelAdmin whose writes go through services."""


class ServiceInline:
    """Mixin for inlines of a ServiceAdmin: their rows are written through services too.

    Subclasses implement ``create_via_service(request, parent, form)`` (returns the new row),
    ``update_via_service(request, original, form)`` and ``delete_via_service(request,
    original)``, where ``original`` is the row as stored. ``version_scoped_fields`` names
    foreign keys (to splits, labels) whose choices are limited to the parent's version,
    which ``parent_version_id(parent)`` gives.
    """

    version_scoped_fields: tuple[str, ...] = ()
    extra = 0

    def create_via_service(self, request, parent, form):
        raise NotImplementedError

    def update_via_service(self, request, original, form):
        raise NotImplementedError

    def delete_via_service(self, request, original):
        raise NotImplementedError

    def parent_version_id(self, parent) -> uuid.UUID | None:
        return None

    def get_formset(self, request, obj=None, **kwargs):
        # formfield_for_foreignkey reads the parent from the request: Django builds the
        # fields inside this call and gives that hook no other way to know the parent.
        request._seeme_inline_parent = obj
        formset = labelled_formset(super().get_formset(request, obj, **kwargs))
        formset.service_inline = self
        return formset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.version_scoped_fields:
            parent = getattr(request, "_seeme_inline_parent", None)
            version_id = self.parent_version_id(parent) if parent is not None else None
            manager = db_field.related_model._default_manager
            kwargs["queryset"] = (
                manager.filter(version_id=version_id) if version_id else manager.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
