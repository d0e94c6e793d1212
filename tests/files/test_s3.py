"""The S3 path: the same files code against a real S3-compatible server on 127.0.0.1.

The server is ``moto_server`` (``moto[server]``, in the test extras) started by this module
as a separate process on a free port: the storage speaks real HTTP to it through boto3, as
it would to AWS S3, MinIO or Ceph."""

import hashlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from seeme import files
from seeme.models import Blob
from tests.factories import ItemFactory
from tests.files import samples

pytest.importorskip("moto", reason="moto[server] is in the test extras")
boto3 = pytest.importorskip("boto3")

BUCKET = "seeme-test"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _moto_server() -> str:
    found = Path(sys.executable).with_name("moto_server")
    if found.exists():
        return str(found)
    on_path = shutil.which("moto_server")
    if on_path is None:
        pytest.skip("moto_server is not installed")
    return on_path


@pytest.fixture(scope="session")
def s3_endpoint():
    port = _free_port()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    proc = subprocess.Popen(
        [_moto_server(), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", **CREDENTIALS)
        client.create_bucket(Bucket=BUCKET)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def s3(s3_endpoint, settings):
    """Files go to the S3 server for this test; yields a boto3 client to look at the bucket."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": None,
                "file_overwrite": True,
            },
        },
    }
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])


def keys(client) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_storage_is_s3(s3, db):
    from storages.backends.s3 import S3Storage

    assert isinstance(files.file_storage(), S3Storage)


def test_round_trip_through_the_api_on_s3(s3, api, version, splits):
    item = ItemFactory(dataset_version=version, splits=[splits["train"]])
    data = samples.jpeg(size=(300, 200), exif_orientation=6)
    url_kw = {"dataset_id": version.dataset_id, "version_id": version.pk, "pk": item.pk}
    response = api.post(
        reverse("item-upload", kwargs=url_kw),
        {"file": SimpleUploadedFile("a.jpg", data, content_type="image/jpeg")},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    digest = hashlib.sha256(data).hexdigest()
    assert keys(s3) == [files.blob_name(digest)]
    stored = s3.get_object(Bucket=BUCKET, Key=files.blob_name(digest))["Body"].read()
    assert stored == data

    got = api.get(reverse("item-download", kwargs=url_kw))
    assert b"".join(got.streaming_content) == data
    assert got["ETag"] == f'"{digest}"'

    thumb = api.get(reverse("item-download", kwargs=url_kw) + "?thumbnail=true")
    assert thumb.status_code == 200
    assert b"".join(thumb.streaming_content)[:3] == b"\xff\xd8\xff"
    assert files.thumbnail_name(digest, 256) in keys(s3)


def test_store_once_refusal_and_gc_on_s3(s3, db):
    a = files.store_blob(io.BytesIO(samples.png()))
    files.store_blob(io.BytesIO(samples.png()))
    assert keys(s3) == [files.blob_name(a.sha256)]
    with pytest.raises(files.FileRefused):
        files.store_blob(io.BytesIO(samples.SVG))
    assert keys(s3) == [files.blob_name(a.sha256)]
    # Unreferenced: collected; a stray object without a row too (scan_storage).
    s3.put_object(Bucket=BUCKET, Key=files.blob_name("d" * 64), Body=b"stray")
    removed = files.blobs_collect_garbage(grace=timedelta(0), scan_storage=True)
    assert sorted(removed) == sorted([a.sha256, "d" * 64])
    assert keys(s3) == [] and not Blob.objects.exists()
