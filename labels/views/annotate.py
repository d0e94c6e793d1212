"""Labelling from the pages (annotator and above): whole-item labels, removing a label,
moving an item to another split, its workflow state, and the same on a selection of the
item browser.

Every action is a plain POST form (works without JavaScript: the answer redirects back, or
on to the next unlabelled item). With htmx (``request.htmx``) the item page's forms swap the
label panel in place from the page this view renders, and "label and go on" answers with a
client redirect. Writes go through ``labels.services`` / ``seeme.services`` only.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from labels.models import Annotation
from labels.services import (
    annotation_delete,
    items_label_whole,
    items_move_to_split,
)
from labels.views.walk import browser_query, next_item_url
from seeme import services as kernel
from seeme.exceptions import ServiceError
from seeme.models import Item, Version
from seeme.selectors import Rank, version_for_user
from splits.models import DatasetSplit

MAX_SELECTION = 1000


def _annotatable(request, dataset_id, version_id) -> Version:
    """The version if the user may annotate it: 404 for a stranger, 403 below annotator."""
    return version_for_user(request.user, dataset_id, version_id, min_rank=Rank.ANNOTATOR)


def _item(version: Version, item_id) -> Item:
    item = Item.objects.filter(pk=item_id, dataset_version=version).first()
    if item is None:
        raise Http404("No such item.")
    return item


def _uuid(raw) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError):
        return None


def _item_url(version: Version, item_id, query: str) -> str:
    url = reverse(
        "seeme:item-detail",
        kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, "item_id": item_id},
    )
    return f"{url}?{query}" if query else url


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _answer(request, version: Version, item: Item, ok: str | None, error: str | None):
    """After a write on the item page: htmx gets the item page rendered with the outcome
    (its label panel is swapped in); a plain form gets a message and a redirect back."""
    query = browser_query(request.POST)
    if request.htmx:
        from labels.views.items import item_page

        return item_page(request, version, item, feedback={"ok": ok, "error": error})
    if error:
        messages.error(request, error)
    elif ok:
        messages.success(request, ok)
    return HttpResponseRedirect(_back(request, _item_url(version, item.pk, query)))


@login_required
@require_POST
def item_label(request, dataset_id: uuid.UUID, version_id: uuid.UUID, item_id: uuid.UUID):
    """Give the item a whole-item label in a split (``label``, ``split``); with ``advance``
    go on to the next unlabelled item of the browser's filtered list."""
    version = _annotatable(request, dataset_id, version_id)
    item = _item(version, item_id)
    label_id, split_id = _uuid(request.POST.get("label")), _uuid(request.POST.get("split"))
    if label_id is None:
        return _answer(request, version, item, None, "Choose a label.")
    try:
        result = items_label_whole(
            version=version,
            user=request.user,
            label_id=label_id,
            item_ids=[item.pk],
            split_id=split_id,
        )
    except ServiceError as exc:
        return _answer(request, version, item, None, exc.message)
    if result.skipped:
        return _answer(request, version, item, None, "Put the item in a split before labelling it.")
    name = version.labels.filter(pk=label_id).values_list("name", flat=True).first()
    done = f"Labelled {item.name or 'the item'} as {name}."
    if request.POST.get("advance"):
        query = browser_query(request.POST)
        target = next_item_url(version, item, query, unlabelled_only=True)
        if target is not None:
            if request.htmx:
                return HttpResponseClientRedirect(target)
            messages.success(request, done)
            return HttpResponseRedirect(target)
        done += " That was the last unlabelled item of this list."
    return _answer(request, version, item, done, None)


@login_required
@require_POST
def item_unlabel(request, dataset_id: uuid.UUID, version_id: uuid.UUID, item_id: uuid.UUID):
    """Remove one of the item's annotations (``annotation``)."""
    version = _annotatable(request, dataset_id, version_id)
    item = _item(version, item_id)
    annotation = (
        Annotation.objects.filter(pk=_uuid(request.POST.get("annotation")), item=item)
        .select_related("label", "split__version")
        .first()
    )
    if annotation is None:
        return _answer(request, version, item, None, "That label is no longer on this item.")
    annotation_delete(annotation=annotation)
    return _answer(request, version, item, f"Removed {annotation.label.name}.", None)


@login_required
@require_POST
def item_move(request, dataset_id: uuid.UUID, version_id: uuid.UUID, item_id: uuid.UUID):
    """Move the item into one split (``split``): it leaves the others, its labels follow."""
    version = _annotatable(request, dataset_id, version_id)
    item = _item(version, item_id)
    split = DatasetSplit.objects.filter(
        pk=_uuid(request.POST.get("split")), version=version
    ).first()
    if split is None:
        return _answer(request, version, item, None, "Choose a split of this version.")
    result = items_move_to_split(split=split, item_ids=[item.pk])
    text = f"Moved to {split.name}." if result.moved else f"Already only in {split.name}."
    return _answer(request, version, item, text, None)


@login_required
@require_POST
def item_state(request, dataset_id: uuid.UUID, version_id: uuid.UUID, item_id: uuid.UUID):
    """Set the item's workflow state (``state``)."""
    version = _annotatable(request, dataset_id, version_id)
    item = _item(version, item_id)
    try:
        row = kernel.item_state_set(
            item=item, state=request.POST.get("state", ""), user=request.user
        )
    except ServiceError as exc:
        return _answer(request, version, item, None, exc.message)
    return _answer(request, version, item, f"State set to {row.state}.", None)


@login_required
@require_POST
def items_bulk(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    """Label (``op=label``, ``label``) or move (``op=move``, ``split``) the selected items
    (``item``, repeated) of the item browser, in one transaction; back to the browser."""
    version = _annotatable(request, dataset_id, version_id)
    browser = reverse(
        "seeme:item-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
    )
    query = browser_query(request.POST)
    back = _back(request, f"{browser}?{query}" if query else browser)
    ids = [i for i in (_uuid(raw) for raw in request.POST.getlist("item")) if i is not None]
    if not ids:
        messages.error(request, "Select at least one item.")
        return HttpResponseRedirect(back)
    if len(ids) > MAX_SELECTION:
        messages.error(request, f"Select at most {MAX_SELECTION:,} items at a time.")
        return HttpResponseRedirect(back)
    op = request.POST.get("op")
    try:
        if op == "label":
            label_id = _uuid(request.POST.get("label"))
            if label_id is None:
                raise _Refused("Choose the label to give the selected items.")
            result = items_label_whole(
                version=version,
                user=request.user,
                label_id=label_id,
                item_ids=ids,
                split_id=_uuid(request.POST.get("splitId")),
            )
            text = f"Labelled {result.labelled:,} item(s); {result.unchanged:,} had the label."
            if result.skipped:
                text += f" {result.skipped:,} skipped: in no split, or in several (filter one)."
        elif op == "move":
            split = DatasetSplit.objects.filter(
                pk=_uuid(request.POST.get("split")), version=version
            ).first()
            if split is None:
                raise _Refused("Choose the split to move the selected items to.")
            moved = items_move_to_split(split=split, item_ids=ids)
            text = f"Moved {moved.moved:,} item(s) to {split.name}; {moved.unchanged:,} were there."
        else:
            raise _Refused("Choose what to do with the selected items.")
    except (ServiceError, _Refused) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return HttpResponseRedirect(back)
    messages.success(request, text)
    return HttpResponseRedirect(back)


class _Refused(Exception):
    """A form the page refuses before calling a service."""
