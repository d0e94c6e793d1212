"""The official SDK's file methods against a live server: what it sends, what it reads back."""

import hashlib
import io

import pytest
import requests
from PIL import Image

from seeme.models import Blob, Item, Role
from tests.factories import UserFactory, share
from tests.files import samples
from tests.test_sdk_e2e import Dataset, DatasetItem, logged_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backend(live_server) -> str:
    return live_server.url + "/api/v1/"


@pytest.fixture
def world(backend, tmp_path):
    owner = UserFactory()
    client = logged_in(backend, owner)
    dataset = client.create_dataset(
        Dataset(name="pictures", content_type="images", multi_label=False, default_splits=True)
    )
    version = dataset.versions[0]
    train = next(s for s in version.splits if s.name == "train")
    folder = tmp_path / "files"
    folder.mkdir()
    return {
        "owner": owner,
        "client": client,
        "ds": dataset.id,
        "v": version.id,
        "train": train,
        "folder": folder,
        "out": tmp_path,
    }


def new_item(w, name="x"):
    return w["client"].create_dataset_item(
        w["ds"], w["v"], DatasetItem(name=name, splits=[w["train"]])
    )


@pytest.mark.parametrize(
    ("filename", "data", "extension"),
    [
        ("cat.jpg", samples.jpeg(size=(80, 60)), "jpg"),
        ("cat.jpeg", samples.jpeg(size=(60, 80)), "jpg"),
        ("cat.png", samples.png(), "png"),
        ("paper.pdf", samples.PDF, "pdf"),
        ("old.doc", samples.DOC, "doc"),
        ("new.docx", samples.docx(), "docx"),
    ],
)
def test_sdk_upload_then_download_is_byte_exact(world, filename, data, extension):
    client = world["client"]
    (world["folder"] / filename).write_bytes(data)
    item = new_item(world, filename)
    uploaded = client.upload_dataset_item_file(
        world["ds"], world["v"], item.id, str(world["folder"]), filename
    )
    assert uploaded.id == item.id
    assert uploaded.extension == extension
    assert uploaded.version == item.version + 1
    target = world["out"] / f"back.{extension}"
    client.download_dataset_item_image(world["ds"], world["v"], item.id, str(target))
    assert target.read_bytes() == data
    assert Item.objects.get(pk=item.id).content_hash == hashlib.sha256(data).hexdigest()


def test_sdk_image_upload_and_thumbnail(world):
    client = world["client"]
    data = samples.jpeg(size=(1000, 500))
    (world["folder"] / "big.jpg").write_bytes(data)
    item = new_item(world, "big")
    uploaded = client.upload_dataset_item_image(
        world["ds"], world["v"], item.id, str(world["folder"]), "big.jpg"
    )
    assert uploaded.extension == "jpg"
    thumb = world["out"] / "thumb.jpg"
    client.download_dataset_item_image(world["ds"], world["v"], item.id, str(thumb), thumbnail=True)
    img = Image.open(io.BytesIO(thumb.read_bytes()))
    assert img.format == "JPEG"
    assert max(img.size) == 256 and img.size[0] == 2 * img.size[1]


def test_sdk_same_picture_twice_is_stored_once(world):
    client = world["client"]
    (world["folder"] / "a.png").write_bytes(samples.png())
    for name in ("one", "two"):
        item = new_item(world, name)
        client.upload_dataset_item_image(
            world["ds"], world["v"], item.id, str(world["folder"]), "a.png"
        )
    assert Blob.objects.count() == 1
    hashes = set(
        Item.objects.filter(dataset_version_id=world["v"]).values_list("content_hash", flat=True)
    )
    assert hashes == {hashlib.sha256(samples.png()).hexdigest()}


def test_sdk_refused_upload_raises_with_the_reason(world):
    client = world["client"]
    (world["folder"] / "evil.png").write_bytes(samples.HTML)
    item = new_item(world)
    with pytest.raises(requests.HTTPError) as caught:
        client.upload_dataset_item_file(
            world["ds"], world["v"], item.id, str(world["folder"]), "evil.png"
        )
    assert caught.value.response.status_code == 400
    assert caught.value.response.json()["reason"] == "scriptable"
    assert Item.objects.get(pk=item.id).extension == ""


def test_sdk_logo(world, monkeypatch):
    client = world["client"]
    (world["folder"] / "logo.png").write_bytes(samples.png())
    dataset = client.upload_dataset_logo(world["ds"], str(world["folder"]), "logo.png")
    assert dataset.id == world["ds"]
    assert dataset.logo == f"{world['ds']}.png" and dataset.has_logo
    # get_dataset_logo writes the file named by ``logo`` into the working directory.
    monkeypatch.chdir(world["out"])
    client.get_dataset_logo(client.get_dataset(world["ds"]))
    assert (world["out"] / dataset.logo).read_bytes() == samples.png()


def test_sdk_viewer_may_download_but_not_upload(world, backend):
    client = world["client"]
    (world["folder"] / "a.jpg").write_bytes(samples.jpeg())
    item = new_item(world)
    client.upload_dataset_item_image(
        world["ds"], world["v"], item.id, str(world["folder"]), "a.jpg"
    )
    viewer = UserFactory()
    from seeme.models import Dataset as DatasetRow

    share(DatasetRow.objects.get(pk=world["ds"]), viewer, Role.VIEWER)
    as_viewer = logged_in(backend, viewer)
    target = world["out"] / "v.jpg"
    as_viewer.download_dataset_item_image(world["ds"], world["v"], item.id, str(target))
    assert target.read_bytes() == samples.jpeg()
    with pytest.raises(requests.HTTPError) as caught:
        as_viewer.upload_dataset_item_image(
            world["ds"], world["v"], item.id, str(world["folder"]), "a.jpg"
        )
    assert caught.value.response.status_code == 403
    stranger = logged_in(backend, UserFactory())
    with pytest.raises(requests.HTTPError) as caught:
        stranger.download_dataset_item_image(world["ds"], world["v"], item.id, str(target))
    assert caught.value.response.status_code == 404
