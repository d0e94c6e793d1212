"""The archive routes through the API: import, dry run, export, access."""

import json

import pytest

from seeme.models import Item
from tests.archive.conftest import (
    download_url,
    downloaded,
    label_names,
    post_zip,
    split_names,
    stats_by_name,
    upload_url,
)
from tests.archive.helpers import csv_zip, make_zip, png
from tests.conftest import assert_stats_exact, client_for, db_snapshot
from tests.factories import DatasetFactory, share

pytestmark = pytest.mark.django_db


def folders_zip() -> bytes:
    return make_zip(
        {
            "train/cat/a.png": png(),
            "train/dog/b.png": png((1, 2, 3)),
            "train/c.txt": "an unlabelled text",
            "valid/cat/d.png": png((9, 9, 9)),
            "extra/": None,
        }
    )


def test_folders_import_answers_the_version_with_new_splits_and_labels(api, version):
    response = post_zip(api, upload_url(version, "folders"), folders_zip())
    assert response.status_code == 200, response.data
    body = response.json()
    assert body["id"] == str(version.pk)
    assert [lb["name"] for lb in body["labels"]] == ["cat", "dog"]
    assert {s["name"] for s in body["splits"]} == {"train", "valid", "test", "extra"}
    stats = stats_by_name(version)
    assert stats["train"]["cat"] == (1, 1)
    assert stats["train"]["dog"] == (1, 1)
    assert stats["train"][""] == (1, 0)
    assert stats["train"]["*"] == (3, 2)
    assert stats["valid"]["cat"] == (1, 1)
    assert stats["extra"]["*"] == (0, 0)
    text_item = Item.objects.get(dataset_version=version, name="c.txt")
    assert text_item.text == "an unlabelled text"
    assert_stats_exact()


def test_format_is_detected_when_the_path_names_none(api, version):
    names = "cat\n"
    data = make_zip(
        {
            "obj.names": names,
            "train.txt": "train/1.png\n",
            "train/1.png": png(),
            "train/1.txt": "0 0.5 0.5 0.2 0.2\n",
        }
    )
    response = post_zip(api, upload_url(version), data)
    assert response.status_code == 200, response.data
    assert stats_by_name(version)["train"]["cat"] == (1, 1)


def test_dry_run_reports_and_writes_nothing(api, version):
    before = db_snapshot()
    response = post_zip(api, upload_url(version, "folders", dry_run="true"), folders_zip())
    assert response.status_code == 200, response.data
    report = response.json()
    assert db_snapshot() == before
    assert report["items"] == 4
    train = next(s for s in report["splits"] if s["name"] == "train")
    assert train == {
        "name": "train",
        "new": False,
        "items": 3,
        "annotations": 2,
        "unlabelled": 1,
        "labels": {"cat": {"items": 1, "annotations": 1}, "dog": {"items": 1, "annotations": 1}},
    }
    assert {s["name"]: s["new"] for s in report["splits"]}["extra"] is True
    assert report["labels"] == [{"name": "cat", "new": True}, {"name": "dog", "new": True}]
    assert report["problems"] == []


def test_the_dry_run_report_is_what_the_import_writes(api, version):
    """Imported into a version that already has items: the report's per split and label
    numbers are exactly how far the statistics move."""
    post_zip(api, upload_url(version, "folders"), folders_zip())
    before = stats_by_name(version)
    second = make_zip(
        {"train/dog/x.png": png((5, 5, 5)), "train/dog/y.txt": "y", "test/z.txt": "z"}
    )
    report = post_zip(api, upload_url(version, "folders", dry_run="true"), second).json()
    assert post_zip(api, upload_url(version, "folders"), second).status_code == 200
    after = stats_by_name(version)
    for split in report["splits"]:
        name = split["name"]
        moved = {
            k: (after[name][k][0] - before[name][k][0], after[name][k][1] - before[name][k][1])
            for k in after[name]
        }
        assert moved["*"] == (split["items"], split["annotations"])
        assert moved[""] == (split["unlabelled"], 0)
        for label, numbers in split["labels"].items():
            assert moved[label] == (numbers["items"], numbers["annotations"])
        untouched = set(after[name]) - set(split["labels"]) - {"*", ""}
        assert all(moved[k] == (0, 0) for k in untouched)
    assert_stats_exact()


