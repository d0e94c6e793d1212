"""The item file and logo routes of DATA.md: round trips, headers, refusals, roles."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from seeme.models import Item, Role
from tests.conftest import client_for, db_snapshot
from tests.factories import DatasetFactory, ItemFactory, UserFactory, share
from tests.files import samples
from tests.files.test_files_domain import stored_names


def item_url(name, item) -> str:
    version = item.dataset_version
    return reverse(
        name, kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, "pk": item.pk}
    )


def upload(client, item, data: bytes, filename="f.jpg", content_type="image/jpeg"):
    return client.post(
        item_url("item-upload", item),
        {"file": SimpleUploadedFile(filename, data, content_type=content_type)},
        format="multipart",
    )


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def item(version, splits):
    return ItemFactory(dataset_version=version, splits=[splits["train"]], name="")


@pytest.mark.parametrize(
    ("data", "filename", "declared", "extension", "content_type"),
    [
        (samples.jpeg(), "cat.jpg", "image/jpg", "jpg", "image/jpeg"),
        (samples.png(), "cat.png", "image/png", "png", "image/png"),
        # Declared wrongly: the bytes decide.
        (samples.png(), "cat.jpg", "image/jpeg", "png", "image/png"),
        (samples.PDF, "doc.pdf", "application/pdf", "pdf", "application/pdf"),
        (samples.DOC, "old.doc", "application/msword", "doc", "application/msword"),
        (samples.TEXT, "note.txt", "text/plain", "txt", "text/plain; charset=utf-8"),
    ],
)
def test_upload_then_download_gives_the_exact_bytes(
    api, item, data, filename, declared, extension, content_type
):
    response = upload(api, item, data, filename, declared)
    assert response.status_code == 200, response.content
    answer = response.json()
    digest = hashlib.sha256(data).hexdigest()
    assert answer["id"] == str(item.pk)
    assert answer["extension"] == extension
    assert answer["content_hash"] == digest
    assert answer["name"] == filename
    assert answer["version"] == item.version + 1

    got = api.get(item_url("item-download", item))
    assert got.status_code == 200
    assert got.streaming  # FileResponse: streamed from storage, not built in memory
    assert body(got) == data
    assert got["Content-Type"] == content_type
    assert got["Content-Disposition"].startswith("attachment;")
    assert f".{extension}" in got["Content-Disposition"]
    assert got["ETag"] == f'"{digest}"'
    assert got["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in got["Content-Security-Policy"]


def test_a_text_upload_fills_the_items_text(api, item):
    response = upload(api, item, samples.TEXT, "note.txt", "text/plain")
    assert response.json()["text"] == samples.TEXT.decode()


def test_conditional_get_answers_304_while_the_file_is_unchanged(api, item):
    upload(api, item, samples.jpeg())
    url = item_url("item-download", item)
    etag = api.get(url)["ETag"]
    again = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""
    upload(api, item, samples.png())
    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and body(changed) == samples.png()


def test_thumbnail_is_a_small_upright_jpeg_made_once(api, item, settings):
    settings.SEEME_THUMBNAIL_PX = 128
    upload(api, item, samples.jpeg(size=(600, 300), exif_orientation=8))
    url = item_url("item-download", item) + "?thumbnail=true"
    first = api.get(url)
    assert first.status_code == 200
    assert first["Content-Type"] == "image/jpeg"
    first_bytes = body(first)
    img = Image.open(io.BytesIO(first_bytes))
    assert img.format == "JPEG" and img.size == (64, 128)
    assert len([n for n in stored_names() if n.startswith("thumbs/")]) == 1
    second = api.get(url)
    assert body(second) == first_bytes
    assert second["ETag"] == first["ETag"] != api.get(item_url("item-download", item))["ETag"]
    assert api.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_thumbnail_of_a_pdf_is_refused(api, item):
    upload(api, item, samples.PDF, "a.pdf", "application/pdf")
    response = api.get(item_url("item-download", item) + "?thumbnail=true")
    assert response.status_code == 400
    assert response.json()["reason"] == "not_an_image"


def test_an_item_without_a_file_is_404(api, item):
    response = api.get(item_url("item-download", item))
    assert response.status_code == 404
    assert "no file" in response.json()["message"]


REFUSALS = [
    (samples.SVG, "x.svg", "image/svg+xml", "scriptable"),
    (samples.HTML, "x.html", "text/html", "scriptable"),
    (samples.BARE_SVG, "x.jpg", "image/jpeg", "scriptable"),
    (samples.BINARY, "x.jpg", "image/jpeg", "unsupported_type"),
    (samples.plain_zip(), "x.docx", "application/zip", "unsupported_type"),
    (samples.truncated_jpeg(), "x.jpg", "image/jpeg", "corrupt_image"),
    (samples.bomb_png(), "x.png", "image/png", "image_too_large"),
    (b"", "x.jpg", "image/jpeg", "empty"),
]


@pytest.mark.parametrize(("data", "filename", "declared", "reason"), REFUSALS)
def test_refusals_are_json_400_and_change_nothing(api, item, data, filename, declared, reason):
    upload(api, item, samples.jpeg())  # the item has a file already: it must stay
    item.refresh_from_db()
    before, names = db_snapshot(), stored_names()
    response = upload(api, item, data, filename, declared)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["reason"] == reason
    assert answer["message"] and answer["errors"]["file"]
    assert db_snapshot() == before
    assert stored_names() == names
    assert body(api.get(item_url("item-download", item))) == samples.jpeg()


def test_a_file_over_the_limit_is_413(api, item, settings):
    settings.SEEME_MAX_UPLOAD_MB = 1
    before = db_snapshot()
    big = b"x" * (2**20 + 10)
    response = upload(api, item, big, "big.txt", "text/plain")
    assert response.status_code == 413
    assert response.json()["reason"] == "too_large"
    assert "SEEME_MAX_UPLOAD_MB" in response.json()["message"]
    assert db_snapshot() == before and stored_names() == []


def test_a_body_far_over_the_limit_is_refused_from_its_length(api, item, settings):
    settings.SEEME_MAX_UPLOAD_MB = 1
    response = api.post(
        item_url("item-upload", item),
        b"x" * (2 * 2**20),
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": {"name": "no file"}, "format": "multipart"},
        {"data": {"file": "a string"}, "format": "json"},
        {"data": b"", "content_type": "application/octet-stream"},
    ],
)
def test_no_file_part_is_400_naming_it(api, item, kwargs):
    response = api.post(item_url("item-upload", item), **kwargs)
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_an_item_of_another_version_is_404(api, item, user):
    other = DatasetFactory(owner=user).versions.get()
    url = reverse(
        "item-download",
        kwargs={"dataset_id": other.dataset_id, "version_id": other.pk, "pk": item.pk},
    )
    assert api.get(url).status_code == 404
    bad = reverse(
        "item-download",
        kwargs={
            "dataset_id": item.dataset_version.dataset_id,
            "version_id": item.dataset_version_id,
            "pk": "not-a-uuid",
        },
    )
    assert api.get(bad).status_code == 404


def test_logo_upload_and_fetch(api, dataset):
    url = reverse("dataset-logo-upload", kwargs={"dataset_id": dataset.pk})
    response = api.post(
        url,
        {"file": SimpleUploadedFile("logo.jpg", samples.jpeg(), content_type="image/jpg")},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["id"] == str(dataset.pk)
    assert answer["logo"] == f"{dataset.pk}.jpg" and answer["has_logo"] is True
    assert [v["name"] for v in answer["versions"]] == ["v1"]
    got = api.get(reverse("dataset-logo", kwargs={"dataset_id": dataset.pk}))
    assert got.status_code == 200 and body(got) == samples.jpeg()
    assert got["Content-Type"] == "image/jpeg"
    listed = api.get(reverse("dataset-detail", kwargs={"pk": dataset.pk})).json()
    assert listed["logo"] == answer["logo"]


def test_logo_refuses_other_images(api, dataset):
    url = reverse("dataset-logo-upload", kwargs={"dataset_id": dataset.pk})
    for data in (samples.image_bytes("GIF"), samples.PDF, samples.SVG):
        response = api.post(
            url,
            {"file": SimpleUploadedFile("logo.png", data, content_type="image/png")},
            format="multipart",
        )
        assert response.status_code == 400
        assert "PNG or JPEG" in response.json()["message"]
    assert api.get(reverse("dataset-logo", kwargs={"dataset_id": dataset.pk})).status_code == 404
    assert api.get(reverse("dataset-detail", kwargs={"pk": dataset.pk})).json()["logo"] == ""


# -- who may ---------------------------------------------------------------------------------

ROLES = ["owner", "editor", "annotator", "viewer", "stranger", "anonymous"]
RANK = {"owner": 4, "editor": 3, "annotator": 2, "viewer": 1}


def client_as(role, dataset):
    if role == "owner":
        return client_for(dataset.owner)
    if role == "anonymous":
        return client_for(None)
    user = UserFactory()
    if role in RANK:
        share(dataset, user, Role(role))
    return client_for(user)


def expected(role: str, least: int, ok: int = 200) -> int:
    if role == "anonymous":
        return 401
    if role == "stranger":
        return 404
    return ok if RANK[role] >= least else 403


@pytest.mark.parametrize("role", ROLES)
def test_who_may_upload_and_download(user, role):
    dataset = DatasetFactory(owner=user)
    version = dataset.versions.get()
    item = ItemFactory(dataset_version=version, splits=[version.splits.get(name="train")])
    upload(client_for(user), item, samples.jpeg())
    dataset.refresh_from_db()
    client = client_as(role, dataset)

    before, names = db_snapshot(), stored_names()
    refused = upload(client, item, samples.png())
    assert refused.status_code == expected(role, 2)
    if refused.status_code != 200:
        assert refused.json()["message"]
        assert db_snapshot() == before and stored_names() == names
    else:
        digest = hashlib.sha256(samples.png()).hexdigest()
        assert Item.objects.get(pk=item.pk).content_hash == digest

    for suffix in ("", "?thumbnail=true"):
        got = client.get(item_url("item-download", item) + suffix)
        assert got.status_code == expected(role, 1)

    logo_url = reverse("dataset-logo-upload", kwargs={"dataset_id": dataset.pk})
    owner_logo = client_for(user).post(
        logo_url,
        {"file": SimpleUploadedFile("l.jpg", samples.jpeg(), content_type="image/jpg")},
        format="multipart",
    )
    assert owner_logo.status_code == 200
    logo = client.post(
        logo_url,
        {"file": SimpleUploadedFile("l.png", samples.png(), content_type="image/png")},
        format="multipart",
    )
    assert logo.status_code == expected(role, 3)
    if logo.status_code == 403:
        assert "editor" in logo.json()["message"]
    fetch = client.get(reverse("dataset-logo", kwargs={"dataset_id": dataset.pk}))
    assert fetch.status_code == expected(role, 1)


def test_a_broken_multipart_body_is_a_json_400(api, item):
    response = api.post(
        item_url("item-upload", item),
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code == 400
    assert "multipart" in response.json()["message"]


def test_the_size_limit_stops_reading_the_part(api, item, settings, monkeypatch):
    """The limit holds while the part is read, not only once it is on disk."""
    from seeme.api import files as file_views

    settings.SEEME_MAX_UPLOAD_MB = 1
    monkeypatch.setattr(file_views, "MULTIPART_SLACK", 10 * 2**20)  # pass the length check
    seen = []
    original = file_views._SizeLimitHandler.receive_data_chunk

    def spy(self, raw_data, start):
        seen.append(start + len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(file_views._SizeLimitHandler, "receive_data_chunk", spy)
    response = upload(api, item, b"x" * (3 * 2**20), "big.txt", "text/plain")
    assert response.status_code == 413
    assert max(seen) < 2 * 2**20  # stopped early


def test_split_health_finds_the_same_picture_uploaded_to_two_splits(api, version, splits):
    from labels.reports import split_health

    train = ItemFactory(dataset_version=version, splits=[splits["train"]], name="a.jpg")
    test = ItemFactory(dataset_version=version, splits=[splits["test"]], name="copy of a.jpg")
    other = ItemFactory(dataset_version=version, splits=[splits["valid"]], name="b.jpg")
    upload(api, train, samples.jpeg())
    upload(api, test, samples.jpeg())
    upload(api, other, samples.png())
    dups = [f for f in split_health(version=version).findings if f.kind == "duplicates"]
    assert [set(f.item_ids) for f in dups] == [{train.pk, test.pk}]


def test_thumbnail_of_a_16_bit_png(api, item):
    img = Image.new("I;16", (300, 200), 40000)
    out = io.BytesIO()
    img.save(out, "PNG")
    assert upload(api, item, out.getvalue(), "deep.png", "image/png").status_code == 200
    thumb = api.get(item_url("item-download", item) + "?thumbnail=true")
    assert thumb.status_code == 200
    assert Image.open(io.BytesIO(body(thumb))).size == (256, 171)


def test_a_thumbnail_that_cannot_be_made_is_a_json_400_not_a_500(api, item):
    from django.core.files.storage import storages

    from seeme import files

    upload(api, item, samples.png())
    name = files.blob_name(hashlib.sha256(samples.png()).hexdigest())
    storage = storages["default"]
    storage.delete(name)
    storage.save(name, io.BytesIO(b"\x89PNG\r\n\x1a\ndamaged in storage"))
    response = api.get(item_url("item-download", item) + "?thumbnail=true")
    assert response.status_code == 400
    assert response.json()["reason"] == "no_thumbnail"
