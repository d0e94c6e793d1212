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


@pytest.mark.parametrize("fmt", ["folders", "manifest", "csv", "yolo", "spacy-ner", "coco"])
def test_export_queries_do_not_grow_with_the_items(user, fmt):
    """Chunks of 2,000 items: the same number of queries for 3 items and for 40."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from labels.archive.export import export_zip
    from labels.archive.rows import ExportScope

    counts = []
    for n in (3, 40):
        version = DatasetFactory(owner=user, multi_label=True).versions.get()
        api = client_for(user)
        entries = {f"train/cat/{i}.txt": f"t{i}" for i in range(n)}
        entries.update({f"valid/dog/{i}.png": png((i, 0, 0)) for i in range(n)})
        assert post_zip(api, upload_url(version, "folders"), make_zip(entries)).status_code == 200
        with CaptureQueriesContext(connection) as queries:
            size = sum(len(chunk) for chunk in export_zip(ExportScope.of(version), fmt))
        assert size > 0
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_coco_export_has_pixel_boxes(api, version):
    data = make_zip(
        {
            "obj.names": "car\nbike\n",
            "train.txt": "train/1.png\ntrain/2.png\n",
            "train/1.png": png(size=(200, 100)),
            "train/1.txt": "1 0.5 0.5 0.5 0.5\n",
            "train/2.png": png((0, 0, 0), size=(10, 10)),
        }
    )
    assert post_zip(api, upload_url(version, "yolo"), data).status_code == 200
    archive = downloaded(api.get(download_url(version, format="coco")))
    doc = json.loads(archive.read("annotations/train.json"))
    assert [c["name"] for c in doc["categories"]] == ["car", "bike"]
    assert [(i["id"], i["width"], i["height"]) for i in doc["images"]] == [
        (1, 200, 100),
        (2, 10, 10),
    ]
    (box,) = doc["annotations"]
    assert box["image_id"] == 1 and box["category_id"] == 2
    assert box["bbox"] == [50.0, 25.0, 100.0, 50.0]
    assert archive.read(doc["images"][0]["file_name"]) == png(size=(200, 100))


def test_manifest_lists_every_item_with_its_file(api, version):
    post_zip(api, upload_url(version, "folders"), folders_zip())
    archive = downloaded(api.get(download_url(version, format="manifest")))
    lines = [json.loads(x) for x in archive.read("manifest.jsonl").decode().splitlines()]
    rows = archive.read("manifest.csv").decode().splitlines()
    assert len(lines) == 4 and len(rows) == 5 and rows[0].startswith("item_id,name,file")
    image = next(line for line in lines if line["name"] == "a.png")
    assert image["labels"] == ["cat"] and image["split"] == "train"
    assert archive.read(image["file"]) == png()
    text = next(line for line in lines if line["name"] == "c.txt")
    assert text["file"] == "" and text["labels"] == []


def test_yolo_export_reads_pixel_boxes_like_the_item_page(api, version, splits):
    """A box written in pixels ("x_min,y_min,x_max,y_max", as labels.regions reads it) is
    exported relative to the image's size."""
    from labels import services as label_services
    from labels.models import Label

    data = make_zip({"train/cat/a.png": png(size=(200, 100))})
    assert post_zip(api, upload_url(version, "folders"), data).status_code == 200
    item = Item.objects.get(dataset_version=version)
    cat = Label.objects.get(version=version, name="cat")
    version.dataset.multi_label = True
    version.dataset.save()
    label_services.annotation_create(
        version=version,
        user=None,
        label_id=cat.pk,
        item_id=item.pk,
        split_id=splits["train"].pk,
        coordinates="20,10,120,60",
    )
    archive = downloaded(api.get(download_url(version, format="yolo")))
    assert archive.read(f"train/{item.pk}.txt") == b"0 0.350000 0.350000 0.500000 0.500000\n"
    assert archive.read("obj.names") == b"cat\n"
    assert archive.read("train.txt") == f"train/{item.pk}.png\n".encode()


