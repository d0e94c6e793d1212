"""The item files of an export: whether a row has a stored file, its bytes, its size."""

from collections.abc import Iterator
from typing import IO

from labels.archive.rows import Row
from seeme.files import blob_name, file_storage

CHUNK = 1 << 16


def has_file(row: Row) -> bool:
    return bool(row.file)


def open_file(row: Row) -> IO[bytes] | None:
    """The item's stored file, opened for reading, or None when it has none."""
    if not row.file:
        return None
    return file_storage().open(blob_name(row.file), "rb")


def image_size(row: Row) -> tuple[int, int]:
    """(width, height) in pixels of an image item's file; (0, 0) when unknown."""
    return (row.width or 0, row.height or 0)


def chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream's bytes in chunks; closes it at the end."""
    try:
        while chunk := stream.read(CHUNK):
            yield chunk
    finally:
        stream.close()
