"""The item filters, shared by the API's item list and the item browser page."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from drf_spectacular.utils import extend_schema_field

from labels.models import Annotation, LabelStat
from seeme.models import Item, ItemState
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
    """``splitId``, ``labelId``, ``onlyUnlabelled`` (scoped to the split when one is given),
    ``name`` (substring) and ``state`` (the item's workflow state)."""

    splitId = django_filters.UUIDFilter(method="keep", label="Only items in this split")
    labelId = django_filters.UUIDFilter(method="keep", label="Only items with this label")
    onlyUnlabelled = LenientBooleanFilter(
        method="keep", label="true: only items with no annotation; false: only annotated items"
    )
    name = django_filters.CharFilter(method="keep", label="Name contains")
    state = django_filters.CharFilter(
        method="keep",
        max_length=64,
        label='Only items in this workflow state ("none": items whose state was never set)',
    )

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
        state = data.get("state")
        if state == "none":
            queryset = queryset.filter(~Exists(ItemState.objects.filter(item=OuterRef("pk"))))
        elif state:
            queryset = queryset.filter(
                Exists(ItemState.objects.filter(item=OuterRef("pk"), state=state))
            )
        return queryset

    def count_from_stats(self, *, version_id) -> int | None:
        """How many items these filters select, read from one LabelStat row when the filters
        are exactly what a row counts: a split (its total row), a split and a label (the
        label's row), a split and ``onlyUnlabelled=true`` (the unlabelled row). None when the
        items must be counted. Call after ``is_valid()``; one indexed query at most."""
        data = self.form.cleaned_data
        split_id = data.get("splitId")
        label_id = data.get("labelId")
        only_unlabelled = data.get("onlyUnlabelled")
        if not split_id or data.get("name") or data.get("state"):
            return None
        if label_id and only_unlabelled is None:
            row = {"kind": LabelStat.Kind.LABEL, "label_id": label_id}
        elif only_unlabelled is True and not label_id:
            row = {"kind": LabelStat.Kind.UNLABELLED}
        elif only_unlabelled is None and not label_id:
            row = {"kind": LabelStat.Kind.TOTAL}
        else:
            return None
        return (
            LabelStat.objects.filter(split_id=split_id, split__version_id=version_id, **row)
            .values_list("item_count", flat=True)
            .first()
        )