@pytest.mark.parametrize(
    ("role", "upload", "download"),
    [
        ("owner", 200, 200),
        ("editor", 200, 200),
        ("annotator", 403, 200),
        ("viewer", 403, 200),
        ("stranger", 404, 404),
        ("anonymous", 401, 401),
    ],
)
def test_role_matrix(version, role, upload, download):
    from rest_framework.test import APIClient

    from tests.factories import UserFactory

    if role == "owner":
        client = client_for(version.dataset.owner)
    elif role == "anonymous":
        client = APIClient()
    else:
        someone = UserFactory()
        if role != "stranger":
            share(version.dataset, someone, role)
        client = client_for(someone)
    before = db_snapshot()
    answer = post_zip(client, upload_url(version, "folders"), make_zip({"train/a.txt": "a"}))
    assert answer.status_code == upload
    assert answer["Content-Type"] == "application/json"
    if upload != 200:
        assert db_snapshot() == before
    assert client.get(download_url(version)).status_code == download
    assert client.get(download_url(version, version.splits.first())).status_code == download


def test_csv_on_a_text_dataset_fills_name_and_text(api, user):
    dataset = DatasetFactory(owner=user, content_type="text", multi_label=True)
    version = dataset.versions.get()
    rows = 'name,text,split,labels\nfirst,"hello, world",train,greeting polite\nsecond,bye,valid,\n'
    data = csv_zip(rows, multi_label=True)
    assert post_zip(api, upload_url(version, "csv"), data).status_code == 200
    first = Item.objects.get(dataset_version=version, name="first")
    assert first.text == "hello, world"
    assert stats_by_name(version)["train"]["*"] == (1, 2)
    archive = downloaded(api.get(download_url(version, format="csv")))
    config = json.loads(archive.read("config.json"))
    assert config["filename"] == f"{version.pk}.csv" and config["multi_label"] is True
    lines = archive.read(config["filename"]).decode().splitlines()
    assert lines[0] == "name,text,split,labels"
    assert '"hello, world",train,greeting polite' in lines[1]


def test_csv_single_label_cell_is_one_label_spaces_and_all(api, user):
    dataset = DatasetFactory(owner=user, content_type="tabular", default_splits=False)
    version = dataset.versions.get()
    rows = "x,split,labels\n1,train,big cat\n2,train,big cat\n"
    response = post_zip(api, upload_url(version, "csv"), csv_zip(rows, multi_label=False))
    assert response.status_code == 200, response.json()
    assert label_names(version) == ["big cat"]
    assert stats_by_name(version)["train"]["big cat"] == (2, 2)


@pytest.mark.parametrize(
    ("entries", "fmt", "split", "label"),
    [
        ({"data/train/cat/1.png": png(), "data/valid/2.txt": "x"}, "folders", "train", "cat"),
        (
            {
                "export/obj.names": "car\n",
                "export/obj.data": "classes = 1\n",
                "export/train.txt": "data/obj_train_data/1.png\n",
                "export/obj_train_data/1.png": png(),
                "export/obj_train_data/1.txt": "0 0.5 0.5 0.2 0.2\n",
            },
            "yolo",
            "train",
            "car",
        ),
        (
            {"t/config.json": '{"filename": "d.csv"}', "t/d.csv": "a,split,labels\n1,train,y\n"},
            "csv",
            "train",
            "y",
        ),
        ({"n/train.json": '[["Ada", {"entities": [[0, 3, "PER"]]}]]'}, "spacy-ner", "train", "PER"),
    ],
)
def test_a_zipped_folder_is_read_from_inside_it(api, user, entries, fmt, split, label):
    """``zip -r x.zip data/`` puts everything one folder down; the format is still detected
    (the path names none) and the layout read from inside that folder. CVAT's YOLO lists
    (``data/obj_train_data/...``) and its ``obj.data`` are understood."""
    version = DatasetFactory(owner=user, multi_label=True).versions.get()
    response = post_zip(api, upload_url(version), make_zip(entries))
    assert response.status_code == 200, response.json()
    assert stats_by_name(version)[split][label] == (1, 1)
    assert split_names(version) >= {split}
    assert "data" not in split_names(version)


def test_one_split_folders_archive_is_not_mistaken_for_a_wrapper(api, user):
    version = DatasetFactory(owner=user, multi_label=True).versions.get()
    data = make_zip({"train/cat/1.png": png(), "train/notes.json": '{"a": 1}'})
    assert post_zip(api, upload_url(version), data).status_code == 200
    assert stats_by_name(version)["train"]["cat"] == (1, 1)
    assert stats_by_name(version)["train"][""] == (1, 0)
