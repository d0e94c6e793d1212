"""The share roles as the API names them (``GET /share-roles``): each with a fixed id, a
slug (``share_<role>``) and a description; a share may name a role by any of the three."""

import uuid
from dataclasses import dataclass

from seeme.models import Role

_NAMESPACE = uuid.UUID("6f1d2a52-5d0c-4a0e-9d57-2f4b8f3c1a10")

_DESCRIPTIONS = {
    Role.VIEWER: "Sees the dataset, its versions, items, labels and statistics.",
    Role.ANNOTATOR: "A viewer who may also label items, move them between splits and set "
    "their state.",
    Role.EDITOR: "Everything but deleting or sharing the dataset.",
}


@dataclass(frozen=True)
class ShareRole:
    """One share role: ``role`` is the value stored on ``DatasetShare``."""

    id: uuid.UUID
    name: str
    slug: str
    description: str
    role: str


SHARE_ROLES: tuple[ShareRole, ...] = tuple(
    ShareRole(
        id=uuid.uuid5(_NAMESPACE, role.value),
        name=role.value,
        slug=f"share_{role.value}",
        description=_DESCRIPTIONS[role],
        role=role.value,
    )
    for role in Role
)


def share_role_find(value: object) -> ShareRole | None:
    """The share role named by its id, slug or bare name (case-insensitive), else None."""
    key = str(value or "").strip().lower()
    for share_role in SHARE_ROLES:
        if key in (str(share_role.id), share_role.slug, share_role.name):
            return share_role
    return None
