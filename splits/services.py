"""Writes of splits that touch nothing else. Writes that move statistics (creating or
deleting a split, membership) live in ``labels.services``."""

from django.db import IntegrityError

from seeme.db import atomic_write
from seeme.exceptions import Conflict
from splits.models import DatasetSplit


@atomic_write
def split_update(*, split: DatasetSplit, data: dict) -> DatasetSplit:
    """Rename or describe a split. 409 when the new name is taken in the version."""
    for field in ("name", "description"):
        if field in data:
            setattr(split, field, data[field])
    try:
        split.save()
    except IntegrityError as exc:
        message = f"A split named {split.name!r} exists in this version."
        raise Conflict(message, {"name": [message]}) from exc
    return split
