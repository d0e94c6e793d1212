"""Splits through /api/v1: CRUD, name rules, split delete, add_inferences and removing an
item from a split."""

import pytest
from django.urls import reverse

from labels.models import Annotation, LabelStat
from seeme.models import Item
from splits.models import DatasetSplit, ItemSplit
from tests.conftest import assert_stats_exact
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    ItemFactory,
    LabelFactory,
    SplitFactory,
    VersionFactory,
)

SPLIT_FIELDS = {"id", "created_at", "updated_at", "name", "description", "user_id", "version_id"}
ADD_INFERENCES_FIELDS = {"keep_annotations", "inferences"}


def vkw(version) -> dict:
    return {"dataset_id": version.dataset_id, "version_id": version.pk}


def splits_url(version, split=None):
    if split is None:
        return reverse("split-list", kwargs=vkw(version))
    return reverse("split-detail", kwargs={**vkw(version), "pk": split.pk})


def inferences_url(split):
    return reverse("split-add-inferences", kwargs={**vkw(split.version), "pk": split.pk})


def remove_url(split, item):
    return reverse(
        "split-remove-item", kwargs={**vkw(split.version), "pk": split.pk, "item_id": item.pk}
    )


def stats(api, split) -> dict:
    url = reverse("label-stats", kwargs={**vkw(split.version), "split_id": split.pk})
    return {r["label_id"]: (r["annotation_count"], r["item_count"]) for r in api.get(url).json()}


def table_sizes() -> tuple[int, int, int, int]:
    return (
        Item.objects.count(),
        ItemSplit.objects.count(),
        Annotation.objects.count(),
        DatasetSplit.objects.count(),
    )


# -- CRUD ------------------------------------------------------------------------------------


def test_split_list_in_creation_order(api, version, splits):
    response = api.get(splits_url(version))
    assert response.status_code == 200
    body = response.json()
    assert [s["name"] for s in body] == ["train", "valid", "test"]
    assert all(set(s) == SPLIT_FIELDS and s["version_id"] == str(version.pk) for s in body)


def test_split_list_is_an_empty_array(api, user):
    bare = DatasetFactory(owner=user, default_splits=False).versions.get()
    assert api.get(splits_url(bare)).json() == []


