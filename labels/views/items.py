"""The item browser: a version's items filtered like the API's item list, and one item with
its splits and annotations."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.db.models.functions import Substr
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from labels.filtersets import ItemFilterSet
from labels.models import Annotation, Label
from labels.regions import region_box
from labels.selectors import counts, version_labels, version_splits
from labels.views.controls import ITEM_STATES, STATE_NAMES, label_controls
from labels.views.paging import PER_PAGE, counted_page, keyset_page
from labels.views.walk import FILTER_PARAMS, browser_query, ordering, sort_of
from seeme.models import ContentType, Item, ItemState
from seeme.selectors import Rank, version_for_user
from splits.models import ItemSplit

ITEMS_PER_PAGE = PER_PAGE
SORT_CHOICES = (
    ("created", "Oldest first"),
    ("-created", "Newest first"),
    ("name", "Name A–Z"),
    ("-name", "Name Z–A"),
)
SNIPPET_CHARS = 220


@dataclass(frozen=True)
class Chip:
    label: Label
    count: int


def _chips(item: Item, labels: dict, split_id: uuid.UUID | None) -> list[Chip]:
    """The item's labels (in ``split_id`` only, when given) in index order, with how many
    annotations carry each."""
    counts: dict = {}
    for annotation in item.annotations.all():
        if split_id is None or annotation.split_id == split_id:
            counts[annotation.label_id] = counts.get(annotation.label_id, 0) + 1
    return sorted(
        (Chip(labels[label_id], n) for label_id, n in counts.items() if label_id in labels),
        key=lambda chip: chip.label.index,
    )


def _page_and_count(params, version, filterset: ItemFilterSet, items) -> tuple:
    """The page the parameters ask for, the list's size and whether that size is exact.
    Keyset pages (labels.views.paging): deep pages read one page of rows, not all before
    it; and never COUNT a million items for a page of 24: exact up to a bound, then
    estimated. Filtered by name, one statement reads the matches for both
    (``counted_page``: the trigram index scan is the page's cost)."""
    sort = sort_of(params)
    if not filterset.is_valid():
        return keyset_page(items.none(), sort, params), 0, True
    if filterset.form.cleaned_data.get("name"):
        page, counted = counted_page(filterset.qs, items, sort, params)
        return page, counted.value, counted.exact
    known = filterset.count_from_stats(version_id=version.pk)
    if known is not None:
        return keyset_page(filterset.qs, sort, params), known, True
    counted = counts.items_count_bounded(
        filterset.qs,
        version_id=version.pk,
        whole_version=not any(params.get(key) for key in FILTER_PARAMS[:5]),
    )
    return keyset_page(filterset.qs, sort, params), counted.value, counted.exact


@require_safe
@login_required
def item_list(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    """Items of a version, filtered by the API's ItemFilterSet (splitId, labelId,
    onlyUnlabelled, name) and paginated; each with a text snippet and its labels as chips."""
    version = version_for_user(request.user, dataset_id, version_id)
    splits = version_splits(version=version)
    labels = version_labels(version=version)
    items = (
        Item.objects.filter(dataset_version=version)
        .select_related("file")
        .only(
            "id",
            "name",
            "extension",
            "created_at",
            "dataset_version_id",
            "file__kind",
            "file__width",
            "file__height",
        )
        .annotate(
            text_head=Substr("text", 1, SNIPPET_CHARS + 1),
            description_head=Substr("description", 1, SNIPPET_CHARS + 1),
        )
        .prefetch_related(
            Prefetch(
                "annotations",
                queryset=Annotation.objects.only("id", "item_id", "label_id", "split_id"),
            ),
            Prefetch("memberships", queryset=ItemSplit.objects.only("id", "item_id", "split_id")),
        )
        .order_by(*ordering(sort_of(request.GET)))
    )
    filterset = ItemFilterSet(request.GET, queryset=items, version_id=version.pk)
    valid = filterset.is_valid()
    chosen = filterset.form.cleaned_data if valid else {}
    page, count, count_exact = _page_and_count(request.GET, version, filterset, items)
    page.count = count
    split_id = chosen.get("splitId")
    by_label = {label.pk: label for label in labels}
    by_split = {split.pk: split for split in splits}
    for item in page.object_list:
        item.chips = _chips(item, by_label, split_id)
        item.split_names = [
            by_split[m.split_id].name for m in item.memberships.all() if m.split_id in by_split
        ]
        snippet = item.text_head or item.description_head
        item.snippet = snippet[:SNIPPET_CHARS] + "…" if len(snippet) > SNIPPET_CHARS else snippet
    states = dict(
        ItemState.objects.filter(item_id__in=[i.pk for i in page.object_list]).values_list(
            "item_id", "state"
        )
    )
    for item in page.object_list:
        item.state_value = states.get(item.pk, "")
        item.state_name = STATE_NAMES.get(item.state_value, item.state_value)
    only_unlabelled = chosen.get("onlyUnlabelled")
    return render(
        request,
        "seeme/item_list.html",
        {
            "dataset": version.dataset,
            "version": version,
            "splits": splits,
            "labels": labels,
            "page": page,
            "errors": None if valid else filterset.form.errors,
            "chosen_split": by_split.get(split_id),
            "chosen_label": by_label.get(chosen.get("labelId")),
            "chosen_status": {True: "true", False: "false"}.get(only_unlabelled, ""),
            "chosen_name": chosen.get("name") or "",
            "filtered": any(chosen.get(key) not in (None, "") for key in FILTER_PARAMS[:5]),
            "back_query": browser_query(request.GET),
            "chosen_state": chosen.get("state") or "",
            "states": ITEM_STATES,
            "sort": sort_of(request.GET),
            "sorts": SORT_CHOICES,
            "can_annotate": version.rank >= Rank.ANNOTATOR,
            "count_exact": count_exact,
            "page_error": page.error,
            "count_limit": counts.EXACT_COUNT_LIMIT,
            "bulk_query": browser_query(request.GET),
            "grid": version.dataset.content_type == ContentType.IMAGES,
            "thumbnail_px": settings.SEEME_THUMBNAIL_PX,
        },
    )


def _media(item: Item, annotations: list[Annotation]) -> dict:
    """What the item page shows of the item's file: the image with its region boxes, or a
    link to the document."""
    blob = item.file
    if blob is None:
        return {}
    media: dict = {"blob": blob}
    if blob.kind == "image" and blob.width and blob.height:
        media["boxes"] = [
            (annotation, box)
            for annotation in annotations
            if (box := region_box(annotation.coordinates, blob.width, blob.height))
        ]
    return media


@require_safe
@login_required
def item_detail(request, dataset_id: uuid.UUID, version_id: uuid.UUID, item_id: uuid.UUID):
    """One item: its fields, the splits it is in and its annotations in each; for annotators
    the label panel (``labels.views.annotate`` takes its forms)."""
    version = version_for_user(request.user, dataset_id, version_id)
    item = Item.objects.select_related("file").filter(pk=item_id, dataset_version=version).first()
    if item is None:
        raise Http404("No such item.")
    return item_page(request, version, item)


def item_page(request, version, item: Item, feedback: dict | None = None):
    """Render the item page (also after a write from the label panel, for htmx)."""
    splits = version_splits(version=version)
    labels = version_labels(version=version)
    member_of = set(ItemSplit.objects.filter(item=item).values_list("split_id", flat=True))
    annotations = list(
        Annotation.objects.filter(item=item)
        .select_related("label", "user")
        .order_by("label__index", "created_at", "id")
    )
    sections = []
    for split in splits:
        in_split = [a for a in annotations if a.split_id == split.pk]
        if split.pk in member_of or in_split:
            sections.append(
                {"split": split, "annotations": in_split, "member": split.pk in member_of}
            )
    browser = reverse(
        "seeme:item-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
    )
    query = browser_query(request.GET if request.method == "GET" else request.POST)
    return render(
        request,
        "seeme/item_detail.html",
        {
            "dataset": version.dataset,
            "version": version,
            "item": item,
            "sections": sections,
            "back_url": f"{browser}?{query}" if query else browser,
            "media": _media(item, annotations),
            "controls": label_controls(
                version=version,
                item=item,
                splits=list(splits),
                labels=list(labels),
                member_of=member_of,
                annotations=annotations,
                query=query,
            ),
            "feedback": feedback,
        },
    )