def test_importing_reuses_splits_and_labels_by_name(api, version):
    post_zip(api, upload_url(version, "folders"), folders_zip())
    post_zip(api, upload_url(version, "folders"), make_zip({"train/cat/z.png": png((7, 7, 7))}))
    assert label_names(version) == ["cat", "dog"]
    assert stats_by_name(version)["train"]["cat"] == (2, 2)
    assert_stats_exact()


def test_csv_import_with_the_sdk_config(api, user):
    dataset = DatasetFactory(owner=user, content_type="tabular", default_splits=False)
    version = dataset.versions.get()
    rows = "a,b,split,labels\n1,x,train,yes\n2,y,train,no\n3,z,valid,\n"
    response = post_zip(api, upload_url(version, "csv"), csv_zip(rows))
    assert response.status_code == 200, response.data
    assert split_names(version) == {"train", "valid"}
    stats = stats_by_name(version)
    assert stats["train"]["yes"] == (1, 1) and stats["valid"][""] == (1, 0)
    texts = sorted(Item.objects.filter(dataset_version=version).values_list("text", flat=True))
    assert json.loads(texts[0]) == {"a": "1", "b": "x"}


def test_csv_without_split_column_goes_to_the_default_split(api, user):
    dataset = DatasetFactory(owner=user, content_type="tabular", default_splits=False)
    version = dataset.versions.get()
    response = post_zip(api, upload_url(version, "csv"), csv_zip("a,b\n1,2\n3,4\n"))
    assert response.status_code == 200, response.data
    assert stats_by_name(version)["train"][""] == (2, 0)


def test_download_folders_streams_the_layout(api, version):
    post_zip(api, upload_url(version, "folders"), folders_zip())
    archive = downloaded(api.get(download_url(version)))
    names = set(archive.namelist())
    assert {"train/cat/a.png", "train/dog/b.png", "train/c.txt", "valid/cat/d.png"} <= names
    assert archive.read("train/c.txt") == b"an unlabelled text"
    assert archive.read("train/cat/a.png") == png()
    assert "extra/" in names and "test/cat/" in names


def test_download_one_split(api, version, splits):
    post_zip(api, upload_url(version, "folders"), folders_zip())
    archive = downloaded(api.get(download_url(version, splits["train"], format="manifest-jsonl")))
    lines = [json.loads(x) for x in archive.read("manifest.jsonl").decode().splitlines()]
    assert {line["split"] for line in lines} == {"train"}
    assert len(lines) == 3


def test_download_unknown_format_is_a_json_400(api, version):
    response = api.get(download_url(version, format="tar"))
    assert response.status_code == 400
    assert "format" in response.json()["message"]


def test_download_split_of_another_version_is_404(api, version, user):
    other = DatasetFactory(owner=user).versions.get()
    split = other.splits.first()
    assert api.get(download_url(version, split)).status_code == 404


def test_strangers_get_404_viewers_403_on_upload(version, other_user):
    stranger = client_for(other_user)
    assert stranger.get(download_url(version)).status_code == 404
    assert post_zip(stranger, upload_url(version, "folders"), folders_zip()).status_code == 404
    share(version.dataset, other_user, "viewer")
    assert downloaded(stranger.get(download_url(version)))
    assert post_zip(stranger, upload_url(version, "folders"), folders_zip()).status_code == 403
    assert not Item.objects.exists()


def test_upload_without_file_part_is_400(api, version):
    response = api.post(upload_url(version, "folders"), {"other": "x"}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["message"]


def test_unknown_import_format_is_400(api, version):
    response = post_zip(api, upload_url(version, "tar"), folders_zip())
    assert response.status_code == 400
    assert "unknown format" in response.json()["problems"][0]["reason"]
