"""Item files and dataset logos: bytes stored once per SHA-256 through Django's storage API.

The public functions (names kept stable; importers call them):

- ``store_blob(fileobj)`` checks the bytes (size, type from the bytes, images verified) and
  stores them under their hash, once; returns a ``BlobInfo``. Idempotent.
- ``attach_item_file(item, fileobj, filename=None)`` gives one item its file.
- ``open_item_file(item)`` / ``open_item_thumbnail(item)`` read them back.
- Many new items: ``store_blob`` each file, then pass ``file_sha256`` (and ``extension``,
  ``text``) in ``labels.services.NewItem`` to ``items_bulk_create``; the item's
  ``content_hash`` is then the file's hash. Reference a stored blob within
  ``SEEME_BLOB_GRACE_MINUTES``, else ``gc_files`` may have removed it.
- ``blobs_collect_garbage()`` (the ``gc_files`` command) removes blobs no item and no logo
  refers to any more: deleting items, versions or datasets never deletes files itself.

Storage names carry no extension (``blobs/ab/<sha256>``), so nothing there is ever served
by a web server as HTML; every read goes through the API, which checks access.
"""

import errno
import hashlib
import io
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db.models import Exists, OuterRef
from django.utils import timezone

from seeme.db import atomic_write
from seeme.exceptions import FileRefused, FileTooLarge, NotFound, StorageUnavailable
from seeme.filetypes import FileType, detect
from seeme.models import Blob, Dataset, Item
from seeme.thumbnails import make_thumbnail

log = logging.getLogger(__name__)

CHUNK = 1 << 20
LOGO_EXTENSIONS = ("png", "jpg")


@dataclass(frozen=True)
class BlobInfo:
    """A stored file: its hash, size and what its bytes are."""

    sha256: str
    size: int
    kind: str
    extension: str
    content_type: str
    width: int | None = None
    height: int | None = None

    @classmethod
    def of(cls, blob: Blob) -> "BlobInfo":
        return cls(
            blob.sha256,
            blob.size,
            blob.kind,
            blob.extension,
            blob.content_type,
            blob.width,
            blob.height,
        )


def file_storage() -> Storage:
    """The storage files live in (``STORAGES["default"]``: the file system or S3)."""
    return storages["default"]


def blob_name(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}"


def thumbnail_name(sha256: str, px: int) -> str:
    return f"thumbs/{sha256[:2]}/{sha256}-{px}.jpg"


def max_upload_bytes() -> int:
    return settings.SEEME_MAX_UPLOAD_MB * 2**20


def _seekable(fileobj) -> BinaryIO:
    """A seekable binary file object with the same bytes (spooled when it is a stream)."""
    raw = getattr(fileobj, "file", fileobj)  # Django's UploadedFile wraps the real one
    try:
        raw.seek(0)
        return raw
    except (AttributeError, OSError, io.UnsupportedOperation):
        pass
    spool = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK)
    limit = max_upload_bytes()
    size = 0
    while chunk := fileobj.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise FileTooLarge(size, limit)
        spool.write(chunk)
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _hash(fileobj: BinaryIO) -> tuple[str, int]:
    """SHA-256 and size, refusing past the size limit before reading further."""
    limit = max_upload_bytes()
    digest = hashlib.sha256()
    size = 0
    fileobj.seek(0)
    while chunk := fileobj.read(CHUNK):
        size += len(chunk)
        if size > limit:
            fileobj.seek(0, os.SEEK_END)
            raise FileTooLarge(fileobj.tell(), limit)
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest(), size


def _save_as(storage: Storage, name: str, fileobj) -> None:
    """Save under exactly ``name``. A storage that finds the name taken meanwhile (a
    concurrent save of the same content: names are hashes) saves under another name;
    that copy is dropped."""
    fileobj.seek(0)
    try:
        saved = storage.save(name, File(fileobj))
    except Exception as exc:
        # A write that failed half-way (disk full, storage gone) may leave a torn file under
        # the final name; the blob row's lock makes this save the only one of that name, so
        # removing it is safe. The caller's transaction then rolls the row back.
        log.warning("storing %s failed: %r", name, exc)
        _discard(storage, name)
        raise StorageUnavailable(full=_is_full(exc)) from exc
    if saved != name:
        storage.delete(saved)


def _discard(storage: Storage, name: str) -> None:
    try:
        if storage.exists(name):
            storage.delete(name)
    except Exception:  # the store is failing: gc_files --scan-storage finds leftovers
        log.warning("could not remove the torn file %s", name)


def _is_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def _ensure_stored(sha256: str, fileobj: BinaryIO) -> None:
    storage = file_storage()
    name = blob_name(sha256)
    if storage.exists(name):
        if storage.size(name) == _size_of(fileobj):
            return
        _discard(storage, name)  # torn by an earlier failed write: write it again
    _save_as(storage, name, fileobj)


def _size_of(fileobj: BinaryIO) -> int:
    fileobj.seek(0, os.SEEK_END)
    size = fileobj.tell()
    fileobj.seek(0)
    return size


