"""Annotations through /api/v1: create / update / delete, the membership rules, and the
single-label replacement Decision (regions are never replaced)."""

import pytest
from django.urls import reverse

from labels.models import Annotation
from seeme.models import Role
from tests.conftest import assert_stats_exact, client_for
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    ItemFactory,
    LabelFactory,
    SplitFactory,
    VersionFactory,
    share,
)

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


def annotations_url(version, annotation=None):
    kwargs = {"dataset_id": version.dataset_id, "version_id": version.pk}
    if annotation is None:
        return reverse("annotation-list", kwargs=kwargs)
    return reverse("annotation-detail", kwargs={**kwargs, "pk": annotation.pk})


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


def body_for(item, split, label, coordinates=""):
    return {
        "item_id": str(item.pk),
        "split_id": str(split.pk),
        "label_id": str(label.pk),
        "coordinates": coordinates,
    }


@pytest.fixture
def world(version, splits):
    train = splits["train"]
    return {
        "train": train,
        "valid": splits["valid"],
        "cat": LabelFactory(version=version, name="cat"),
        "dog": LabelFactory(version=version, name="dog"),
        "item": ItemFactory(dataset_version=version, splits=[train, splits["valid"]]),
    }


def held(item, split) -> list[tuple[str, str]]:
    return sorted(
        Annotation.objects.filter(item=item, split=split).values_list("label__name", "coordinates")
    )


# -- create ----------------------------------------------------------------------------------


