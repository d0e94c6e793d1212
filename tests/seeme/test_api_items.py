"""Items of a version through /api/v1: create with split membership, list filters and
pagination, retrieve, and PUT with optimistic concurrency (If-Match)."""

import pytest
from django.urls import reverse

from labels.models import Annotation
from labels.services import add_inferences, item_add_to_split
from seeme.models import Item
from splits.models import ItemSplit
from tests.conftest import assert_stats_exact
from tests.factories import (
    AnnotationFactory,
    ItemFactory,
    LabelFactory,
    SplitFactory,
    VersionFactory,
)

ITEM_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "name",
    "description",
    "user_id",
    "text",
    "extension",
    "splits",
    "annotations",
    "version",
    # beyond the spec: group-aware split assignment and duplicate detection
    "group",
    "content_hash",
}
SPLIT_FIELDS = {"id", "created_at", "updated_at", "name", "description", "user_id", "version_id"}
ANNOTATION_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "label_id",
    "item_id",
    "split_id",
    "coordinates",
    "user_id",
}


def items_url(version, item=None):
    kwargs = {"dataset_id": version.dataset_id, "version_id": version.pk}
    if item is None:
        return reverse("item-list", kwargs=kwargs)
    return reverse("item-detail", kwargs={**kwargs, "pk": item.pk})


def stats(api, split) -> dict:
    url = reverse(
        "label-stats",
        kwargs={
            "dataset_id": split.version.dataset_id,
            "version_id": split.version_id,
            "split_id": split.pk,
        },
    )
    return {r["label_id"]: (r["annotation_count"], r["item_count"]) for r in api.get(url).json()}


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [i["name"] for i in response.json()]


# -- create ----------------------------------------------------------------------------------


def test_item_create_in_splits(api, user, version, splits):
    train, valid = splits["train"], splits["valid"]
    body = {
        "name": "a.jpg",
        "description": "d",
        "text": "  spaced  ",
        "extension": "jpg",
        "splits": [{"id": str(train.pk)}, {"id": str(valid.pk)}],
    }
    response = api.post(items_url(version), body, format="json")
    assert response.status_code == 201, response.json()
    item = response.json()
    assert set(item) == ITEM_FIELDS
    assert (item["name"], item["description"], item["text"], item["extension"]) == (
        "a.jpg",
        "d",
        "  spaced  ",
        "jpg",
    )
    assert item["version"] == 1 and item["annotations"] == []
    assert item["user_id"] == str(user.pk)
    assert [s["id"] for s in item["splits"]] == [str(train.pk), str(valid.pk)]
    assert all(set(s) == SPLIT_FIELDS for s in item["splits"])
    row = Item.objects.get(pk=item["id"])
    assert row.dataset_version == version
    assert set(row.splits.all()) == {train, valid}
    assert stats(api, train)[""] == (0, 1) and stats(api, valid)[""] == (0, 1)
    assert stats(api, splits["test"])[""] == (0, 0)
    assert_stats_exact()


def test_item_create_accepts_whole_split_objects_and_duplicates(api, version, splits):
    fetched = api.get(
        reverse(
            "split-detail",
            kwargs={
                "dataset_id": version.dataset_id,
                "version_id": version.pk,
                "pk": splits["train"].pk,
            },
        )
    ).json()
    response = api.post(
        items_url(version), {"name": "x", "splits": [fetched, fetched]}, format="json"
    )
    assert response.status_code == 201
    assert ItemSplit.objects.count() == 1
    assert_stats_exact()