def _store(sha256: str, size: int, ftype: FileType, fileobj: BinaryIO) -> None:
    """The blob row, locked for the rest of the caller's transaction (so ``gc_files``
    cannot remove it before the caller refers to it), and its bytes in storage. Runs in
    the caller's transaction (``store_blob`` gives it one).

    One UPDATE when the blob is known (it locks the row and restarts the grace period),
    else an INSERT that a concurrent store of the same bytes may win (then UPDATE again)."""
    touched = Blob.objects.filter(pk=sha256).update(updated_at=timezone.now())
    if not touched:
        Blob.objects.bulk_create(
            [
                Blob(
                    sha256=sha256,
                    size=size,
                    kind=ftype.kind,
                    extension=ftype.extension,
                    content_type=ftype.content_type,
                    width=ftype.width,
                    height=ftype.height,
                )
            ],
            ignore_conflicts=True,
        )
        Blob.objects.filter(pk=sha256).update(updated_at=timezone.now())
    # Checked even for a known blob: a store that died half-way is completed here.
    _ensure_stored(sha256, fileobj)


def store_blob(fileobj) -> BlobInfo:
    """Check a file and store it under its SHA-256, once; returns what it is.

    Refusals (``FileRefused``: 400 with a reason; ``FileTooLarge``: 413) happen before
    anything is written. Idempotent: storing the same bytes again only touches the row.
    Runs in the caller's transaction when there is one, else in its own.
    """
    return _checked_store(_seekable(fileobj), atomic_write(_store))


def _checked_store(raw: BinaryIO, store) -> BlobInfo:
    sha256, size = _hash(raw)
    ftype = detect(raw, max_pixels=settings.SEEME_MAX_IMAGE_PIXELS)
    store(sha256, size, ftype, raw)
    return BlobInfo(
        sha256, size, ftype.kind, ftype.extension, ftype.content_type, ftype.width, ftype.height
    )


def _text_of(fileobj: BinaryIO) -> str:
    fileobj.seek(0)
    text = fileobj.read().decode("utf-8")
    fileobj.seek(0)
    return text


@atomic_write
def attach_item_file(item: Item, fileobj, filename: str | None = None) -> Item:
    """Store ``fileobj`` and make it the item's file, in one transaction; returns the item
    as saved (the given instance is updated too).

    The item's ``extension`` comes from the bytes, ``content_hash`` becomes the file's
    SHA-256, a text file's contents fill ``text``, an unnamed item takes the file's name;
    ``version`` is bumped. A refused file changes neither the item nor the storage. The
    file the item had before stays stored until ``gc_files`` finds it unreferenced.
    """
    raw = _seekable(fileobj)
    info = _checked_store(raw, _store)  # in this transaction: no savepoint
    current = Item.objects.select_for_update(no_key=True).filter(pk=item.pk).first()
    if current is None:
        raise NotFound("No such item.")
    current.file_id = info.sha256
    current.content_hash = info.sha256
    current.extension = info.extension
    if info.kind == "text":
        current.text = _text_of(raw)
    if not current.name and filename:
        current.name = os.path.basename(filename.replace("\\", "/"))[:255]
    current.version += 1
    current.save()
    for field in ("file_id", "content_hash", "extension", "text", "name", "version"):
        setattr(item, field, getattr(current, field))  # the caller's instance follows
    return current


def _blob_of(item: Item) -> Blob:
    if item.file_id is None:
        raise NotFound("This item has no file.")
    if Item.file.is_cached(item) and item.file is not None:
        return item.file
    return Blob.objects.get(pk=item.file_id)


def open_item_file(item: Item) -> File:
    """The item's bytes, as a binary file object (the caller closes it). NotFound without
    a file."""
    return file_storage().open(blob_name(_blob_of(item).sha256), "rb")


def open_blob_thumbnail(blob: Blob) -> File:
    """The blob's JPEG thumbnail (longest side ``SEEME_THUMBNAIL_PX``): made with Pillow on
    first use and stored; served from storage afterwards. Writes no database row, so a GET
    never waits for a writer. FileRefused for a non-image."""
    if blob.kind != "image":
        raise FileRefused("not_an_image", "Only image files have thumbnails.")
    px = settings.SEEME_THUMBNAIL_PX
    storage = file_storage()
    name = thumbnail_name(blob.sha256, px)
    try:
        return storage.open(name, "rb")
    except FileNotFoundError:
        pass
    try:
        with storage.open(blob_name(blob.sha256), "rb") as original:
            data = make_thumbnail(original, px, max_pixels=settings.SEEME_MAX_IMAGE_PIXELS)
    except (OSError, ValueError, SyntaxError) as exc:
        raise FileRefused("no_thumbnail", f"No thumbnail can be made of this image: {exc}") from exc
    _save_as(storage, name, io.BytesIO(data))
    return storage.open(name, "rb")


def open_item_thumbnail(item: Item) -> File:
    """The item's thumbnail (see ``open_blob_thumbnail``). NotFound without a file."""
    return open_blob_thumbnail(_blob_of(item))


# -- dataset logos -----------------------------------------------------------------------------


