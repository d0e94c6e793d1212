"""Server-rendered pages: sign in / out, datasets, a version's statistics, the item browser.

Pages follow the API's access rules: the datasets a user may see are
``dataset_list_visible``; any other id (unknown, foreign, of another parent) is a 404. Each
page runs a fixed number of queries whatever the number of rows.
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce, Substr
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from labels.charts import grouped_bar_chart
from labels.filtersets import ItemFilterSet
from labels.models import Annotation, Label
from labels.selectors import label_stats_matrix
from seeme.api.scoping import RANK_NAMES, READ, rank_of, with_share_role
from seeme.models import Dataset, Item, Version
from seeme.selectors import dataset_list_visible
from splits.models import DatasetSplit, ItemSplit

DATASETS_PER_PAGE = 50
ITEMS_PER_PAGE = 24
SNIPPET_CHARS = 220
FILTER_PARAMS = ("splitId", "labelId", "onlyUnlabelled", "name", "page")

# -- access -----------------------------------------------------------------------------------


def version_for_page(request, dataset_id: uuid.UUID, version_id: uuid.UUID) -> Version:
    """The version with its dataset if the user may see it, else 404; one query. Sets
    ``role`` (viewer / annotator / editor / owner) for the templates."""
    user = request.user
    version = with_share_role(
        Version.objects.select_related("dataset").filter(
            pk=version_id, dataset_id=dataset_id, dataset__in=dataset_list_visible(user=user)
        ),
        user,
        "dataset",
    ).first()
    if version is None:
        raise Http404("No such version.")
    rank = rank_of(user, version.dataset, version.share_role)
    if rank < READ:
        raise Http404("No such version.")
    version.role = RANK_NAMES[rank]
    version.role_label = role_label(user, version.dataset, version.share_role)
    return version


def role_label(user, dataset: Dataset, share_role: str | None) -> str:
    """What the user is to the dataset, as shown on a badge: owner, their share role, or
    staff (who may do anything, like an owner, without being one)."""
    if dataset.owner_id == user.pk:
        return "owner"
    return share_role or ("staff" if user.is_staff else "none")


# -- sign in / out ----------------------------------------------------------------------------


class LoginPage(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        # The demo login is printed by `make run`, which runs with DEBUG on; never in production.
        return super().get_context_data(**kwargs, demo_login=settings.DEBUG)


class LogoutPage(auth_views.LogoutView):
    """POST only (Django 5); says so on the sign-in page it redirects to."""

    def post(self, request, *args, **kwargs):
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:
            messages.success(request, "You are signed out.")
        return response


# -- datasets ---------------------------------------------------------------------------------


def _count_of(queryset, ref: str):
    """COUNT(*) of ``queryset`` grouped by ``ref``, as a scalar subquery (0 when none)."""
    return Coalesce(
        Subquery(
            queryset.order_by().values(ref).annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


@require_safe
@login_required
def dataset_list(request):
    """The datasets the user can see, newest first, each with its latest version's item and
    label counts; ``?q=`` searches names. Two queries (count and page) whatever the number
    of datasets."""
    user = request.user
    query = request.GET.get("q", "").strip()[:255]
    latest = Version.objects.filter(dataset=OuterRef("pk")).order_by("-created_at", "-id")
    datasets = (
        with_share_role(dataset_list_visible(user=user), user)
        .annotate(
            latest_version_id=Subquery(latest.values("pk")[:1]),
            latest_version_name=Subquery(latest.values("name")[:1]),
            version_count=_count_of(Version.objects.filter(dataset=OuterRef("pk")), "dataset"),
        )
        .annotate(
            item_count=_count_of(
                Item.objects.filter(dataset_version=OuterRef("latest_version_id")),
                "dataset_version",
            ),
            label_count=_count_of(
                Label.objects.filter(version=OuterRef("latest_version_id")), "version"
            ),
        )
        .order_by("-created_at", "-id")
    )
    if query:
        datasets = datasets.filter(name__icontains=query)
    page = Paginator(datasets, DATASETS_PER_PAGE).get_page(request.GET.get("page"))
    for dataset in page.object_list:
        dataset.role_label = role_label(user, dataset, dataset.share_role)
    return render(request, "seeme/dataset_list.html", {"page": page, "query": query})


@require_safe
@login_required
def dataset_detail(request, dataset_id: uuid.UUID):
    """A dataset's address: its latest version's page (a dataset without versions says so)."""
    user = request.user
    dataset = (
        with_share_role(dataset_list_visible(user=user).filter(pk=dataset_id), user)
        .annotate(
            latest_version_id=Subquery(
                Version.objects.filter(dataset=OuterRef("pk"))
                .order_by("-created_at", "-id")
                .values("pk")[:1]
            )
        )
        .first()
    )
    if dataset is None:
        raise Http404("No such dataset.")
    if dataset.latest_version_id:
        return redirect(
            "seeme:version-detail", dataset_id=dataset.pk, version_id=dataset.latest_version_id
        )
    return render(request, "seeme/dataset_empty.html", {"dataset": dataset})


# -- a version --------------------------------------------------------------------------------


@require_safe
@login_required
def version_detail(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    """The split x label matrix of a version, its chart, and the other versions. Reads only
    Version, DatasetSplit, Label and LabelStat rows: O(labels x splits), never the items."""
    version = version_for_page(request, dataset_id, version_id)
    versions = Version.objects.filter(dataset_id=dataset_id).only("id", "name", "created_at")
    matrix = label_stats_matrix(version_id=version.pk)
    return render(
        request,
        "seeme/version_detail.html",
        {
            "dataset": version.dataset,
            "version": version,
            "versions": versions.order_by("created_at", "id"),
            "matrix": matrix,
            "split_tiles": list(zip(matrix.totals.cells, matrix.unlabelled.cells, strict=True)),
            "chart": grouped_bar_chart(matrix),
        },
    )


# -- items ------------------------------------------------------------------------------------


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


def _browser_query(request) -> str:
    """The item browser's own query parameters of this request, to link back to it."""
    params = request.GET.copy()
    for key in list(params):
        if key not in FILTER_PARAMS:
            del params[key]
    return params.urlencode()