def test_split_create(api, user, version):
    response = api.post(splits_url(version), {"name": "holdout", "description": "d"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == SPLIT_FIELDS
    assert (body["name"], body["description"]) == ("holdout", "d")
    assert body["user_id"] == str(user.pk) and body["version_id"] == str(version.pk)
    split = DatasetSplit.objects.get(pk=body["id"])
    assert split.version == version
    assert stats(api, split) == {"": (0, 0)}
    assert_stats_exact()


def test_split_create_has_a_zero_row_per_label(api, version):
    cat = LabelFactory(version=version, name="cat")
    dog = LabelFactory(version=version, name="dog")
    body = api.post(splits_url(version), {"name": "holdout"}, format="json").json()
    url = reverse("label-stats", kwargs={**vkw(version), "split_id": body["id"]})
    rows = api.get(url).json()
    assert [(r["label_id"], r["count"]) for r in rows] == [
        (str(cat.pk), 0),
        (str(dog.pk), 0),
        ("", 0),
    ]


def test_split_name_required_empty_body_says_so(api, version):
    response = api.post(splits_url(version), {}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "name" in body["message"] and "required" in body["message"]
    assert body["errors"]["name"]
    assert DatasetSplit.objects.count() == 3


def test_split_name_required_raw_curl_body(api, version):
    """The seed's ``curl -d '{}'`` sends form-urlencoded without saying JSON."""
    response = api.generic(
        "POST", splits_url(version), "{}", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "name" in response.json()["message"]


@pytest.mark.parametrize("name", ["", None, "x" * 256, 5, True, ["a"], {"a": 1}])
def test_split_name_must_be_1_to_255_characters(api, version, name):
    response = api.post(splits_url(version), {"name": name}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    assert DatasetSplit.objects.count() == 3


def test_split_name_of_255_characters(api, version):
    response = api.post(splits_url(version), {"name": "é" * 255}, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "é" * 255


def test_split_duplicate_name_is_409(api, version):
    response = api.post(splits_url(version), {"name": "train"}, format="json")
    assert response.status_code == 409
    assert "train" in response.json()["message"]
    assert DatasetSplit.objects.count() == 3


def test_split_retrieve(api, version, splits):
    body = api.get(splits_url(version, splits["valid"])).json()
    assert set(body) == SPLIT_FIELDS
    assert body["id"] == str(splits["valid"].pk) and body["name"] == "valid"


def test_split_update(api, version, splits):
    response = api.put(
        splits_url(version, splits["valid"]),
        {"name": "validation", "description": "dev set", "id": None, "version_id": ""},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SPLIT_FIELDS
    assert (body["name"], body["description"]) == ("validation", "dev set")
    assert body["id"] == str(splits["valid"].pk)
    splits["valid"].refresh_from_db()
    assert splits["valid"].name == "validation"


def test_split_update_without_name_keeps_it(api, version, splits):
    response = api.put(splits_url(version, splits["test"]), {"description": "d"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "test"


@pytest.mark.parametrize("name", ["", None, "x" * 256])
def test_split_update_with_an_invalid_name_is_400(api, version, splits, name):
    response = api.put(splits_url(version, splits["test"]), {"name": name}, format="json")
    assert response.status_code == 400
    splits["test"].refresh_from_db()
    assert splits["test"].name == "test"


def test_split_rename_to_a_taken_name_is_409(api, version, splits):
    response = api.put(splits_url(version, splits["test"]), {"name": "train"}, format="json")
    assert response.status_code == 409
    splits["test"].refresh_from_db()
    assert splits["test"].name == "test"


def test_split_delete_removes_memberships_and_annotations_but_not_items(api, version, splits):
    train, valid = splits["train"], splits["valid"]
    cat = LabelFactory(version=version, name="cat")
    shared = ItemFactory(dataset_version=version, splits=[train, valid])
    only_train = ItemFactory(dataset_version=version, splits=[train])
    AnnotationFactory(item=shared, split=train, label=cat)
    AnnotationFactory(item=shared, split=valid, label=cat)
    AnnotationFactory(item=only_train, split=train, label=cat)

    response = api.delete(splits_url(version, train))
    assert response.status_code == 204
    assert not DatasetSplit.objects.filter(pk=train.pk).exists()
    assert set(Item.objects.values_list("pk", flat=True)) == {shared.pk, only_train.pk}
    assert list(ItemSplit.objects.values_list("item_id", "split_id")) == [(shared.pk, valid.pk)]
    assert list(Annotation.objects.values_list("split_id", flat=True)) == [valid.pk]
    assert not LabelStat.objects.filter(split_id=train.pk).exists()
    assert stats(api, valid) == {str(cat.pk): (1, 1), "": (0, 0)}
    assert_stats_exact()


def test_split_of_another_version_is_404(api, dataset, version):
    foreign = SplitFactory(version=VersionFactory(dataset=dataset, name="v2"), name="x")
    assert api.get(splits_url(version, foreign)).status_code == 404
    assert api.put(splits_url(version, foreign), {"name": "y"}, format="json").status_code == 404
    assert api.delete(splits_url(version, foreign)).status_code == 404
    assert DatasetSplit.objects.filter(pk=foreign.pk, name="x").exists()


# -- add_inferences --------------------------------------------------------------------------


@pytest.fixture
def labels(version):
    return {n: LabelFactory(version=version, name=n) for n in ("cat", "dog", "bird")}


def annotations_of(item_id) -> list[tuple[str, str]]:
    return sorted(
        Annotation.objects.filter(item_id=item_id).values_list("label__name", "coordinates")
    )


def test_add_inferences_single_label_keeps_best_whole_prediction_and_regions(
    api, version, splits, labels
):
    train = splits["train"]
    body = {
        "keep_annotations": True,
        "inferences": [
            {
                "name": "a.jpg",
                "description": "from the model",
                "extension": "jpg",
                "prediction": "bird",
                "confidence": 0.99,
                "inference_items": [
                    {"prediction": "cat", "confidence": 0.2, "coordinates": ""},
                    {"prediction": "dog", "confidence": 0.9, "coordinates": ""},
                    {"prediction": "cat", "confidence": 0.1, "coordinates": "1,2,3,4"},
                    {"prediction": "cat", "confidence": 0.3, "coordinates": "5,6,7,8"},
                ],
            }
        ],
    }
    response = api.post(inferences_url(train), body, format="json")
    assert response.status_code == 200, response.json()
    [inference] = response.json()["inferences"]
    item = Item.objects.get(pk=inference["dataset_item_id"])
    assert (item.name, item.description, item.extension, item.text) == (
        "a.jpg",
        "from the model",
        "jpg",
        "",
    )
    assert item.dataset_version == version
    assert list(item.splits.all()) == [train]
    assert annotations_of(item.pk) == [("cat", "1,2,3,4"), ("cat", "5,6,7,8"), ("dog", "")]
    assert stats(api, train) == {
        str(labels["cat"].pk): (2, 1),
        str(labels["dog"].pk): (1, 1),
        str(labels["bird"].pk): (0, 0),
        "": (0, 0),
    }
    assert_stats_exact()


def test_add_inferences_multi_label_keeps_every_prediction(api, user, splits):
    dataset = DatasetFactory(owner=user, multi_label=True)
    version = dataset.versions.get()
    train = version.splits.get(name="train")
    for n in ("cat", "dog"):
        LabelFactory(version=version, name=n)
    body = {
        "inferences": [
            {
                "inference_items": [
                    {"prediction": "cat", "confidence": 0.2},
                    {"prediction": "dog", "confidence": 0.9},
                ]
            }
        ]
    }
    response = api.post(inferences_url(train), body, format="json")
    assert response.status_code == 200
    item_id = response.json()["inferences"][0]["dataset_item_id"]
    assert annotations_of(item_id) == [("cat", ""), ("dog", "")]
    assert_stats_exact()


def test_add_inferences_uses_the_top_level_prediction_without_inference_items(api, splits, labels):
    train = splits["train"]
    body = {
        "inferences": [
            {"name": "one", "prediction": "dog", "confidence": 0.7},
            {"name": "two", "prediction": "cat", "inference_items": []},
            {
                "name": "three",
                "prediction": "cat",
                "inference_items": [{"prediction": "", "confidence": 0.5}],
            },
            {"name": "four", "prediction": ""},
        ]
    }
    response = api.post(inferences_url(train), body, format="json")
    assert response.status_code == 200
    ids = [i["dataset_item_id"] for i in response.json()["inferences"]]
    assert [annotations_of(i) for i in ids] == [[("dog", "")], [("cat", "")], [("cat", "")], []]
    assert stats(api, train)[""] == (0, 1)
    assert_stats_exact()


def test_add_inferences_without_keep_annotations_adds_unlabelled_items(api, splits, labels):
    train = splits["train"]
    body = {
        "keep_annotations": False,
        "inferences": [
            {"name": "a", "prediction": "cat"},
            {"name": "b", "inference_items": [{"prediction": "not-a-label"}]},
        ],
    }
    response = api.post(inferences_url(train), body, format="json")
    assert response.status_code == 200
    assert response.json()["keep_annotations"] is False
    assert not Annotation.objects.exists()
    assert Item.objects.count() == 2
    assert stats(api, train)[""] == (0, 2)
    assert_stats_exact()


def test_add_inferences_echoes_the_body_with_item_ids_in_order(api, splits, labels):
    inferences = [
        {
            "name": f"img{i}.png",
            "prediction": "cat",
            "confidence": 0.5,
            "model_id": "m",
            "model_version_id": "mv",
            "extension": "png",
            "config": "{}",
            "result": "cat",
            "dataset_item_id": "",
        }
        for i in range(5)
    ]
    response = api.post(
        inferences_url(splits["valid"]),
        {"keep_annotations": True, "inferences": inferences},
        format="json",
    )
    body = response.json()
    assert set(body) == ADD_INFERENCES_FIELDS
    assert body["keep_annotations"] is True
    echoed = body["inferences"]
    assert [i["name"] for i in echoed] == [i["name"] for i in inferences]
    for sent, got in zip(inferences, echoed, strict=True):
        assert {k: got[k] for k in sent if k != "dataset_item_id"} == {
            k: v for k, v in sent.items() if k != "dataset_item_id"
        }
        assert Item.objects.get(pk=got["dataset_item_id"]).name == sent["name"]
    assert len({i["dataset_item_id"] for i in echoed}) == 5


def test_add_inferences_for_text_takes_text_from_result(api, user):
    dataset = DatasetFactory(owner=user, content_type="text")
    version = dataset.versions.get()
    train = version.splits.get(name="train")
    LabelFactory(version=version, name="positive")
    body = {"inferences": [{"name": "review", "result": "What a film!", "prediction": "positive"}]}
    item_id = api.post(inferences_url(train), body, format="json").json()["inferences"][0][
        "dataset_item_id"
    ]
    assert Item.objects.get(pk=item_id).text == "What a film!"


def test_add_inferences_for_images_leaves_text_empty(api, splits, labels):
    body = {"inferences": [{"name": "a.jpg", "result": "cat", "prediction": "cat"}]}
    item_id = api.post(inferences_url(splits["train"]), body, format="json").json()["inferences"][
        0
    ]["dataset_item_id"]
    assert Item.objects.get(pk=item_id).text == ""


def test_add_inferences_unknown_labels_are_400_listing_them_and_write_nothing(api, splits, labels):
    ItemFactory(dataset_version=splits["train"].version, splits=[splits["train"]])
    before = table_sizes()
    stats_before = list(LabelStat.objects.values_list("id", "annotation_count", "item_count"))
    body = {
        "inferences": [
            {"name": "ok", "prediction": "cat"},
            {"name": "bad", "inference_items": [{"prediction": "zebra"}, {"prediction": "dog"}]},
            {"name": "worse", "prediction": "unicorn"},
        ]
        * 3
    }
    response = api.post(inferences_url(splits["train"]), body, format="json")
    assert response.status_code == 400
    message = response.json()["message"]
    assert "zebra" in message and "unicorn" in message
    assert "cat" not in message
    assert table_sizes() == before
    assert list(LabelStat.objects.values_list("id", "annotation_count", "item_count")) == (
        stats_before
    )


def test_add_inferences_empty_list(api, splits):
    response = api.post(inferences_url(splits["train"]), {"inferences": []}, format="json")
    assert response.status_code == 200
    assert response.json() == {"keep_annotations": True, "inferences": []}


def test_add_inferences_sdk_style_nulls(api, splits, labels):
    """The SDK dumps its pydantic models: unset optional fields arrive as null."""
    body = {
        "keep_annotations": True,
        "inferences": [
            {
                "id": None,
                "created_at": None,
                "updated_at": None,
                "name": None,
                "description": "",
                "prediction": "cat",
                "confidence": None,
                "model_id": "",
                "model_version_id": "",
                "extension": "",
                "user_id": "",
                "error_reported": False,
                "error": "",
                "dataset_item_id": "",
                "result": "",
                "inference_items": None,
                "hidden": False,
                "config": "",
            }
        ],
    }
    response = api.post(inferences_url(splits["train"]), body, format="json")
    assert response.status_code == 200, response.json()
    [echoed] = response.json()["inferences"]
    assert echoed["name"] == "" and echoed["inference_items"] == []
    assert annotations_of(echoed["dataset_item_id"]) == [("cat", "")]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"inferences": None},
        {"inferences": {}},
        {"inferences": "x"},
        {"inferences": [{"confidence": "high"}]},
        {"keep_annotations": "yes", "inferences": []},
        {"inferences": [{"inference_items": {}}]},
        {"inferences": [{"name": "x" * 256}]},
    ],
)
def test_add_inferences_bad_bodies_are_400(api, splits, labels, body):
    before = table_sizes()
    response = api.post(inferences_url(splits["train"]), body, format="json")
    assert response.status_code == 400
    assert response.json()["message"]
    assert table_sizes() == before


def test_add_inferences_count_is_capped(api, splits, settings):
    settings.SEEME_MAX_INFERENCES = 3
    response = api.post(
        inferences_url(splits["train"]),
        {"inferences": [{"name": str(i)} for i in range(4)]},
        format="json",
    )
    assert response.status_code == 400
    assert "3" in response.json()["message"]
    assert not Item.objects.exists()


# -- removing an item from a split -----------------------------------------------------------


def test_remove_item_from_one_of_its_splits_answers_the_item(api, version, splits):
    train, valid = splits["train"], splits["valid"]
    cat = LabelFactory(version=version, name="cat")
    item = ItemFactory(dataset_version=version, splits=[train, valid])
    AnnotationFactory(item=item, split=train, label=cat)
    kept = AnnotationFactory(item=item, split=valid, label=cat)

    response = api.delete(remove_url(train, item))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(item.pk)
    assert [s["id"] for s in body["splits"]] == [str(valid.pk)]
    assert [a["id"] for a in body["annotations"]] == [str(kept.pk)]
    assert list(item.splits.all()) == [valid]
    assert list(Annotation.objects.all()) == [kept]
    assert stats(api, train) == {str(cat.pk): (0, 0), "": (0, 0)}
    assert stats(api, valid) == {str(cat.pk): (1, 1), "": (0, 0)}
    assert_stats_exact()


def test_remove_item_from_its_last_split_deletes_it(api, version, splits):
    train = splits["train"]
    cat = LabelFactory(version=version, name="cat")
    item = ItemFactory(dataset_version=version, splits=[train], name="last.jpg")
    AnnotationFactory(item=item, split=train, label=cat)

    response = api.delete(remove_url(train, item))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(item.pk) and body["name"] == "last.jpg"
    assert body["splits"] == [] and body["annotations"] == []
    assert not Item.objects.filter(pk=item.pk).exists()
    assert not Annotation.objects.exists()
    assert stats(api, train) == {str(cat.pk): (0, 0), "": (0, 0)}
    assert_stats_exact()


def test_remove_item_not_in_the_split_is_404(api, version, splits):
    item = ItemFactory(dataset_version=version, splits=[splits["valid"]])
    response = api.delete(remove_url(splits["train"], item))
    assert response.status_code == 404
    assert list(item.splits.all()) == [splits["valid"]]


def test_remove_item_of_another_version_is_404(api, dataset, version, splits):
    other = VersionFactory(dataset=dataset, name="v2")
    foreign_split = SplitFactory(version=other, name="s")
    foreign = ItemFactory(dataset_version=other, splits=[foreign_split])
    assert api.delete(remove_url(splits["train"], foreign)).status_code == 404
    assert Item.objects.filter(pk=foreign.pk).exists()
