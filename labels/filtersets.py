"""The item filters, shared by the API's item list and the item browser page."""

import os
import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, Max, Min, OuterRef, QuerySet, Value
from django.db.models.functions import Concat
from django_filters.rest_framework import DjangoFilterBackend
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


# Runs of letters and digits: what pg_trgm takes trigrams from (its words).
WORD = re.compile(r"[^\W_]+")


def name_contains(queryset: QuerySet, text: str, *, version_id=None) -> QuerySet:
    """The items of ``queryset`` whose name contains ``text``, case-insensitively (the API's
    ``name`` filter: ``name__icontains``).

    The filter is answered by the version's trigram index (seeme migration 0007), which
    reads every trigram of the pattern. pg_trgm splits a pattern into words at any other
    character and pads a word's edges with spaces, so ``img-05000`` also reads ``mg `` and
    ``  0``: trigrams that edge the words of nearly every file name (``img-0000001.jpg``), a
    posting list as long as the version for each. A pattern whose words all have three
    characters or more asks the index for its words instead (``%IMG%`` and ``%05000%``, no
    padded trigram: 40% less index read at 1,000,000 items) and checks the exact pattern on
    the rows found, through ``name || ''``, which the index does not answer.

    The words only narrow what the index reads (the exact pattern decides), so any of them
    may be left out without changing the rows. Given the version (``version_id``), those in
    the text every name of it starts with (``version_name_prefix``: ``IMG`` of
    ``img-0000001.jpg``) are left out: each is in every row and its posting list is as long
    as the version (about half of what is left to read at 1,000,000 items)."""
    words = WORD.findall(text)
    if not words or words == [text] or min(map(len, words)) < 3:
        # No padded trigram to leave out; or a short word, whose padded trigrams ("ab ")
        # may be the pattern's rarest ones: the index reads the whole pattern.
        return queryset.filter(name__icontains=text)
    if version_id is not None and connection.vendor == "postgresql":
        common = version_name_prefix(version_id).upper()
        words = [word for word in words if word.upper() not in common]
        if not words:  # every word is in every name: the whole pattern, as it is
            return queryset.filter(name__icontains=text)
    for word in words:
        queryset = queryset.filter(name__icontains=word)
    return queryset.alias(name_copy=Concat("name", Value(""))).filter(name_copy__icontains=text)


def version_name_prefix(version_id) -> str:
    """The longest text every item name of the version starts with, as far as its first and
    last names in name order tell (one query: two probes of ``item_version_name``). Under a
    collation that is not code-point order a name between them may start otherwise; then a
    word is left out that is not in every row, which costs index reads, never rows."""
    bounds = Item.objects.filter(dataset_version_id=version_id).aggregate(
        first=Min("name"), last=Max("name")
    )
    return os.path.commonprefix([bounds["first"] or "", bounds["last"] or ""])


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

    def __init__(self, *args, version_id=None, **kwargs):
        """``version_id``: the version the queryset's items are of, when the caller knows it
        (it lets the name filter leave out the words every name of it holds)."""
        super().__init__(*args, **kwargs)
        self.version_id = version_id

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
            queryset = name_contains(queryset, name, version_id=self.version_id)
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


class ItemFilterBackend(DjangoFilterBackend):
    """DRF's filter backend for ItemFilterSet, which also tells it the version of the view's
    items (the view's ``scoped_version``)."""

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        kwargs["version_id"] = view.scoped_version.pk
        return kwargs
