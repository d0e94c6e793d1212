"""Archives kept between two requests (the import page's dry run, then its import) or
between a request and a job: stored under the SHA-256 of their bytes through Django's
storage API, so what is imported is byte for byte what was validated."""

import hashlib
from typing import IO

from django.core.files import File
from django.core.files.storage import storages

PREFIX = "archive-staging"
CHUNK = 1 << 20


def _name(sha256: str) -> str:
    return f"{PREFIX}/{sha256}.zip"


def archive_sha256(fileobj: IO[bytes]) -> str:
    digest = hashlib.sha256()
    fileobj.seek(0)
    while chunk := fileobj.read(CHUNK):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def stage(fileobj: IO[bytes]) -> str:
    """Keep the archive; returns its SHA-256 (the name to open it by)."""
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