@pytest.mark.parametrize("splits_value", [None, []])
def test_item_create_without_splits(api, version, splits_value):
    response = api.post(
        items_url(version), {"name": "loose", "splits": splits_value}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["splits"] == [] and body["annotations"] == []
    assert not ItemSplit.objects.exists()


def test_item_create_ignores_read_only_fields(api, user, other_user, version, splits):
    body = {
        "name": "x",
        "id": "stale",
        "version": 9,
        "created_at": None,
        "user_id": str(other_user.pk),
        "annotations": [{"label_id": "x"}],
        "splits": [{"id": str(splits["train"].pk), "name": "ignored"}],
    }
    response = api.post(items_url(version), body, format="json")
    assert response.status_code == 201, response.json()
    item = response.json()
    assert item["version"] == 1 and item["user_id"] == str(user.pk)
    assert item["annotations"] == [] and not Annotation.objects.exists()
    assert item["splits"][0]["name"] == "train"


def test_item_create_with_a_split_of_another_version_is_400_and_writes_nothing(
    api, dataset, version, splits
):
    foreign = SplitFactory(version=VersionFactory(dataset=dataset, name="v2"), name="x")
    body = {"name": "x", "splits": [{"id": str(splits["train"].pk)}, {"id": str(foreign.pk)}]}
    response = api.post(items_url(version), body, format="json")
    assert response.status_code == 400
    assert str(foreign.pk) in response.json()["message"]
    assert not Item.objects.exists() and not ItemSplit.objects.exists()
    assert_stats_exact()


# -- list ------------------------------------------------------------------------------------


@pytest.fixture
def world(version, splits):
    """train: cat-item (cat), both-item (cat + dog region), bare-train; valid: cat-item (dog),
    bare-valid. ``loose`` is in no split."""
    train, valid = splits["train"], splits["valid"]
    cat, dog = LabelFactory(version=version, name="cat"), LabelFactory(version=version, name="dog")
    cat_item = ItemFactory(dataset_version=version, splits=[train, valid], name="cat-item")
    both = ItemFactory(dataset_version=version, splits=[train], name="both-item")
    ItemFactory(dataset_version=version, splits=[train], name="bare-train")
    ItemFactory(dataset_version=version, splits=[valid], name="bare-valid")
    ItemFactory(dataset_version=version, name="loose")
    AnnotationFactory(item=cat_item, split=train, label=cat)
    AnnotationFactory(item=cat_item, split=valid, label=dog)
    AnnotationFactory(item=both, split=train, label=cat)
    AnnotationFactory(item=both, split=train, label=dog, coordinates="1,2,3,4")
    return {"train": train, "valid": valid, "cat": cat, "dog": dog}


def test_item_list_whole_version_in_creation_order(api, version, world):
    response = api.get(items_url(version))
    assert names(response) == ["cat-item", "both-item", "bare-train", "bare-valid", "loose"]
    assert response["X-Total-Count"] == "5"
    first = response.json()[0]
    assert set(first) == ITEM_FIELDS
    assert [set(a) for a in first["annotations"]] == [ANNOTATION_FIELDS] * 2


def test_item_list_by_split(api, version, world):
    assert names(api.get(items_url(version), {"splitId": world["train"].pk})) == [
        "cat-item",
        "both-item",
        "bare-train",
    ]


def test_item_list_by_label(api, version, world):
    assert names(api.get(items_url(version), {"labelId": world["dog"].pk})) == [
        "cat-item",
        "both-item",
    ]
    assert names(
        api.get(items_url(version), {"labelId": world["dog"].pk, "splitId": world["valid"].pk})
    ) == ["cat-item"]


@pytest.mark.parametrize("spelling", ["true", "True", "1", "TRUE"])
def test_item_list_only_unlabelled_true(api, version, world, spelling):
    assert names(api.get(items_url(version), {"onlyUnlabelled": spelling})) == [
        "bare-train",
        "bare-valid",
        "loose",
    ]
    assert names(
        api.get(items_url(version), {"onlyUnlabelled": spelling, "splitId": world["train"].pk})
    ) == ["bare-train"]


@pytest.mark.parametrize("spelling", ["false", "False", "0"])
def test_item_list_only_unlabelled_false(api, version, world, spelling):
    assert names(api.get(items_url(version), {"onlyUnlabelled": spelling})) == [
        "cat-item",
        "both-item",
    ]


def test_item_list_only_unlabelled_is_per_split(api, version, world, splits):
    """An item annotated in train but bare in test is unlabelled in test."""
    item = Item.objects.get(name="both-item")
    item_add_to_split(item=item, split=splits["test"])
    assert names(
        api.get(items_url(version), {"onlyUnlabelled": "true", "splitId": splits["test"].pk})
    ) == ["both-item"]


@pytest.mark.parametrize(
    "params",
    [
        {"onlyUnlabelled": "yes"},
        {"onlyUnlabelled": "2"},
        {"onlyUnlabelled": "none"},
        {"splitId": "not-a-uuid"},
        {"labelId": "123"},
        {"pageSize": "0"},
        {"pageSize": "-1"},
        {"pageSize": "ten"},
        {"pageCount": "-1"},
        {"pageCount": "x"},
        {"pageSize": "1.5"},
    ],
)
def test_item_list_bad_parameters_are_400(api, version, world, params):
    response = api.get(items_url(version), params)
    assert response.status_code == 400
    body = response.json()
    assert body["message"] and list(params)[0] in body["errors"]


def test_item_list_by_unknown_split_or_label_is_empty(api, version, world, dataset):
    other = SplitFactory(version=VersionFactory(dataset=dataset, name="v2"), name="x")
    assert api.get(items_url(version), {"splitId": other.pk}).json() == []
    assert api.get(items_url(version), {"labelId": other.pk}).json() == []


def test_item_list_pagination(api, version, splits):
    for i in range(23):
        ItemFactory(dataset_version=version, splits=[splits["train"]], name=f"i{i:02d}")
    expected = list(Item.objects.order_by("created_at", "id").values_list("name", flat=True))
    first = api.get(items_url(version))
    assert names(first) == expected[:10]
    assert first["X-Total-Count"] == "23"
    pages = [names(api.get(items_url(version), {"pageCount": p})) for p in range(3)]
    assert [len(p) for p in pages] == [10, 10, 3]
    assert sum(pages, []) == expected
    assert api.get(items_url(version), {"pageCount": 3}).json() == []
    assert names(api.get(items_url(version), {"pageSize": 5, "pageCount": 4})) == expected[20:]
    assert names(api.get(items_url(version), {"pageSize": 1000})) == expected


def test_item_list_page_size_is_at_most_1000(api, version, splits):
    add_inferences(
        split=splits["train"],
        user=None,
        inferences=[{"name": f"n{i}"} for i in range(1001)],
        keep_annotations=False,
    )
    response = api.get(items_url(version), {"pageSize": 1000})
    assert response.status_code == 200
    assert len(response.json()) == 1000
    assert response["X-Total-Count"] == "1001"
    # Above the schema's maximum is refused, not silently served as a shorter page.
    refused = api.get(items_url(version), {"pageSize": 5000})
    assert refused.status_code == 400 and "pageSize" in refused.json()["errors"]


def test_item_list_order_is_stable_for_equal_timestamps(api, version, splits):
    add_inferences(
        split=splits["train"],
        user=None,
        inferences=[{"name": f"n{i}"} for i in range(30)],
        keep_annotations=False,
    )
    Item.objects.update(created_at=Item.objects.first().created_at)
    ids = [str(i) for i in Item.objects.order_by("id").values_list("id", flat=True)]
    pages = [api.get(items_url(version), {"pageSize": 7, "pageCount": p}).json() for p in range(5)]
    assert [i["id"] for page in pages for i in page] == ids


def test_item_list_is_an_empty_array(api, version):
    response = api.get(items_url(version))
    assert response.json() == []
    assert response["X-Total-Count"] == "0"


# -- retrieve and update ---------------------------------------------------------------------


def test_item_retrieve(api, version, world):
    item = Item.objects.get(name="both-item")
    body = api.get(items_url(version, item)).json()
    assert set(body) == ITEM_FIELDS
    assert body["id"] == str(item.pk)
    assert [s["name"] for s in body["splits"]] == ["train"]
    assert sorted(a["coordinates"] for a in body["annotations"]) == ["", "1,2,3,4"]


def test_item_put_without_if_match_is_unconditional_and_bumps_version(api, version, splits):
    item = ItemFactory(dataset_version=version, splits=[splits["train"]], name="old")
    for expected_version in (2, 3):
        response = api.put(
            items_url(version, item), {"name": f"v{expected_version}"}, format="json"
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == ITEM_FIELDS
        assert body["version"] == expected_version
    item.refresh_from_db()
    assert (item.name, item.version) == ("v3", 3)
    assert [s["name"] for s in body["splits"]] == ["train"]


@pytest.mark.parametrize("header", ['"1"', "1", 'W/"1"', ' "1" '])
def test_item_put_with_matching_if_match_applies(api, version, header):
    item = ItemFactory(dataset_version=version, name="old")
    response = api.put(
        items_url(version, item), {"description": "new"}, format="json", HTTP_IF_MATCH=header
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2
    item.refresh_from_db()
    assert (item.description, item.version) == ("new", 2)


def test_item_put_with_stale_if_match_is_412_with_current_version(api, version):
    item = ItemFactory(dataset_version=version, name="old")
    api.put(items_url(version, item), {"name": "first writer"}, format="json")
    response = api.put(
        items_url(version, item), {"name": "second writer"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 412
    body = response.json()
    assert body["current_version"] == 2
    assert body["message"]
    item.refresh_from_db()
    assert (item.name, item.version) == ("first writer", 2)


def test_item_put_with_if_match_star_is_unconditional(api, version):
    item = ItemFactory(dataset_version=version, name="old")
    api.put(items_url(version, item), {"name": "first"}, format="json")
    response = api.put(
        items_url(version, item), {"name": "second"}, format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 200
    assert response.json()["version"] == 3


@pytest.mark.parametrize("header", ['"abc"', '"-1"', '""', "1.5", '"1', "9" * 5000, "\u00b2"])
def test_item_put_with_malformed_if_match_is_400(api, version, header):
    item = ItemFactory(dataset_version=version, name="old")
    response = api.put(items_url(version, item), {"name": "x"}, format="json", HTTP_IF_MATCH=header)
    assert response.status_code == 400
    assert "If-Match" in response.json()["errors"]
    item.refresh_from_db()
    assert (item.name, item.version) == ("old", 1)


def test_item_put_of_a_whole_fetched_body_changes_only_own_fields(api, version, world):
    item = Item.objects.get(name="both-item")
    body = api.get(items_url(version, item)).json()
    # splits as fetched: unchanged, so no move (a different list moves or is refused:
    # tests/seeme/test_api_item_state.py); annotations and read-only fields are ignored
    body.update(name="renamed", annotations=[], version=99, id=None)
    response = api.put(items_url(version, item), body, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    after = response.json()
    assert after["name"] == "renamed" and after["version"] == 2
    assert len(after["splits"]) == 1 and len(after["annotations"]) == 2
    assert_stats_exact()


def test_item_delete_is_not_an_endpoint(api, version):
    item = ItemFactory(dataset_version=version)
    response = api.delete(items_url(version, item))
    assert response.status_code == 405
    assert response.json()["message"]
    assert Item.objects.filter(pk=item.pk).exists()


def test_item_of_another_version_is_404(api, dataset, version):
    foreign = ItemFactory(dataset_version=VersionFactory(dataset=dataset, name="v2"), name="x")
    assert api.get(items_url(version, foreign)).status_code == 404
    assert api.put(items_url(version, foreign), {"name": "y"}, format="json").status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "x"
