"""Parent scoping for the nested API: every id in the path is checked against its parent
and against what the caller may see; anything else is a 404, as if it did not exist."""

import uuid
from functools import cached_property

from django.db.models import OuterRef, Subquery
from rest_framework import exceptions

from seeme.models import OWNER_RANK, ROLE_RANK, Dataset, DatasetShare, Role, Version
from seeme.selectors import dataset_list_visible

READ = ROLE_RANK[Role.VIEWER]
ANNOTATE = ROLE_RANK[Role.ANNOTATOR]
EDIT = ROLE_RANK[Role.EDITOR]
OWN = OWNER_RANK

RANK_NAMES = {0: "none", READ: "viewer", ANNOTATE: "annotator", EDIT: "editor", OWN: "owner"}


def path_uuid(kwargs: dict, name: str) -> uuid.UUID:
    """The UUID in the path parameter ``name``; a malformed one is a 404."""
    try:
        return uuid.UUID(str(kwargs[name]))
    except (KeyError, ValueError) as exc:
        raise exceptions.NotFound() from exc


def with_share_role(qs, user, dataset_ref: str = "pk"):
    """Annotate rows with the caller's share role on the dataset at ``dataset_ref``, so one
    query answers both 'may they see it' and 'what may they do'."""
    return qs.annotate(
        share_role=Subquery(
            DatasetShare.objects.filter(dataset=OuterRef(dataset_ref), user=user).values("role")[:1]
        )
    )


def rank_of(user, dataset: Dataset, share_role: str | None) -> int:
    if user.is_staff or dataset.owner_id == user.pk:
        return OWN
    return ROLE_RANK.get(Role(share_role), 0) if share_role else 0


class DatasetAccessMixin:
    """Role checks for views under a dataset.

    ``action_ranks`` maps an action to the least role it needs; other safe methods need
    viewer, other writes editor. Seeing the dataset but lacking the role is a 403.
    """

    action_ranks: dict[str, int] = {}

    def required_rank(self) -> int:
        if self.action in self.action_ranks:
            return self.action_ranks[self.action]
        return READ if self.request.method in ("GET", "HEAD", "OPTIONS") else EDIT

    def check_rank(self, rank: int) -> None:
        needed = self.required_rank()
        if rank < needed:
            raise exceptions.PermissionDenied(
                f"Your role on this dataset ({RANK_NAMES[rank]}) does not allow this; "
                f"it needs {RANK_NAMES[needed]}."
            )

    def visible_dataset(self, dataset_id: uuid.UUID, queryset=None) -> Dataset:
        """The dataset if the caller may see it (404 otherwise), after the role check."""
        user = self.request.user
        qs = dataset_list_visible(user=user) if queryset is None else queryset
        dataset = with_share_role(qs.filter(pk=dataset_id), user).first()
        if dataset is None:
            raise exceptions.NotFound()
        self.check_rank(rank_of(user, dataset, dataset.share_role))
        return dataset

    def resolve_parents(self) -> None:
        """Called first thing on every request: a bad parent is a 404 before the body is
        looked at."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not getattr(self, "swagger_fake_view", False):
            self.resolve_parents()


class DatasetChildMixin(DatasetAccessMixin):
    """For viewsets under ``datasets/{dataset_id}/``."""

    @cached_property
    def scoped_dataset(self) -> Dataset:
        return self.visible_dataset(path_uuid(self.kwargs, "dataset_id"))

    def resolve_parents(self) -> None:
        self.scoped_dataset  # noqa: B018


class VersionChildMixin(DatasetAccessMixin):
    """For viewsets under ``datasets/{dataset_id}/versions/{version_id}/``: one query checks
    both ids, that they match, visibility and role."""

    @cached_property
    def scoped_version(self) -> Version:
        dataset_id = path_uuid(self.kwargs, "dataset_id")
        version_id = path_uuid(self.kwargs, "version_id")
        user = self.request.user
        version = with_share_role(
            Version.objects.select_related("dataset").filter(
                pk=version_id,
                dataset_id=dataset_id,
                dataset__in=dataset_list_visible(user=user),
            ),
            user,
            "dataset",
        ).first()
        if version is None:
            raise exceptions.NotFound()
        self.check_rank(rank_of(user, version.dataset, version.share_role))
        return version

    def resolve_parents(self) -> None:
        self.scoped_version  # noqa: B018
