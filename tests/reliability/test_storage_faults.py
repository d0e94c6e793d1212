"""Storage full or unwritable during an upload: a JSON 507/503 that says so, no torn file
left under the blob's name, no row written, the statistics equal to a recount; and once
the store works again the same upload succeeds byte for byte."""

import errno
import hashlib
import os

import pytest
from django.core.files.storage import FileSystemStorage

from seeme.models import Blob, Item
from tests.conftest import assert_stats_exact, db_snapshot
from tests.factories import ItemFactory
from tests.files import samples
from tests.files.test_api_files import body, item_url, upload
from tests.files.test_files_domain import stored_names

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def item(version, splits):
    return ItemFactory(dataset_version=version, splits=[splits["train"]], name="")


def failing_save(code: int):
    """FileSystemStorage._save that writes part of the file under its final name, then
    fails the way a full or read-only disk does."""

    def _save(self, name, content):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as torn:
            torn.write(content.read(10))
        raise OSError(code, os.strerror(code))

    return _save


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [(errno.ENOSPC, 507, "storage_full"), (errno.EACCES, 503, "storage_unavailable")],
)
def test_a_failing_store_refuses_the_upload_and_leaves_nothing(
    api, item, monkeypatch, code, status, reason
):
    data = samples.jpeg()
    before = db_snapshot()
    broken = failing_save(code)
    with monkeypatch.context() as patch:
        patch.setattr(FileSystemStorage, "_save", broken)
        response = upload(api, item, data)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["reason"] == reason
    assert "nothing was saved" in response.json()["message"]
    assert db_snapshot() == before
    assert not Blob.objects.exists()
    assert stored_names() == []  # the torn file is gone
    fresh = Item.objects.get(pk=item.pk)
    assert fresh.file_id is None and fresh.version == item.version
    assert_stats_exact()

    # The store works again: the same upload goes through and the bytes come back exact.
    response = upload(api, item, data)
    assert response.status_code == 200, response.content
    download = api.get(item_url("item-download", item))
    assert body(download) == data
    assert Item.objects.get(pk=item.pk).content_hash == hashlib.sha256(data).hexdigest()
    assert_stats_exact()


def test_a_torn_file_left_by_a_crash_is_written_again(api, item, media_storage):
    """A process killed mid-write leaves part of a file and no row: the next store of the
    same bytes must not trust the name alone."""
    data = samples.png()
    sha = hashlib.sha256(data).hexdigest()
    torn = media_storage / "blobs" / sha[:2] / sha
    torn.parent.mkdir(parents=True, exist_ok=True)
    torn.write_bytes(data[:7])
    response = upload(api, item, data, "x.png", "image/png")
    assert response.status_code == 200, response.content
    assert body(api.get(item_url("item-download", item))) == data
