"""The SDK's four archive methods against a live server: ``upload_df``, ``download_df``,
``upload_dataset_version`` and ``download_dataset``, for every format."""

import json
import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from labels.models import LabelStat
from seeme.models import Dataset, Item
from tests.archive.helpers import png
from tests.conftest import assert_stats_exact
from tests.factories import UserFactory
from tests.test_sdk_e2e import _client, _types, backend, logged_in  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
DatasetFormat = _types.DatasetFormat
SDKDataset = _types.Dataset


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """The SDK writes its zips and CSVs in the working directory."""
    monkeypatch.chdir(tmp_path)
    # download_dataset keeps the last format in its mutable default ``params`` (an SDK
    # quirk): start every test from the default format.
    _client.Client.download_dataset.__defaults__[-1].clear()
    return tmp_path


@pytest.fixture
def client(backend):  # noqa: F811
    return logged_in(backend, UserFactory())


def stats(version_id: str) -> dict:
    return {
        (row.split.name, row.label.name if row.label else row.kind): (
            row.item_count,
            row.annotation_count,
        )
        for row in LabelStat.objects.filter(split__version_id=version_id).select_related(
            "split", "label"
        )
    }


def test_upload_df_then_download_df_gives_the_frame_back(client, tmp_path):
    frame = pd.DataFrame(
        {
            "height": [1.5, 2.25, 3.0, 4.0],
            "colour": ["red", "green", "blue, dark", "red"],
            "split": ["train", "train", "valid", "valid"],
            "labels": ["tall", "short", "tall", "short"],
        }
    )
    version = client.upload_df(frame, name="plants")
    assert {s.name for s in version.splits} == {"train", "valid"}
    assert [lb.name for lb in version.labels] == ["tall", "short"]
    assert stats(version.id)[("train", "tall")] == (1, 1)
    assert stats(version.id)[("valid", "total")] == (2, 2)
    assert not list(tmp_path.glob("*.zip"))  # the SDK cleaned up after a success
    assert_stats_exact()

    back = client.download_df(version.dataset_id, version.id, download_folder=str(tmp_path / "dl"))
    pd.testing.assert_frame_equal(back, frame)


def test_upload_df_without_split_or_label_columns(client):
    frame = pd.DataFrame({"x": [1, 2, 3]})
    version = client.upload_df(frame, name="plain")
    assert [s.name for s in version.splits] == ["train"]
    assert stats(version.id)[("train", "unlabelled")] == (3, 0)


def test_upload_df_single_label_with_spaces_in_labels(client):
    """upload_df's default label separator is a space: on a single-label dataset a label
    with spaces stays one label (the cell is only split when multi_label is true)."""
    frame = pd.DataFrame({"x": [1, 2], "split": ["train", "valid"], "labels": ["big cat", "dog"]})
    version = client.upload_df(frame, name="spaced", multi_label=False)
    assert [lb.name for lb in version.labels] == ["big cat", "dog"]
    assert stats(version.id)[("train", "big cat")] == (1, 1)


def test_refused_upload_df_writes_nothing_into_the_dataset(client):
    """A label name over 255 characters: 400 naming it, and the dataset the SDK made
    first stays as it was (no items, splits or labels half-written)."""
    frame = pd.DataFrame({"x": [1], "split": ["train"], "labels": ["x" * 300]})
    with pytest.raises(_client.requests.exceptions.HTTPError) as caught:
        client.upload_df(frame, name="bad", multi_label=False)
    assert caught.value.response.status_code == 400
    assert "longer than 255" in caught.value.response.json()["problems"][0]["reason"]
    dataset = Dataset.objects.get(name="bad")
    assert not Item.objects.filter(dataset_version__dataset=dataset).exists()
    assert not dataset.versions.get().splits.exists()


def folders_dir(root: Path) -> None:
    (root / "train" / "cat").mkdir(parents=True)
    (root / "train" / "dog").mkdir(parents=True)
    (root / "valid").mkdir(parents=True)
    (root / "train" / "cat" / "1.png").write_bytes(png())
    (root / "train" / "dog" / "2.png").write_bytes(png((0, 0, 255)))
    (root / "valid" / "3.txt").write_text("a text item")


