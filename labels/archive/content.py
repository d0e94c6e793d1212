"""Checks of the files an archive carries, by their bytes (``seeme.filetypes``, the same
check an uploaded item file passes): images must decode within the pixel limit, text must
be UTF-8, anything scriptable or of no accepted type is refused."""

import io
import shutil
import tempfile
import zipfile
from typing import IO

from django.conf import settings

from labels.archive.plan import ImportPlan
from labels.archive.safety import Entry, SafeArchive
from seeme.exceptions import FileRefused
from seeme.filetypes import detect

SPOOL = 8 << 20
SMALL = 1 << 20
IMAGE_EXTENSIONS = {"jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff"}


def extension_of(name: str) -> str:
    """The lower-case extension of a file name, without the dot ("" when none)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def spooled(archive: SafeArchive, entry: Entry) -> IO[bytes]:
    """A seekable copy of the entry (in memory when small, else a temporary file); the
    caller closes it."""
    with archive.open_entry(entry) as stream:
        if entry.size <= SMALL:  # most entries: one read, no temporary file machinery
            return io.BytesIO(stream.read())
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL)
        shutil.copyfileobj(stream, spool, 1 << 16)
    spool.seek(0)
    return spool


def check_file(archive: SafeArchive, entry: Entry, plan: ImportPlan) -> tuple[str, str] | None:
    """For a file that becomes an item: (extension, text) when accepted, else None and a
    problem naming the entry. A UTF-8 text file gives its text (the item is a text item,
    no file stored); any other accepted file its extension, from its bytes."""
    limit = settings.SEEME_MAX_UPLOAD_MB << 20
    if entry.size > limit:
        plan.problem(entry.path, f"{entry.size} bytes, more than a file may have ({limit})")
        return None
    try:
        with spooled(archive, entry) as data:
            kind = detect(data, max_pixels=settings.SEEME_MAX_IMAGE_PIXELS)  # type: ignore[arg-type]
            named = extension_of(entry.path)
            if named in IMAGE_EXTENSIONS and kind.kind != "image":
                plan.problem(
                    entry.path, f"broken image: named .{named}, but its bytes are {kind.kind}"
                )
                return None
            if kind.kind != "text":
                return kind.extension, ""
            data.seek(0)
            return "txt", data.read().decode("utf-8")
    except FileRefused as exc:
        plan.problem(entry.path, exc.message)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        plan.problem(entry.path, f"corrupt entry ({exc})")
    return None
