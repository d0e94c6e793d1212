"""Writes of the kernel: accounts, API keys, datasets, versions, items, shares.

Writes that also touch splits or statistics (creating a dataset with default splits, item
membership, annotations) live in ``labels.services``, the highest layer they need.
"""

import functools
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection
from django.db.models import Q
from django.utils import timezone

from seeme.db import atomic_write, row_converter
from seeme.exceptions import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from seeme.locks import lock_versions_exclusive
from seeme.models import (
    APIKey,
    Dataset,
    DatasetShare,
    Item,
    ItemState,
    Role,
    User,
    Version,
    text_content_hash,
)
from seeme.roles import share_role_find

KEY_PREFIX = "sm_"
# Touch last_used_at at most this often, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


# -- accounts and keys ---------------------------------------------------------------------


@atomic_write
def user_register(
    *, username: str, email: str, password: str, firstname: str = "", name: str = ""
) -> User:
    """Create a user account. Raises Forbidden when registration is closed."""
    if not settings.SEEME_OPEN_REGISTRATION:
        raise Forbidden("Registration is closed on this server; ask an administrator.")
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["This username is taken."]
    if email and User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["An account with this email exists."]
    candidate = User(username=username, email=email, first_name=firstname, last_name=name)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(first, errors)
    candidate.set_password(password)
    try:
        candidate.save()
    except IntegrityError as exc:
        raise InvalidInput("This username is taken.", {"username": ["taken"]}) from exc
    return candidate


@atomic_write
def apikey_create(
    *, user: User, name: str = "", expires_in_days: int | None = None
) -> tuple[APIKey, str]:
    """Create an API key; returns the row and the raw key, which is never stored."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    key = APIKey.objects.create(
        user=user, name=name, key_prefix=raw[:10], key_hash=_hash_key(raw), expires_at=expires_at
    )
    return key, raw


def apikey_authenticate(*, raw_key: str) -> APIKey | None:
    """The live key matching ``raw_key`` (with its user), or None. Updates last_used_at."""
    key = (
        APIKey.objects.select_related("user")
        .filter(key_hash=_hash_key(raw_key), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if key is None or (key.expires_at and key.expires_at <= now) or not key.user.is_active:
        return None
    _touch_last_used(key, now)
    return key


def _touch_last_used(key: APIKey, now) -> None:
    """Record the key's use, at most once per ``LAST_USED_RESOLUTION``: reads stay reads."""
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        APIKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


# The columns a keyed read selects first, in this order, for ``apikey_from_row``.
_KEY_FIELDS = (APIKey._meta.get_field("id"), APIKey._meta.get_field("last_used_at"))
# In the model's field order, as Model.from_db takes them.
_USER_FIELDS = tuple(
    f
    for f in User._meta.concrete_fields
    if f.name in {"id", "username", "is_superuser", "is_staff", "is_active"}
)


def apikey_sql(*, raw_key: str) -> tuple[str, str, str, list]:
    """``apikey_authenticate``'s rules as SQL, for a read that checks the key in its own
    query (one round trip where there were two): the columns ``apikey_from_row`` reads (to
    come first in the SELECT), the FROM clause of the key ``k`` joined to its user ``u``,
    and the WHERE condition only a live key of an active user meets, with its parameters.
    tests/labels/test_keyed_reads.py holds the two paths to the same answers."""
    q = connection.ops.quote_name
    key_table, user_table = q(APIKey._meta.db_table), q(User._meta.db_table)
    columns = ", ".join(
        [
            *(f"k.{q(str(f.column))}" for f in _KEY_FIELDS),
            *(f"u.{q(str(f.column))}" for f in _USER_FIELDS),
        ]
    )
    from_sql = f"{key_table} k INNER JOIN {user_table} u ON (u.{q('id')} = k.{q('user_id')})"
    where = (
        f"k.{q('key_hash')} = %s AND k.{q('revoked_at')} IS NULL "
        f"AND (k.{q('expires_at')} IS NULL OR k.{q('expires_at')} > %s) AND u.{q('is_active')}"
    )
    now = APIKey._meta.get_field("expires_at").get_db_prep_value(timezone.now(), connection)
    return columns, from_sql, where, [_hash_key(raw_key), now]


