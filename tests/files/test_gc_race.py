"""gc_files against a store in progress (PostgreSQL: real row locks, two connections)."""

import io
import threading
import time
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.db import connection, connections, transaction

from seeme import files
from seeme.models import Blob
from tests.factories import ItemFactory
from tests.files import samples


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_gc_waits_for_a_store_of_the_same_bytes_and_keeps_the_blob(version, splits):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: real row locks and concurrent transactions")
    data = samples.jpeg()
    sha = files.store_blob(io.BytesIO(data)).sha256
    Blob.objects.filter(pk=sha).update(updated_at="2000-01-01T00:00:00Z")  # long unreferenced
    item = ItemFactory(dataset_version=version, splits=[splits["train"]])
    stored, go = threading.Event(), threading.Event()
    result: dict = {}

    def attach():
        try:
            with transaction.atomic():
                files.attach_item_file(item, io.BytesIO(data))
                stored.set()
                go.wait(10)
        finally:
            connections.close_all()

    def collect():
        try:
            result["removed"] = files.blobs_collect_garbage(grace=timedelta(0))
        finally:
            connections.close_all()

    writer = threading.Thread(target=attach)
    writer.start()
    assert stored.wait(10)
    collector = threading.Thread(target=collect)
    collector.start()
    time.sleep(0.5)
    assert collector.is_alive()  # waiting for the row the store holds
    go.set()
    writer.join(10)
    collector.join(10)
    assert result["removed"] == []
    assert Blob.objects.filter(pk=sha).exists()
    with storages["default"].open(files.blob_name(sha), "rb") as f:
        assert f.read() == data
