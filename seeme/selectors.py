"""Reads of the kernel: which datasets and versions a user may see, and with which role.

``dataset_for_user`` and ``version_for_user`` are the one access query of the project: the
API viewsets (``seeme.api.scoping``), the pages, the split tools and the CSV downloads all
ask them. Each is one query that checks the ids, that they belong together, visibility and
the caller's role; a stranger gets a 404 (as if the row did not exist), a known user with
too low a role a 403.
"""

import enum
import uuid
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from seeme.models import APIKey, Dataset, DatasetShare, Role, User, Version

AnyUser = User | AnonymousUser


class Rank(enum.IntEnum):
    """Ordered capabilities on a dataset: a rank includes every rank below it. Superusers
    act as owners; staff status alone gives none (it opens the admin, whose model
    permissions govern what staff may do there)."""

    NONE = 0
    VIEWER = 1
    ANNOTATOR = 2
    EDITOR = 3
    OWNER = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def of_share(cls, role: str | None) -> "Rank":
        """The rank a share role gives (NONE without a share)."""
        return cls[Role(role).name] if role else cls.NONE


def dataset_list_visible(*, user: AnyUser) -> QuerySet[Dataset]:
    """Datasets the user owns or that are shared with them; superusers see every dataset."""
    if not user.is_authenticated:
        return Dataset.objects.none()
    if user.is_superuser:
        return Dataset.objects.all()
    shared = DatasetShare.objects.filter(dataset=OuterRef("pk"), user=user)
    return Dataset.objects.filter(Q(owner=user) | Exists(shared))


def with_share_role(qs: QuerySet, user: AnyUser, dataset_ref: str = "pk") -> QuerySet:
    """Annotate rows with the caller's share role (``share_role``) on the dataset at
    ``dataset_ref``, so one query answers both 'may they see it' and 'what may they do'."""
    shares = DatasetShare.objects.filter(
        dataset=OuterRef(dataset_ref), user_id=cast(uuid.UUID, user.pk)
    )
    return qs.annotate(share_role=Subquery(shares.values("role")[:1]))


def dataset_list_with_role(*, user: AnyUser) -> QuerySet[Dataset]:
    """``dataset_list_visible`` with each row's ``share_role`` (see ``role_label``)."""
    return with_share_role(dataset_list_visible(user=user), user)


def rank_of(user: AnyUser, dataset: Dataset, share_role: str | None) -> Rank:
    """The user's rank on a dataset whose share role for them is ``share_role``."""
    if user.is_superuser or dataset.owner_id == user.pk:
        return Rank.OWNER
    return Rank.of_share(share_role)


def role_label(user: AnyUser, dataset: Dataset, share_role: str | None) -> str:
    """What the user is to the dataset, as shown on a badge: owner, their share role, or
    superuser (who may do anything, like an owner, without being one)."""
    if dataset.owner_id == user.pk:
        return "owner"
    return share_role or ("superuser" if user.is_superuser else "none")


def _check(user: AnyUser, obj: Any, dataset: Dataset, min_rank: Rank, missing: str) -> Any:
    """Annotate ``obj`` with ``role`` (the Rank's name), ``rank`` and ``role_label``;
    404 for a stranger, 403 below ``min_rank``."""
    share_role = obj.share_role
    rank = rank_of(user, dataset, share_role)
    if rank < Rank.VIEWER:
        raise Http404(missing)
    if rank < min_rank:
        raise PermissionDenied(
            f"Your role on this dataset ({rank.label}) does not allow this; "
            f"it needs {Rank(min_rank).label}."
        )
    obj.rank = rank
    obj.role = rank.label
    obj.role_label = role_label(user, dataset, share_role)
    return obj


def dataset_for_user(
    user: AnyUser,
    dataset_id: uuid.UUID,
    *,
    min_rank: Rank = Rank.VIEWER,
    queryset: QuerySet[Dataset] | None = None,
) -> Dataset:
    """The dataset if the user may see it (Http404 otherwise) and has ``min_rank``
    (PermissionDenied otherwise), annotated with the caller's role. One query; ``queryset``
    (already scoped by ``dataset_list_visible``) may add annotations or prefetches."""
    qs = dataset_list_visible(user=user) if queryset is None else queryset
    dataset = with_share_role(qs.filter(pk=dataset_id), user).first()
    if dataset is None:
        raise Http404("No such dataset.")
    return _check(user, dataset, dataset, min_rank, "No such dataset.")


def version_for_user(
    user: AnyUser,
    dataset_id: uuid.UUID,
    version_id: uuid.UUID,
    *,
    min_rank: Rank = Rank.VIEWER,
) -> Version:
    """The version with its dataset if the user may see it (Http404 otherwise: also when
    the version is not the dataset's) and has ``min_rank`` (PermissionDenied otherwise),
    annotated with ``role`` / ``rank`` / ``role_label``. One query."""
    version = with_share_role(
        Version.objects.select_related("dataset").filter(
            pk=version_id, dataset_id=dataset_id, dataset__in=dataset_list_visible(user=user)
        ),
        user,
        "dataset",
    ).first()
    if version is None:
        raise Http404("No such version.")
    return _check(user, version, version.dataset, min_rank, "No such version.")


def apikey_list(*, user: User) -> QuerySet[APIKey]:
    """The user's keys that are not revoked, newest first."""
    return APIKey.objects.filter(user=user, revoked_at__isnull=True)
