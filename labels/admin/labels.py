"""Admin of labels (and their inline on versions); writes through ``labels.services``."""

from django import forms
from django.contrib import admin
from django.core.validators import RegexValidator
from django.db.models import IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.html import format_html

from labels import services as label_services
from labels.models import Label, LabelStat
from seeme.admin.counts import thousands
from seeme.admin_site import (
    ServiceAdmin,
    ServiceInline,
    changed_values,
    dataset_filter,
    version_filter,
)

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
        return thousands(obj.total_annotations)

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
        return thousands(getattr(obj, "total_annotations", None))

    def create_via_service(self, request, parent, form):
        return _label_create(request, parent, form.cleaned_data)

    def update_via_service(self, request, original, form):
        _label_update(original.pk, form)

    def delete_via_service(self, request, original):
        label_services.label_delete(label=original)