@require_safe
@login_required
def item_list(request, dataset_id: uuid.UUID, version_id: uuid.UUID):
    """Items of a version, filtered by the API's ItemFilterSet (splitId, labelId,
    onlyUnlabelled, name) and paginated; each with a text snippet and its labels as chips."""
    version = version_for_page(request, dataset_id, version_id)
    splits = list(DatasetSplit.objects.filter(version=version).order_by("created_at", "id"))
    labels = list(Label.objects.filter(version=version).order_by("index", "id"))
    items = (
        Item.objects.filter(dataset_version=version)
        .only("id", "name", "extension", "created_at", "dataset_version_id")
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
        .order_by("created_at", "id")
    )
    filterset = ItemFilterSet(request.GET, queryset=items)
    valid = filterset.is_valid()
    paginator = Paginator(filterset.qs if valid else items.none(), ITEMS_PER_PAGE)
    known = filterset.count_from_stats(version_id=version.pk) if valid else None
    if known is not None:
        paginator.count = known  # read from a LabelStat row instead of counting the items
    page = paginator.get_page(request.GET.get("page"))
    chosen = filterset.form.cleaned_data if valid else {}
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
            "filtered": any(chosen.get(key) not in (None, "") for key in FILTER_PARAMS[:4]),
            "back_query": _browser_query(request),
        },
    )


@require_safe
@login_required
def item_detail(request, dataset_id: uuid.UUID, version_id: uuid.UUID, item_id: uuid.UUID):
    """One item: its fields, the splits it is in and its annotations in each."""
    version = version_for_page(request, dataset_id, version_id)
    item = Item.objects.filter(pk=item_id, dataset_version=version).first()
    if item is None:
        raise Http404("No such item.")
    splits = list(DatasetSplit.objects.filter(version=version).order_by("created_at", "id"))
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
        "seeme:item-list", kwargs={"dataset_id": dataset_id, "version_id": version_id}
    )
    query = _browser_query(request)
    return render(
        request,
        "seeme/item_detail.html",
        {
            "dataset": version.dataset,
            "version": version,
            "item": item,
            "sections": sections,
            "back_url": f"{browser}?{query}" if query else browser,
        },
    )
