"""The item filters, shared by the API's item list and the item browser page."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from drf_spectacular.utils import extend_schema_field

from labels.models import Annotation
from seeme.models import Item
from splits.models import ItemSplit


class LenientBooleanField(forms.Field):
    """true/false/True/False/1/0, as every boolean query parameter of the API."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValidationError("Must be one of true, false, True, False, 1, 0.")


@extend_schema_field({"type": "string", "enum": ["true", "false", "True", "False", "1", "0"]})
class LenientBooleanFilter(django_filters.Filter):
    field_class = LenientBooleanField


class ItemFilterSet(django_filters.FilterSet):
    """``splitId``, ``labelId``, ``onlyUnlabelled`` (scoped to the split when one is given)
    and ``name`` (substring)."""

    splitId = django_filters.UUIDFilter(method="keep", label="Only items in this split")  # noqa: N815
    labelId = django_filters.UUIDFilter(method="keep", label="Only items with this label")  # noqa: N815
    onlyUnlabelled = LenientBooleanFilter(  # noqa: N815
        method="keep", label="true: only items with no annotation; false: only annotated items"
    )
    name = django_filters.CharFilter(method="keep", label="Name contains")

    class Meta:
        model = Item
        fields = []

    def keep(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        split_id = data.get("splitId")
        label_id = data.get("labelId")
        only_unlabelled = data.get("onlyUnlabelled")
        name = data.get("name")
        annotations = Annotation.objects.filter(item=OuterRef("pk"))
        if split_id:
            queryset = queryset.filter(
                Exists(ItemSplit.objects.filter(item=OuterRef("pk"), split_id=split_id))
            )
            annotations = annotations.filter(split_id=split_id)
        if label_id:
            queryset = queryset.filter(Exists(annotations.filter(label_id=label_id)))
        if only_unlabelled is True:
            queryset = queryset.filter(~Exists(annotations))
        elif only_unlabelled is False:
            queryset = queryset.filter(Exists(annotations))
        if name:
            queryset = queryset.filter(name__icontains=name)
        return queryset