APIKEY_SQL_WIDTH = len(_KEY_FIELDS) + len(_USER_FIELDS)


@functools.cache
def _key_row_converter():
    return row_converter([*_KEY_FIELDS, *_USER_FIELDS])


def apikey_from_row(row: Sequence[Any]) -> APIKey:
    """The key (with its user) of a keyed read's first ``APIKEY_SQL_WIDTH`` columns, its
    ``last_used_at`` touched as ``apikey_authenticate`` does. Both are loaded as the ORM
    loads ``only()`` rows: any other field is read on first use."""
    values = _key_row_converter()(row[:APIKEY_SQL_WIDTH])
    key_id, last_used_at, *user_values = values
    user = User.from_db(connection.alias, [f.attname for f in _USER_FIELDS], user_values)
    key = APIKey.from_db(
        connection.alias, ["id", "user_id", "last_used_at"], [key_id, user.pk, last_used_at]
    )
    key.user = user
    _touch_last_used(key, timezone.now())
    return key


@atomic_write
def apikey_create_for_login(*, user: User, name: str) -> tuple[APIKey, str]:
    """A key for a login or registration: it expires after ``SEEME_LOGIN_KEY_DAYS``. The
    user's expired keys are deleted in the same transaction, so they do not pile up."""
    apikey_prune_expired(user=user)
    return apikey_create(user=user, name=name, expires_in_days=settings.SEEME_LOGIN_KEY_DAYS)


@atomic_write
def apikey_prune_expired(*, user: User | None = None) -> int:
    """Delete expired keys (of ``user``, or everyone's); returns how many. Revoked keys are
    kept until they expire, so the admin still shows a recent logout."""
    expired = APIKey.objects.filter(expires_at__lte=timezone.now())
    if user is not None:
        expired = expired.filter(user=user)
    count, _ = expired.delete()
    return count


@atomic_write
def apikey_revoke(*, key: APIKey) -> APIKey:
    """Revoke a key: it stops authenticating at once. Idempotent."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
    return key


# -- datasets, versions, shares -------------------------------------------------------------


def _unique_or_conflict(save, message: str, field: str = "name"):
    try:
        return save()
    except IntegrityError as exc:
        raise Conflict(message, {field: [message]}) from exc


@atomic_write
def dataset_update(*, dataset: Dataset, data: dict) -> Dataset:
    """Update a dataset's own fields (name, description, notes, multi_label, content_type)."""
    for field in ("name", "description", "notes", "multi_label", "content_type"):
        if field in data:
            setattr(dataset, field, data[field])
    dataset.save()
    return dataset


