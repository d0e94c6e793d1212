"""Archives kept between two requests (the import page's dry run, then its import) or
between a request and a job, through Django's storage API. Each is kept under its own key
(``<sha256>-<random>``) and never overwritten, so what is imported is byte for byte what
was checked, and two uploads of the same bytes never share (or delete) one copy."""

import hashlib
import re
import uuid
from datetime import timedelta
from typing import IO

from django.core.files import File
from django.core.files.storage import storages
from django.utils import timezone

PREFIX = "archive-staging"
CHUNK = 1 << 20
KEEP = timedelta(days=1)


KEY = re.compile(r"^[0-9a-f]{64}-[0-9a-f]{32}$")


def _name(key: str) -> str:
    return f"{PREFIX}/{key}.zip"


def archive_sha256(fileobj: IO[bytes]) -> str:
    digest = hashlib.sha256()
    fileobj.seek(0)
    while chunk := fileobj.read(CHUNK):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def prune(max_age: timedelta = KEEP) -> int:
    """Delete kept archives older than ``max_age`` (never imported); returns how many."""
    storage = storages["default"]
    try:
        names = storage.listdir(PREFIX)[1]
    except FileNotFoundError:
        return 0
    cutoff = timezone.now() - max_age
    old = [n for n in names if storage.get_modified_time(f"{PREFIX}/{n}") < cutoff]
    for name in old:
        storage.delete(f"{PREFIX}/{name}")
    return len(old)


def stage(fileobj: IO[bytes]) -> str:
    """Keep the archive; returns its key (its SHA-256 and a random part). Archives kept
    longer than a day (checked, never imported) are deleted on the way."""
    prune()
    key = f"{archive_sha256(fileobj)}-{uuid.uuid4().hex}"
    saved = storages["default"].save(_name(key), File(fileobj))
    fileobj.seek(0)
    if saved != _name(key):  # pragma: no cover - a fresh random name is never taken
        raise RuntimeError(f"storage saved {_name(key)} as {saved}")
    return key


def open_staged(key: str) -> IO[bytes] | None:
    """The kept archive, or None when it is gone (or ``key`` is not a key)."""
    if not KEY.match(key):
        return None
    storage = storages["default"]
    if not storage.exists(_name(key)):
        return None
    return storage.open(_name(key), "rb")


def discard(key: str) -> None:
    storages["default"].delete(_name(key))
