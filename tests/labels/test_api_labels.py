"""Labels of a version through /api/v1: CRUD, server-assigned index, unique names, colours,
and what deleting a label does to annotations and statistics."""

import pytest
from django.urls import reverse

from labels.models import Annotation, Label, LabelStat
from labels.services import PALETTE
from tests.conftest import assert_stats_exact
from tests.factories import AnnotationFactory, ItemFactory, LabelFactory, VersionFactory

LABEL_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "name",
    "description",
    "user_id",
    "version_id",
    "color",
    "index",
    "shortcut",
}


def labels_url(version, label=None):
    kwargs = {"dataset_id": version.dataset_id, "version_id": version.pk}
    if label is None:
        return reverse("label-list", kwargs=kwargs)
    return reverse("label-detail", kwargs={**kwargs, "pk": label.pk})


def stats(api, version, split) -> dict:
    """label_id -> (annotation_count, item_count) of the split, from the API."""
    url = reverse(
        "label-stats",
        kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, "split_id": split.pk},
    )
    return {r["label_id"]: (r["annotation_count"], r["item_count"]) for r in api.get(url).json()}


def test_label_list_is_an_empty_array(api, version):
    response = api.get(labels_url(version))
    assert response.status_code == 200
    assert response.json() == []


def test_label_create_answers_the_label(api, user, version):
    response = api.post(
        labels_url(version),
        {"name": "cat", "description": "felines", "color": "#AABBCC", "shortcut": "c"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == LABEL_FIELDS
    assert (body["name"], body["description"], body["shortcut"]) == ("cat", "felines", "c")
    assert body["color"] == "#aabbcc"
    assert body["index"] == 0
    assert body["version_id"] == str(version.pk) and body["user_id"] == str(user.pk)
    assert Label.objects.get(pk=body["id"]).version == version


def test_label_index_is_assigned_0_1_2_whatever_the_body_says(api, version):
    indexes = [
        api.post(labels_url(version), {"name": n, "index": 7}, format="json").json()["index"]
        for n in ("cat", "dog", "bird")
    ]
    assert indexes == [0, 1, 2]
    listed = api.get(labels_url(version)).json()
    assert [(lb["name"], lb["index"]) for lb in listed] == [("cat", 0), ("dog", 1), ("bird", 2)]
    assert all(set(lb) == LABEL_FIELDS for lb in listed)


def test_label_index_counts_per_version(api, dataset, version):
    LabelFactory(version=version, name="cat")
    other = VersionFactory(dataset=dataset, name="v2")
    body = api.post(labels_url(other), {"name": "cat"}, format="json").json()
    assert body["index"] == 0


def test_label_index_after_deleting_a_middle_label_is_not_a_duplicate(api, version):
    a, b, c = (LabelFactory(version=version, name=n) for n in "abc")
    api.delete(labels_url(version, b))
    assert api.post(labels_url(version), {"name": "d"}, format="json").json()["index"] == 3
    listed = api.get(labels_url(version)).json()
    assert [(lb["name"], lb["index"]) for lb in listed] == [("a", 0), ("c", 2), ("d", 3)]


def test_label_without_colour_gets_a_palette_colour(api, version):
    for colour in (None, ""):
        body = api.post(
            labels_url(version), {"name": f"n{colour}", "color": colour}, format="json"
        ).json()
        assert body["color"] in PALETTE


@pytest.mark.parametrize("colour", ["red", "#fff", "#GGGGGG", "aabbcc", "#aabbcc0", 123])
def test_label_colour_must_be_rrggbb(api, version, colour):
    response = api.post(labels_url(version), {"name": "cat", "color": colour}, format="json")
    assert response.status_code == 400
    assert "color" in response.json()["errors"]
    assert not Label.objects.exists()


def test_label_duplicate_name_is_409(api, version):
    LabelFactory(version=version, name="cat")
    response = api.post(labels_url(version), {"name": "cat"}, format="json")
    assert response.status_code == 409
    assert "cat" in response.json()["message"]
    assert Label.objects.count() == 1


def test_label_same_name_in_another_version_is_fine(api, dataset, version):
    LabelFactory(version=VersionFactory(dataset=dataset, name="v2"), name="cat")
    assert api.post(labels_url(version), {"name": "cat"}, format="json").status_code == 201


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": None}, {"name": "x" * 256}, {"name": ["cat"]}]
)
def test_label_name_is_required_1_to_255(api, version, body):
    response = api.post(labels_url(version), body, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    assert not Label.objects.exists()


def test_label_retrieve(api, version):
    label = LabelFactory(version=version, name="cat")
    body = api.get(labels_url(version, label)).json()
    assert set(body) == LABEL_FIELDS
    assert body["id"] == str(label.pk) and body["name"] == "cat"


def test_label_update_keeps_index_and_colour_unless_given(api, version):
    LabelFactory(version=version, name="first")
    label = LabelFactory(version=version, name="cat", color="#112233")
    response = api.put(
        labels_url(version, label),
        {"name": "kitten", "index": 0, "color": None, "shortcut": "k"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == LABEL_FIELDS
    assert (body["name"], body["index"], body["color"], body["shortcut"]) == (
        "kitten",
        1,
        "#112233",
        "k",
    )
    label.refresh_from_db()
    assert (label.name, label.index, label.color) == ("kitten", 1, "#112233")


def test_label_update_colour(api, version):
    label = LabelFactory(version=version, name="cat")
    body = api.put(labels_url(version, label), {"color": "#00FF00"}, format="json").json()
    assert body["color"] == "#00ff00"
    assert api.put(labels_url(version, label), {"color": "green"}, format="json").status_code == 400
    label.refresh_from_db()
    assert label.color == "#00ff00"


def test_label_rename_to_a_taken_name_is_409(api, version):
    LabelFactory(version=version, name="cat")
    dog = LabelFactory(version=version, name="dog")
    response = api.put(labels_url(version, dog), {"name": "cat"}, format="json")
    assert response.status_code == 409
    dog.refresh_from_db()
    assert dog.name == "dog"


def test_label_create_adds_a_zero_row_in_every_split(api, version, splits):
    body = api.post(labels_url(version), {"name": "cat"}, format="json").json()
    for split in splits.values():
        assert stats(api, version, split)[body["id"]] == (0, 0)
    assert LabelStat.objects.filter(label_id=body["id"]).count() == 3
    assert_stats_exact()


def test_label_delete_removes_its_annotations_and_items_become_unlabelled(api, version, splits):
    train, valid = splits["train"], splits["valid"]
    cat, dog = LabelFactory(version=version, name="cat"), LabelFactory(version=version, name="dog")
    only_cat = ItemFactory(dataset_version=version, splits=[train, valid])
    both = ItemFactory(dataset_version=version, splits=[train])
    AnnotationFactory(item=only_cat, split=train, label=cat)
    AnnotationFactory(item=only_cat, split=valid, label=cat)
    AnnotationFactory(item=both, split=train, label=cat, coordinates="1,1,2,2")
    AnnotationFactory(item=both, split=train, label=dog, coordinates="3,3,4,4")
    assert stats(api, version, train) == {str(cat.pk): (2, 2), str(dog.pk): (1, 1), "": (0, 0)}

    response = api.delete(labels_url(version, cat))
    assert response.status_code == 204
    assert not Label.objects.filter(pk=cat.pk).exists()
    assert list(Annotation.objects.values_list("label_id", flat=True)) == [dog.pk]
    assert not LabelStat.objects.filter(label_id=cat.pk).exists()
    assert stats(api, version, train) == {str(dog.pk): (1, 1), "": (0, 1)}
    assert stats(api, version, valid) == {str(dog.pk): (0, 0), "": (0, 1)}
    assert_stats_exact()


def test_label_of_another_version_is_404(api, dataset, version):
    foreign = LabelFactory(version=VersionFactory(dataset=dataset, name="v2"), name="cat")
    assert api.get(labels_url(version, foreign)).status_code == 404
    assert api.put(labels_url(version, foreign), {"name": "x"}, format="json").status_code == 404
    assert api.delete(labels_url(version, foreign)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "cat"