@atomic_write
def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset with all its versions, after waiting out writers in its versions."""
    lock_versions_exclusive(dataset.versions.values_list("id", flat=True))
    Dataset.objects.filter(pk=dataset.pk).delete()


@atomic_write
def version_create(
    *,
    dataset: Dataset,
    user: User | None,
    name: str = "",
    description: str = "",
    default_split: str = "",
    config: str = "",
) -> Version:
    """Create an empty version; an empty name becomes v<N>. 409 on a duplicate name."""
    if not name:
        taken = set(dataset.versions.values_list("name", flat=True))
        n = len(taken) + 1
        while f"v{n}" in taken:
            n += 1
        name = f"v{n}"
    version = Version(
        dataset=dataset,
        user=user,
        name=name,
        description=description,
        default_split=default_split,
        config=config,
    )
    _unique_or_conflict(version.save, f"A version named {name!r} exists in this dataset.")
    return version


@atomic_write
def version_update(*, version: Version, data: dict) -> Version:
    """Update a version's own fields. 409 on a duplicate name; an empty name keeps the
    current one (a version always has a name)."""
    for field in ("name", "description", "default_split", "config"):
        if field in data and (field != "name" or data[field]):
            setattr(version, field, data[field])
    _unique_or_conflict(version.save, f"A version named {version.name!r} exists in this dataset.")
    return version


@atomic_write
def version_delete(*, version: Version) -> None:
    """Delete a version with its labels, splits, items and statistics."""
    lock_versions_exclusive([version.pk])
    Version.objects.filter(pk=version.pk).delete()


@atomic_write
def dataset_share(*, dataset: Dataset, identifier: str, role: str) -> tuple[DatasetShare, bool]:
    """Share a dataset with the user named by username or email; returns (share, created).

    ``role`` is a share role's id, slug or bare name (``seeme.roles``). Sharing again changes
    the role. The owner cannot be given a role on their own dataset.
    """
    found = share_role_find(role)
    if found is None:
        names = ", ".join(Role.values)
        raise InvalidInput(
            f"Unknown role {role!r}; use one of {names} (or a role id or slug from "
            "GET /share-roles).",
            {"role": ["invalid"]},
        )
    role = found.role
    identifier = (identifier or "").strip()
    if not identifier:
        raise InvalidInput(
            "Give the username or email of the user to share with.",
            {"email": ["This field is required."]},
        )
    matches = list(
        User.objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier))[:2]
    )
    if len(matches) != 1:
        raise InvalidInput(
            f"No single user is known as {identifier!r}.", {"email": ["unknown user"]}
        )
    user = matches[0]
    if user.pk == dataset.owner_id:
        raise InvalidInput(
            "The owner already has every right on their dataset.", {"email": ["owner"]}
        )
    share, created = DatasetShare.objects.update_or_create(
        dataset=dataset, user=user, defaults={"role": role}
    )
    return share, created


@atomic_write
def dataset_unshare(*, dataset: Dataset, user_id: uuid.UUID) -> None:
    """Remove a user's access to a dataset; NotFound when they had none."""
    deleted, _ = DatasetShare.objects.filter(dataset=dataset, user_id=user_id).delete()
    if not deleted:
        raise NotFound("This dataset is not shared with that user.")


# -- items ------------------------------------------------------------------------------------

ITEM_FIELDS = ("name", "description", "text", "extension", "group")
ITEM_STATE_MAX = 64


@atomic_write
def item_update(*, item: Item, data: dict, if_match: int | None = None) -> Item:
    """Update an item's own fields and bump its ``version``.

    With ``if_match`` the write applies only if the item is still at that version, else
    PreconditionFailed carries the current one. The item row is locked for the check.
    """
    current = Item.objects.select_for_update(no_key=True).filter(pk=item.pk).first()
    if current is None:
        raise NotFound("No such item.")
    if if_match is not None and current.version != if_match:
        raise PreconditionFailed(current.version)
    for field in ITEM_FIELDS:
        if field in data:
            setattr(current, field, data[field])
    # An item with a stored file keeps that file's hash. Otherwise a hash given by the caller
    # (of a file kept elsewhere) wins, else it follows the text.
    if current.file_id is not None:
        current.content_hash = current.file_id
    elif data.get("content_hash"):
        current.content_hash = data["content_hash"]
    elif "text" in data or "content_hash" in data:
        current.content_hash = text_content_hash(current.text)
    current.version += 1
    current.save()
    return current


@atomic_write
def item_state_set(
    *, item: Item, state: str, user: User | None, if_match: int | None = None
) -> ItemState:
    """Set an item's workflow state, creating its state row on the first write.

    Each write bumps the row's ``version`` by one (a new row starts at 1). With ``if_match``
    (0 for "never written") the write applies only at that version, else PreconditionFailed
    carries the current one. Locks the item row, so two first writes cannot both create.
    """
    state = (state or "").strip()
    if not state or len(state) > ITEM_STATE_MAX:
        message = f"state must be 1 to {ITEM_STATE_MAX} characters."
        raise InvalidInput(message, {"state": [message]})
    if not Item.objects.select_for_update(no_key=True).filter(pk=item.pk).exists():
        raise NotFound("No such item.")
    current = ItemState.objects.filter(item_id=item.pk).first()
    at = current.version if current is not None else 0
    if if_match is not None and if_match != at:
        raise PreconditionFailed(at)
    if current is None:
        return ItemState.objects.create(
            item_id=item.pk,
            dataset_version_id=item.dataset_version_id,
            user=user,
            name=item.name,
            state=state,
        )
    current.state = state
    current.user = user
    current.version += 1
    current.save()
    return current
