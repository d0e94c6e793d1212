"""The streamed zip writer and the archive staging, on their own."""

import io
import os
import time
import zipfile

import pytest
from django.core.files.storage import storages

from labels.archive import staging
from labels.archive.stream import ZipStream


def test_zip_stream_with_more_entries_than_a_plain_zip_holds_reads_back():
    """70,000 entries (past the 65,535 of a plain end record): the ZIP64 end records are
    written from the spilled directory and every entry reads back."""
    n = 70_000
    data = b"".join(
        ZipStream().run([("top", None)] + [(f"d/{i}.txt", [str(i).encode()]) for i in range(n)])
    )
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert len(names) == n + 1 and names[0] == "top/"
        assert zf.read("d/69999.txt") == b"69999"
        assert zf.testzip() is None


def test_zip_stream_stored_and_large_entries():
    big = os.urandom(3 << 20)
    chunks = [big[i : i + 65536] for i in range(0, len(big), 65536)]
    data = b"".join(ZipStream().run([("a.jpg", chunks), ("b.txt", [b"hello"])]))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.getinfo("a.jpg").compress_type == zipfile.ZIP_STORED
        assert zf.read("a.jpg") == big and zf.read("b.txt") == b"hello"


@pytest.mark.django_db
def test_staged_archives_older_than_a_day_are_pruned():
    old = staging.stage(io.BytesIO(b"old archive"))
    path = storages["default"].path(f"{staging.PREFIX}/{old}.zip")
    two_days_ago = time.time() - 2 * 86400
    os.utime(path, (two_days_ago, two_days_ago))
    new = staging.stage(io.BytesIO(b"new archive"))
    assert staging.open_staged(old) is None
    with staging.open_staged(new) as kept:
        assert kept.read() == b"new archive"
    assert staging.open_staged("../../etc/passwd") is None
    again = staging.stage(io.BytesIO(b"new archive"))  # the same bytes: a copy of its own
    assert again != new and again[:64] == new[:64]
    staging.discard(new)
    with staging.open_staged(again) as kept:
        assert kept.read() == b"new archive"
