"""Reads of the kernel: which datasets a user may see, and with which role."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from seeme.models import OWNER_RANK, ROLE_RANK, APIKey, Dataset, DatasetShare, Role

STAFF_RANK = OWNER_RANK


def dataset_list_visible(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Dataset]:
    """Datasets the user owns or that are shared with them; staff see every dataset."""
    if not user.is_authenticated:
        return Dataset.objects.none()
    if user.is_staff:
        return Dataset.objects.all()
    shared = DatasetShare.objects.filter(dataset=OuterRef("pk"), user=user)
    return Dataset.objects.filter(Q(owner=user) | Exists(shared))


def dataset_role_rank(*, user: AbstractBaseUser, dataset: Dataset) -> int:
    """0 (no access), viewer 1, annotator 2, editor 3, owner or staff 4. At most one query."""
    if not user.is_authenticated:
        return 0
    if user.is_staff or dataset.owner_id == user.pk:
        return OWNER_RANK
    role = (
        DatasetShare.objects.filter(dataset=dataset, user=user)
        .values_list("role", flat=True)
        .first()
    )
    return ROLE_RANK.get(Role(role), 0) if role else 0


def apikey_list(*, user: AbstractBaseUser) -> QuerySet[APIKey]:
    """The user's keys that are not revoked, newest first."""
    return APIKey.objects.filter(user=user, revoked_at__isnull=True)
