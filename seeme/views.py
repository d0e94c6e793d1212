"""Pages of the kernel: sign in / out, the datasets list and a dataset's address.

The statistics pages live with the statistics (``labels.views``), the split pages and
split tools with the splits (``splits.views``); see docs/architecture.md. Pages follow the
API's access rules through ``seeme.selectors.dataset_for_user`` / ``version_for_user``: any
id the user may not see (unknown, foreign, of another parent) is a 404. Each page runs a
fixed number of queries whatever the number of rows.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from labels.models import Label, LabelStat
from seeme.models import Version
from seeme.selectors import (
    dataset_for_user,
    dataset_list_visible,
    dataset_list_with_role,
    role_label,
)

DATASETS_PER_PAGE = 50

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


def _split_totals_of(version_ref: str):
    """The sum of the item counts of the split total rows of the version at ``version_ref``:
    the items in its splits, read from the statistics (an item in two splits counts twice)
    instead of counting a million item rows per dataset."""
    rows = (
        LabelStat.objects.filter(split__version=OuterRef(version_ref), kind=LabelStat.Kind.TOTAL)
        .order_by()
        .values("split__version")
        .annotate(n=Sum("item_count"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


@require_safe
@login_required
def dataset_list(request):
    """The datasets the user can see, newest first, each with its latest version's items in
    splits (from the statistics rows) and label count; ``?q=`` searches names. Two queries
    (count and page) whatever the number of datasets, none of them over items."""
    user = request.user
    query = request.GET.get("q", "").strip()[:255]
    latest = Version.objects.filter(dataset=OuterRef("pk")).order_by("-created_at", "-id")
    datasets = (
        dataset_list_with_role(user=user)
        .annotate(
            latest_version_id=Subquery(latest.values("pk")[:1]),
            latest_version_name=Subquery(latest.values("name")[:1]),
            version_count=_count_of(Version.objects.filter(dataset=OuterRef("pk")), "dataset"),
        )
        .annotate(
            item_count=_split_totals_of("latest_version_id"),
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
    latest = Version.objects.filter(dataset=OuterRef("pk")).order_by("-created_at", "-id")
    dataset = dataset_for_user(
        user,
        dataset_id,
        queryset=dataset_list_visible(user=user).annotate(
            latest_version_id=Subquery(latest.values("pk")[:1])
        ),
    )
    if dataset.latest_version_id:
        return redirect(
            "seeme:version-detail", dataset_id=dataset.pk, version_id=dataset.latest_version_id
        )
    return render(request, "seeme/dataset_empty.html", {"dataset": dataset})