@atomic_write
def dataset_set_logo(dataset: Dataset, fileobj) -> Dataset:
    """Store a PNG or JPEG image as the dataset's logo. Refused otherwise (nothing written)."""
    raw = _seekable(fileobj)
    head = raw.read(16)
    raw.seek(0)
    if not (head.startswith(b"\x89PNG\r\n\x1a\n") or head.startswith(b"\xff\xd8\xff")):
        raise FileRefused("unsupported_type", "A logo is a PNG or JPEG image.")
    info = store_blob(raw)
    if info.extension not in LOGO_EXTENSIONS:  # pragma: no cover - the magic bytes said so
        raise FileRefused("unsupported_type", "A logo is a PNG or JPEG image.")
    Dataset.objects.filter(pk=dataset.pk).update(logo_id=info.sha256, updated_at=timezone.now())
    dataset.logo_id = info.sha256
    return dataset


def logo_filename(dataset: Dataset) -> str:
    """The logo's file name as the API shows it (``<dataset id>.<ext>``), "" without one."""
    if dataset.logo_id is None:
        return ""
    if Dataset.logo.is_cached(dataset) and dataset.logo is not None:
        return f"{dataset.pk}.{dataset.logo.extension}"
    return f"{dataset.pk}.{Blob.objects.get(pk=dataset.logo_id).extension}"


def open_dataset_logo(dataset: Dataset) -> tuple[File, Blob]:
    """The logo's bytes and its blob. NotFound without a logo."""
    if dataset.logo_id is None:
        raise NotFound("This dataset has no logo.")
    blob = Blob.objects.get(pk=dataset.logo_id)
    return file_storage().open(blob_name(blob.sha256), "rb"), blob


# -- removing what nothing refers to ----------------------------------------------------------


def _unreferenced(cutoff):
    return Blob.objects.filter(updated_at__lt=cutoff).exclude(
        Exists(Item.objects.filter(file_id=OuterRef("pk")))
        | Exists(Dataset.objects.filter(logo_id=OuterRef("pk")))
    )


def _delete_files(sha256: str) -> None:
    storage = file_storage()
    for name in (blob_name(sha256), thumbnail_name(sha256, settings.SEEME_THUMBNAIL_PX)):
        if storage.exists(name):
            storage.delete(name)
    thumbs = f"thumbs/{sha256[:2]}"
    try:
        _, names = storage.listdir(thumbs)
    except (FileNotFoundError, NotImplementedError):
        return
    for other in names:
        if other.startswith(sha256):
            storage.delete(f"{thumbs}/{other}")


@atomic_write
def _collect_one(sha256: str, cutoff) -> bool:
    """Remove one blob if, once its row is locked, nothing refers to it still.

    The lock comes first and the references are read by the next statements: under READ
    COMMITTED they then see what a store that held the lock committed (a locking statement
    would recheck its own row, not its subqueries)."""
    locked = Blob.objects.select_for_update().filter(pk=sha256, updated_at__lt=cutoff)
    if not list(locked.values_list("pk", flat=True)):
        return False
    if (
        Item.objects.filter(file_id=sha256).exists()
        or Dataset.objects.filter(logo_id=sha256).exists()
    ):
        return False
    Blob.objects.filter(pk=sha256).delete()
    # Inside the transaction, with the row lock held: a concurrent store_blob of the same
    # bytes waits, then stores them anew.
    _delete_files(sha256)
    return True


def blobs_collect_garbage(
    *, grace: timedelta | None = None, dry_run: bool = False, scan_storage: bool = False
) -> list[str]:
    """Remove blobs that no item and no dataset logo refers to, last stored more than
    ``grace`` ago (default ``SEEME_BLOB_GRACE_MINUTES``); one short transaction each.

    With ``scan_storage``, files in storage without a blob row (left by a transaction that
    rolled back after storing) are removed too, by the same grace. Returns the hashes
    removed (or that would be, with ``dry_run``).
    """
    if grace is None:
        grace = timedelta(minutes=settings.SEEME_BLOB_GRACE_MINUTES)
    cutoff = timezone.now() - grace
    candidates = list(_unreferenced(cutoff).values_list("pk", flat=True))
    removed = candidates if dry_run else [h for h in candidates if _collect_one(h, cutoff)]
    if scan_storage:
        removed += _orphan_files(cutoff, dry_run)
    return removed


def _orphan_files(cutoff, dry_run: bool) -> list[str]:
    storage = file_storage()
    found = []
    for top in ("blobs", "thumbs"):
        try:
            prefixes, _ = storage.listdir(top)
        except FileNotFoundError:
            continue
        for prefix in prefixes:
            _, names = storage.listdir(f"{top}/{prefix}")
            hashes = {name[:64] for name in names}
            known = set(Blob.objects.filter(pk__in=hashes).values_list("pk", flat=True))
            for name in names:
                sha256, path = name[:64], f"{top}/{prefix}/{name}"
                if sha256 in known or storage.get_modified_time(path) >= cutoff:
                    continue
                found.append(sha256)
                if not dry_run:
                    storage.delete(path)
    return found
