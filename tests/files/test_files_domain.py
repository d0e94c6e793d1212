"""seeme.files: content-addressed storage, type from the bytes, refusals, attach, bulk, gc."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.core.management import call_command
from PIL import Image

from labels import services as label_services
from labels.services import NewItem
from seeme import files
from seeme.exceptions import FileRefused, FileTooLarge, InvalidInput
from seeme.filetypes import DOCX_TYPE
from seeme.models import Blob, Item
from tests.files import samples


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_names() -> list[str]:
    storage = storages["default"]
    found = []
    for top in ("blobs", "thumbs"):
        if not storage.exists(top):
            continue
        for prefix in storage.listdir(top)[0]:
            found += [f"{top}/{prefix}/{n}" for n in storage.listdir(f"{top}/{prefix}")[1]]
    return sorted(found)


@pytest.fixture
def item(version, splits):
    return label_services.item_create(
        version=version, user=None, name="", split_ids=[splits["train"].pk]
    )


@pytest.mark.parametrize(
    ("data", "kind", "extension", "content_type"),
    [
        (samples.jpeg(), "image", "jpg", "image/jpeg"),
        (samples.png(), "image", "png", "image/png"),
        (samples.image_bytes("WEBP"), "image", "webp", "image/webp"),
        (samples.image_bytes("GIF"), "image", "gif", "image/gif"),
        (samples.PDF, "pdf", "pdf", "application/pdf"),
        (samples.DOC, "doc", "doc", "application/msword"),
        (samples.docx(), "docx", "docx", DOCX_TYPE),
        (samples.TEXT, "text", "txt", "text/plain; charset=utf-8"),
    ],
)
def test_store_blob_decides_the_type_from_the_bytes(db, data, kind, extension, content_type):
    info = files.store_blob(io.BytesIO(data))
    assert (info.sha256, info.size, info.kind, info.extension) == (
        sha(data),
        len(data),
        kind,
        extension,
    )
    if content_type:
        assert info.content_type == content_type
    with storages["default"].open(files.blob_name(info.sha256), "rb") as f:
        assert f.read() == data


def test_store_blob_is_idempotent_per_hash(db):
    data = samples.jpeg()
    first = files.store_blob(io.BytesIO(data))
    Blob.objects.filter(pk=first.sha256).update(updated_at="2000-01-01T00:00:00Z")
    second = files.store_blob(io.BytesIO(data))
    assert first == second
    assert Blob.objects.count() == 1
    assert stored_names() == [files.blob_name(first.sha256)]
    # Stored again: the grace period of gc_files starts again.
    assert Blob.objects.get().updated_at.year > 2000


def test_a_store_that_lost_its_bytes_is_completed(db):
    data = samples.png()
    info = files.store_blob(io.BytesIO(data))
    storages["default"].delete(files.blob_name(info.sha256))
    files.store_blob(io.BytesIO(data))
    with storages["default"].open(files.blob_name(info.sha256), "rb") as f:
        assert f.read() == data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (samples.SVG, "scriptable"),
        (samples.BARE_SVG, "scriptable"),
        (samples.HTML, "scriptable"),
        (samples.BINARY, "unsupported_type"),
        (samples.plain_zip(), "unsupported_type"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "unsupported_type"),
        (samples.truncated_jpeg(), "corrupt_image"),
        (b"\x89PNG\r\n\x1a\nnot really", "corrupt_image"),
        (samples.bomb_png(), "image_too_large"),
    ],
)
def test_refused_files_leave_nothing_behind(db, settings, data, reason):
    settings.SEEME_MAX_IMAGE_PIXELS = 50_000_000
    with pytest.raises(FileRefused) as caught:
        files.store_blob(io.BytesIO(data))
    assert caught.value.reason == reason
    assert caught.value.status == 400
    assert Blob.objects.count() == 0
    assert stored_names() == []


def test_pixel_limit_is_a_setting(db, settings):
    settings.SEEME_MAX_IMAGE_PIXELS = 40 * 30 - 1
    with pytest.raises(FileRefused) as caught:
        files.store_blob(io.BytesIO(samples.jpeg(size=(40, 30))))
    assert caught.value.reason == "image_too_large"
    settings.SEEME_MAX_IMAGE_PIXELS = 40 * 30
    assert files.store_blob(io.BytesIO(samples.jpeg(size=(40, 30)))).width == 40


def test_size_limit_is_413(db, settings):
    settings.SEEME_MAX_UPLOAD_MB = 1
    data = b"a" * (2**20 + 1)
    with pytest.raises(FileTooLarge) as caught:
        files.store_blob(io.BytesIO(data))
    assert caught.value.status == 413
    assert stored_names() == []


def test_attach_item_file_sets_hash_extension_name_and_bumps_version(item):
    data = samples.jpeg()
    before = item.version
    updated = files.attach_item_file(item, io.BytesIO(data), filename="photos/cat 1.jpg")
    updated.refresh_from_db()
    assert updated.file_id == updated.content_hash == sha(data)
    assert updated.extension == "jpg"
    assert updated.name == "cat 1.jpg"
    assert updated.version == before + 1
    with files.open_item_file(updated) as f:
        assert f.read() == data


def test_a_text_file_fills_text(item):
    files.attach_item_file(item, io.BytesIO(samples.TEXT), filename="note.txt")
    item.refresh_from_db()
    assert item.text == samples.TEXT.decode()
    assert item.extension == "txt"
    assert item.content_hash == sha(samples.TEXT)


def test_refused_attach_leaves_the_item_as_it_was(item):
    files.attach_item_file(item, io.BytesIO(samples.PDF))
    item.refresh_from_db()
    before = (item.file_id, item.content_hash, item.extension, item.version, item.text)
    names = stored_names()
    with pytest.raises(FileRefused):
        files.attach_item_file(item, io.BytesIO(samples.HTML), filename="x.html")
    item.refresh_from_db()
    assert (item.file_id, item.content_hash, item.extension, item.version, item.text) == before
    assert stored_names() == names


def test_an_item_update_keeps_the_file_hash(item):
    from seeme.services import item_update

    files.attach_item_file(item, io.BytesIO(samples.PDF))
    item_update(item=item, data={"text": "changed", "content_hash": "f" * 64})
    item.refresh_from_db()
    assert item.content_hash == sha(samples.PDF)


def test_open_item_file_without_a_file_is_not_found(item):
    from seeme.exceptions import NotFound

    with pytest.raises(NotFound):
        files.open_item_file(item)


def test_thumbnail_made_once_upright_and_small(item, settings):
    settings.SEEME_THUMBNAIL_PX = 64
    # 120x40 stored landscape, EXIF says "rotate 90": upright it is portrait.
    data = samples.jpeg(size=(120, 40), exif_orientation=6)
    files.attach_item_file(item, io.BytesIO(data))
    item.refresh_from_db()
    with files.open_item_thumbnail(item) as f:
        thumb = f.read()
    img = Image.open(io.BytesIO(thumb))
    assert img.format == "JPEG"
    assert img.size == (21, 64)  # upright: taller than wide, longest side 64
    assert files.thumbnail_name(item.file_id, 64) in stored_names()
    assert (Blob.objects.get().width, Blob.objects.get().height) == (40, 120)  # as shown
    # Served from storage afterwards, not made again.
    name = files.thumbnail_name(item.file_id, 64)
    storages["default"].delete(name)
    storages["default"].save(name, io.BytesIO(b"stored"))
    with files.open_item_thumbnail(item) as f:
        assert f.read() == b"stored"


def test_bulk_create_with_files(version, splits):
    a = files.store_blob(io.BytesIO(samples.jpeg()))
    b = files.store_blob(io.BytesIO(samples.TEXT))
    ids = label_services.items_bulk_create(
        version=version,
        user=None,
        items=[
            NewItem("a.jpg", (splits["train"].pk,), extension=a.extension, file_sha256=a.sha256),
            NewItem(
                "b.txt",
                (splits["valid"].pk,),
                extension="txt",
                text=samples.TEXT.decode(),
                file_sha256=b.sha256,
            ),
            NewItem("c", (splits["test"].pk,), text="just text"),
        ],
    )
    rows = {i.name: i for i in Item.objects.filter(pk__in=ids)}
    assert rows["a.jpg"].file_id == rows["a.jpg"].content_hash == a.sha256
    assert rows["b.txt"].content_hash == b.sha256 and rows["b.txt"].text.startswith("Hello")
    assert rows["c"].file_id is None and rows["c"].content_hash == sha(b"just text")
    with files.open_item_file(rows["a.jpg"]) as f:
        assert f.read() == samples.jpeg()


def test_bulk_create_refuses_unknown_files(version, splits):
    with pytest.raises(InvalidInput, match="not stored"):
        label_services.items_bulk_create(
            version=version,
            user=None,
            items=[NewItem("a", (splits["train"].pk,), file_sha256="0" * 64)],
        )
    assert not Item.objects.exists()


def test_duplicated_version_shares_the_files(item, version):
    files.attach_item_file(item, io.BytesIO(samples.jpeg()))
    names = stored_names()
    copy = label_services.version_duplicate(version=version, user=None)
    copied = Item.objects.get(dataset_version=copy)
    item.refresh_from_db()
    assert copied.file_id == item.file_id and copied.content_hash == item.content_hash
    assert Blob.objects.count() == 1
    assert stored_names() == names
    with files.open_item_file(copied) as f:
        assert f.read() == samples.jpeg()


def test_gc_removes_only_unreferenced_blobs_past_the_grace(item, version, splits):
    kept = files.attach_item_file(item, io.BytesIO(samples.jpeg())).file_id
    orphan = files.store_blob(io.BytesIO(samples.PDF)).sha256
    # A fresh orphan is within the grace period (an importer may be about to use it).
    assert files.blobs_collect_garbage() == []
    assert files.blobs_collect_garbage(grace=timedelta(0)) == [orphan]
    assert set(Blob.objects.values_list("pk", flat=True)) == {kept}
    assert stored_names() == [files.blob_name(kept)]

    # Replacing the item's file, then deleting the item, leaves both blobs unreferenced.
    files.attach_item_file(item, io.BytesIO(samples.png()))
    with files.open_item_thumbnail(item) as f:
        f.read()
    assert set(files.blobs_collect_garbage(grace=timedelta(0))) == {kept}
    label_services.item_delete(item=item)
    call_command("gc_files", "--grace-minutes", "0", stdout=io.StringIO())
    assert not Blob.objects.exists()
    assert stored_names() == []


def test_gc_keeps_a_blob_shared_by_a_duplicated_version(item, version):
    from seeme.services import version_delete

    files.attach_item_file(item, io.BytesIO(samples.jpeg()))
    copy = label_services.version_duplicate(version=version, user=None)
    version_delete(version=version)
    assert files.blobs_collect_garbage(grace=timedelta(0)) == []
    version_delete(version=copy)
    assert len(files.blobs_collect_garbage(grace=timedelta(0))) == 1


def test_gc_scan_storage_removes_files_without_rows(db):
    storage = storages["default"]
    stray = "c" * 64
    storage.save(files.blob_name(stray), io.BytesIO(b"left by a rolled-back store"))
    assert files.blobs_collect_garbage(scan_storage=True) == []  # within the grace
    assert files.blobs_collect_garbage(grace=timedelta(0), scan_storage=True) == [stray]
    assert stored_names() == []


def test_logo_png_or_jpeg_only(dataset):
    files.dataset_set_logo(dataset, io.BytesIO(samples.png()))
    dataset.refresh_from_db()
    assert files.logo_filename(dataset) == f"{dataset.pk}.png"
    f, blob = files.open_dataset_logo(dataset)
    with f:
        assert f.read() == samples.png()
    with pytest.raises(FileRefused):
        files.dataset_set_logo(dataset, io.BytesIO(samples.image_bytes("GIF")))
    dataset.refresh_from_db()
    assert dataset.logo_id == sha(samples.png())


def test_a_concurrent_save_of_the_same_name_leaves_one_file(db):
    """Two requests making the same thumbnail at once: the storage renames the second save;
    that copy is dropped, the name keeps its (identical) bytes."""
    storage = storages["default"]
    name = files.thumbnail_name("e" * 64, 256)
    files._save_as(storage, name, io.BytesIO(b"same"))
    files._save_as(storage, name, io.BytesIO(b"same"))
    assert stored_names() == [name]