def zip_dir(root: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(root.rglob("*")):
            zf.write(path, path.relative_to(root).as_posix())


ARCHIVES = {
    DatasetFormat.FOLDERS: ("images", folders_dir),
    DatasetFormat.YOLO: (
        "images",
        lambda root: (
            (root / "train").mkdir(),
            (root / "obj.names").write_text("car\nbike\n"),
            (root / "config.json").write_text(json.dumps({"colors": {"car": "#ff0000"}})),
            (root / "train.txt").write_text("train/a.png\n"),
            (root / "train" / "a.png").write_bytes(png()),
            (root / "train" / "a.txt").write_text("1 0.5 0.5 0.25 0.25\n0 0.25 0.25 0.1 0.1\n"),
        ),
    ),
    DatasetFormat.CSV: (
        "tabular",
        lambda root: (
            (root / "config.json").write_text(
                json.dumps({"filename": "t.csv", "csv_separator": ";", "label_column": "y"})
            ),
            (root / "t.csv").write_text("x;split;y\n1;train;car\n2;valid;bike\n"),
        ),
    ),
    DatasetFormat.SPACY_NER: (
        "ner",
        lambda root: (
            (root / "train.json").write_text(
                json.dumps(
                    [["Ada lives in London", {"entities": [[0, 3, "PER"], [13, 19, "LOC"]]}]]
                )
            ),
        ),
    ),
}


@pytest.mark.parametrize("fmt", list(ARCHIVES), ids=lambda f: f.value)
def test_upload_dataset_version_and_download_dataset(client, tmp_path, fmt):
    content_type, make = ARCHIVES[fmt]
    dataset = client.create_dataset(
        SDKDataset(name=f"sdk {fmt.value}", content_type=content_type, multi_label=True)
    )
    version = dataset.versions[0]
    source = tmp_path / "source"
    source.mkdir()
    make(source)
    zip_dir(source, tmp_path / "dataset.zip")

    uploaded = client.upload_dataset_version(
        dataset.id, version.id, folder=str(tmp_path), filename="dataset.zip", format=fmt
    )
    assert uploaded.id == version.id
    assert uploaded.labels and uploaded.splits
    before = stats(version.id)
    assert any(n for n, _ in before.values())
    assert_stats_exact()

    out = tmp_path / "out"
    client.download_dataset(dataset.id, version.id, extract_to_folder=str(out), export_format=fmt)
    assert sorted(os.listdir(out))
    # Uploaded again into a fresh version of the same dataset: the same numbers.
    again = client.create_dataset(
        SDKDataset(name=f"again {fmt.value}", content_type=content_type, multi_label=True)
    ).versions[0]
    zip_dir(out, tmp_path / "again.zip")
    client.upload_dataset_version(
        again.dataset_id, again.id, folder=str(tmp_path), filename="again.zip", format=fmt
    )
    assert {k: v for k, v in stats(again.id).items()} == before


def test_download_dataset_of_one_split(client, tmp_path):
    dataset = client.create_dataset(SDKDataset(name="one split", content_type="images"))
    version = dataset.versions[0]
    source = tmp_path / "source"
    folders_dir(source)
    zip_dir(source, tmp_path / "dataset.zip")
    uploaded = client.upload_dataset_version(
        dataset.id, version.id, folder=str(tmp_path), filename="dataset.zip"
    )
    train = next(s for s in uploaded.splits if s.name == "train")
    client.download_dataset(dataset.id, version.id, split_id=train.id, extract_to_folder="one")
    files = sorted(
        p.relative_to(tmp_path / "one").as_posix() for p in (tmp_path / "one").rglob("*.png")
    )
    assert files == ["train/cat/1.png", "train/dog/2.png"]
    assert (tmp_path / "one" / "train" / "cat" / "1.png").read_bytes() == png()
