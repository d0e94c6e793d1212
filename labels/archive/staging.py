"""Archives kept between two requests (the import page's dry run, then its import) or
between a request and a job: stored under the SHA-256 of their bytes through Django's
storage API, so what is imported is byte for byte what was validated."""

import hashlib
from datetime import timedelta
from typing import IO

from django.core.files import File
from django.core.files.storage import storages
from django.utils import timezone

PREFIX = "archive-staging"
CHUNK = 1 << 20
KEEP = timedelta(days=1)


def _name(sha256: str) -> str:
    return f"{PREFIX}/{sha256}.zip"


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
    """Keep the archive; returns its SHA-256 (the name to open it by). Archives kept longer
    than a day (checked, never imported) are deleted on the way."""
    prune()
    sha256 = archive_sha256(fileobj)
    storage = storages["default"]
    if not storage.exists(_name(sha256)):
        storage.save(_name(sha256), File(fileobj))
    fileobj.seek(0)
    return sha256


def open_staged(sha256: str) -> IO[bytes] | None:
    """The kept archive, or None when it is gone (or ``sha256`` is not a hash)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        return None
    storage = storages["default"]
    if not storage.exists(_name(sha256)):
        return None
    return storage.open(_name(sha256), "rb")


def discard(sha256: str) -> None:
    storages["default"].delete(_name(sha256))