def test_annotation_create(api, user, version, world):
    train, cat, item = world["train"], world["cat"], world["item"]
    response = api.post(annotations_url(version), body_for(item, train, cat), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == ANNOTATION_FIELDS
    assert (body["label_id"], body["item_id"], body["split_id"]) == (
        str(cat.pk),
        str(item.pk),
        str(train.pk),
    )
    assert body["coordinates"] == "" and body["user_id"] == str(user.pk)
    assert Annotation.objects.get(pk=body["id"]).label == cat
    assert stats(api, train) == {str(cat.pk): (1, 1), str(world["dog"].pk): (0, 0), "": (0, 0)}
    assert stats(api, world["valid"])[""] == (0, 1)
    assert_stats_exact()


def test_annotation_create_ignores_read_only_fields(api, user, other_user, version, world):
    body = {
        **body_for(world["item"], world["train"], world["cat"]),
        "id": "stale",
        "user_id": str(other_user.pk),
        "created_at": None,
    }
    response = api.post(annotations_url(version), body, format="json")
    assert response.status_code == 201
    assert response.json()["user_id"] == str(user.pk)


def test_annotation_label_of_another_version_is_400(api, dataset, version, world):
    other = VersionFactory(dataset=dataset, name="v2")
    foreign = LabelFactory(version=other, name="cat")
    response = api.post(
        annotations_url(version), body_for(world["item"], world["train"], foreign), format="json"
    )
    assert response.status_code == 400
    assert "label_id" in response.json()["errors"]
    assert not Annotation.objects.exists()


def test_annotation_split_of_another_version_is_400(api, dataset, version, world):
    foreign = SplitFactory(version=VersionFactory(dataset=dataset, name="v2"), name="s")
    response = api.post(
        annotations_url(version), body_for(world["item"], foreign, world["cat"]), format="json"
    )
    assert response.status_code == 400
    assert "split_id" in response.json()["errors"]
    assert not Annotation.objects.exists()


def test_annotation_item_not_in_the_split_is_400(api, version, world, splits):
    response = api.post(
        annotations_url(version),
        body_for(world["item"], splits["test"], world["cat"]),
        format="json",
    )
    assert response.status_code == 400
    assert "item_id" in response.json()["errors"]
    assert "split" in response.json()["message"]
    assert not Annotation.objects.exists()
    assert_stats_exact()


def test_annotation_item_of_another_version_is_400(api, dataset, version, world):
    other = VersionFactory(dataset=dataset, name="v2")
    foreign = ItemFactory(dataset_version=other, splits=[SplitFactory(version=other, name="s")])
    response = api.post(
        annotations_url(version), body_for(foreign, world["train"], world["cat"]), format="json"
    )
    assert response.status_code == 400
    assert "item_id" in response.json()["errors"]
    assert not Annotation.objects.exists()


@pytest.mark.parametrize("field", ["label_id", "item_id", "split_id"])
@pytest.mark.parametrize("value", [None, "", "nope", 5, "00000000-0000-0000-0000-000000000000"])
def test_annotation_bad_ids_are_400(api, version, world, field, value):
    body = {**body_for(world["item"], world["train"], world["cat"]), field: value}
    response = api.post(annotations_url(version), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Annotation.objects.exists()


@pytest.mark.parametrize("field", ["label_id", "item_id", "split_id"])
def test_annotation_missing_ids_are_400(api, version, world, field):
    body = body_for(world["item"], world["train"], world["cat"])
    del body[field]
    response = api.post(annotations_url(version), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


# -- the single-label replacement Decision ---------------------------------------------------


def test_single_label_whole_item_annotation_replaces_the_previous_one(api, version, world):
    train, valid, item = world["train"], world["valid"], world["item"]
    api.post(annotations_url(version), body_for(item, train, world["cat"]), format="json")
    api.post(annotations_url(version), body_for(item, valid, world["cat"]), format="json")
    response = api.post(
        annotations_url(version), body_for(item, train, world["dog"]), format="json"
    )
    assert response.status_code == 201
    assert held(item, train) == [("dog", "")]
    assert held(item, valid) == [("cat", "")]  # another split is another question
    assert stats(api, train) == {
        str(world["cat"].pk): (0, 0),
        str(world["dog"].pk): (1, 1),
        "": (0, 0),
    }
    assert_stats_exact()


def test_single_label_regions_are_never_replaced(api, version, world):
    train, item = world["train"], world["item"]
    for label, coordinates in [
        (world["cat"], "1,1,2,2"),
        (world["cat"], ""),
        (world["dog"], "3,3,4,4"),
        (world["dog"], ""),
    ]:
        response = api.post(
            annotations_url(version), body_for(item, train, label, coordinates), format="json"
        )
        assert response.status_code == 201
    assert held(item, train) == [("cat", "1,1,2,2"), ("dog", ""), ("dog", "3,3,4,4")]
    assert stats(api, train) == {
        str(world["cat"].pk): (1, 1),
        str(world["dog"].pk): (2, 1),
        "": (0, 0),
    }
    assert_stats_exact()


def test_multi_label_keeps_every_whole_item_annotation(api, user):
    version = DatasetFactory(owner=user, multi_label=True).versions.get()
    train = version.splits.get(name="train")
    cat, dog = LabelFactory(version=version, name="cat"), LabelFactory(version=version, name="dog")
    item = ItemFactory(dataset_version=version, splits=[train])
    for label in (cat, dog):
        api.post(annotations_url(version), body_for(item, train, label), format="json")
    assert held(item, train) == [("cat", ""), ("dog", "")]
    assert_stats_exact()


# -- update ----------------------------------------------------------------------------------


def test_annotation_update_label_moves_the_counts(api, version, world):
    train = world["train"]
    annotation = AnnotationFactory(item=world["item"], split=train, label=world["cat"])
    response = api.put(
        annotations_url(version, annotation), {"label_id": str(world["dog"].pk)}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == ANNOTATION_FIELDS
    assert body["id"] == str(annotation.pk) and body["label_id"] == str(world["dog"].pk)
    assert stats(api, train) == {
        str(world["cat"].pk): (0, 0),
        str(world["dog"].pk): (1, 1),
        "": (0, 0),
    }
    assert_stats_exact()


def test_annotation_update_to_another_split_where_the_item_is(api, version, world):
    train, valid = world["train"], world["valid"]
    annotation = AnnotationFactory(
        item=world["item"], split=train, label=world["cat"], coordinates="1,1,2,2"
    )
    response = api.put(
        annotations_url(version, annotation),
        {"split_id": str(valid.pk), "coordinates": "5,5,6,6"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["split_id"] == str(valid.pk)
    assert held(world["item"], valid) == [("cat", "5,5,6,6")]
    assert stats(api, train)[""] == (0, 1)
    assert stats(api, valid)[str(world["cat"].pk)] == (1, 1)
    assert_stats_exact()


def test_annotation_update_to_a_split_without_the_item_is_400(api, version, world, splits):
    annotation = AnnotationFactory(item=world["item"], split=world["train"], label=world["cat"])
    response = api.put(
        annotations_url(version, annotation), {"split_id": str(splits["test"].pk)}, format="json"
    )
    assert response.status_code == 400
    annotation.refresh_from_db()
    assert annotation.split == world["train"]
    assert_stats_exact()


def test_annotation_update_cannot_move_to_another_item(api, version, world, splits):
    other = ItemFactory(dataset_version=version, splits=[world["train"]])
    annotation = AnnotationFactory(item=world["item"], split=world["train"], label=world["cat"])
    response = api.put(
        annotations_url(version, annotation), {"item_id": str(other.pk)}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["item_id"] == str(world["item"].pk)


def test_annotation_update_region_to_whole_replaces_the_other_whole(api, version, world):
    train, item = world["train"], world["item"]
    AnnotationFactory(item=item, split=train, label=world["cat"])
    region = AnnotationFactory(item=item, split=train, label=world["dog"], coordinates="1,1,2,2")
    response = api.put(annotations_url(version, region), {"coordinates": ""}, format="json")
    assert response.status_code == 200
    assert held(item, train) == [("dog", "")]
    assert_stats_exact()


@pytest.mark.parametrize(
    "body",
    [
        {"label_id": "nope"},
        {"label_id": None},
        {"split_id": 3},
        {"coordinates": 5},
        {"coordinates": "x" * 100_001},
    ],
)
def test_annotation_update_bad_bodies_are_400(api, version, world, body):
    annotation = AnnotationFactory(item=world["item"], split=world["train"], label=world["cat"])
    response = api.put(annotations_url(version, annotation), body, format="json")
    assert response.status_code == 400
    annotation.refresh_from_db()
    assert (annotation.label, annotation.coordinates) == (world["cat"], "")


# -- delete ----------------------------------------------------------------------------------


def test_annotation_delete_answers_200_with_the_annotation(api, version, world):
    train = world["train"]
    annotation = AnnotationFactory(
        item=world["item"], split=train, label=world["cat"], coordinates="1,2,3,4"
    )
    response = api.delete(annotations_url(version, annotation))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == ANNOTATION_FIELDS
    assert (body["id"], body["coordinates"], body["label_id"]) == (
        str(annotation.pk),
        "1,2,3,4",
        str(world["cat"].pk),
    )
    assert not Annotation.objects.exists()
    assert stats(api, train) == {
        str(world["cat"].pk): (0, 0),
        str(world["dog"].pk): (0, 0),
        "": (0, 1),
    }
    assert api.delete(annotations_url(version, annotation)).status_code == 404
    assert_stats_exact()


def test_annotation_of_another_version_is_404(api, dataset, version):
    other = VersionFactory(dataset=dataset, name="v2")
    split = SplitFactory(version=other, name="s")
    foreign = AnnotationFactory(
        item=ItemFactory(dataset_version=other, splits=[split]),
        split=split,
        label=LabelFactory(version=other, name="x"),
    )
    assert (
        api.put(annotations_url(version, foreign), {"coordinates": "1"}, format="json").status_code
        == 404
    )
    assert api.delete(annotations_url(version, foreign)).status_code == 404
    assert Annotation.objects.filter(pk=foreign.pk, coordinates="").exists()


def test_annotator_may_annotate_but_viewer_may_not(dataset, version, world, other_user):
    share(dataset, other_user, Role.ANNOTATOR)
    response = client_for(other_user).post(
        annotations_url(version),
        body_for(world["item"], world["train"], world["cat"]),
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["user_id"] == str(other_user.pk)
    share(dataset, other_user, Role.VIEWER)
    response = client_for(other_user).post(
        annotations_url(version),
        body_for(world["item"], world["train"], world["dog"]),
        format="json",
    )
    assert response.status_code == 403
    assert Annotation.objects.count() == 1
