"""Datasets, versions and sharing through /api/v1: CRUD, the create-makes-v1 Decision, exact
field sets, JSON without a Content-Type, ignored read-only fields, and share endpoints."""

import json
from datetime import datetime

import pytest
from django.urls import reverse

from labels.models import Label, LabelStat
from seeme.models import Dataset, DatasetShare, Item, Role, Version
from splits.models import DatasetSplit
from tests.conftest import assert_stats_exact, client_for
from tests.factories import (
    DatasetFactory,
    ItemFactory,
    LabelFactory,
    UserFactory,
    VersionFactory,
    share,
)

DATASET_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "name",
    "description",
    "user_id",
    "notes",
    "multi_label",
    "default_splits",
    "content_type",
    "versions",
    "logo",
    "has_logo",
}
VERSION_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "name",
    "description",
    "user_id",
    "dataset_id",
    "labels",
    "splits",
    "default_split",
    "config",
}
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
SPLIT_FIELDS = {"id", "created_at", "updated_at", "name", "description", "user_id", "version_id"}
SHARE_FIELDS = {
    "id",
    "created_at",
    "updated_at",
    "user_id",
    "username",
    "email",
    "role",
    "role_id",
    "entity_type",
    "entity_id",
}


def no_null_names(value) -> bool:
    """True when no object anywhere in ``value`` has ``"name": null``."""
    if isinstance(value, dict):
        return value.get("name", "") is not None and all(map(no_null_names, value.values()))
    if isinstance(value, list):
        return all(map(no_null_names, value))
    return True


def ds_url(dataset=None):
    if dataset is None:
        return reverse("dataset-list")
    return reverse("dataset-detail", kwargs={"pk": dataset.pk})


def versions_url(dataset, version=None):
    if version is None:
        return reverse("version-list", kwargs={"dataset_id": dataset.pk})
    return reverse("version-detail", kwargs={"dataset_id": dataset.pk, "pk": version.pk})


def share_url(dataset, user=None):
    if user is None:
        return reverse("dataset-share", kwargs={"pk": dataset.pk})
    return reverse("dataset-unshare", kwargs={"pk": dataset.pk, "user_id": user.pk})


# -- datasets --------------------------------------------------------------------------------


def test_dataset_list_is_an_empty_array_for_a_new_user(api):
    response = api.get(ds_url())
    assert response.status_code == 200
    assert response.json() == []


def test_dataset_create_with_default_splits_makes_v1_with_train_valid_test(api, user):
    response = api.post(ds_url(), {"name": "Pets", "default_splits": True}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == DATASET_FIELDS
    assert body["user_id"] == str(user.pk)
    assert body["default_splits"] is True and body["multi_label"] is False
    assert body["content_type"] == "images"
    assert body["description"] == "" and body["notes"] == ""
    [v1] = body["versions"]
    assert set(v1) == VERSION_FIELDS
    assert v1["name"] == "v1" and v1["dataset_id"] == body["id"]
    assert v1["labels"] == []
    assert [s["name"] for s in v1["splits"]] == ["train", "valid", "test"]
    assert all(set(s) == SPLIT_FIELDS and s["version_id"] == v1["id"] for s in v1["splits"])
    assert no_null_names(body)
    dataset = Dataset.objects.get(pk=body["id"])
    assert dataset.owner == user
    assert list(dataset.versions.values_list("name", flat=True)) == ["v1"]
    # Every new split starts with its total and unlabelled rows.
    assert LabelStat.objects.filter(split__version__dataset=dataset).count() == 6
    assert_stats_exact()


def test_dataset_create_without_default_splits_has_empty_lists(api):
    body = api.post(
        ds_url(), {"name": "Bare", "multi_label": True, "content_type": "text"}, format="json"
    ).json()
    [v1] = body["versions"]
    assert v1["name"] == "v1"
    assert v1["splits"] == [] and v1["labels"] == []
    assert body["multi_label"] is True and body["content_type"] == "text"


def test_timestamps_are_rfc3339_and_trailing_slash_is_optional(api, dataset):
    body = api.get(ds_url(dataset) + "/").json()
    for value in (body["created_at"], body["updated_at"], body["versions"][0]["created_at"]):
        assert datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
        assert "T" in value
    assert api.get(ds_url() + "/").json() == api.get(ds_url()).json()


def test_dataset_list_and_retrieve(api, user, other_user):
    mine = DatasetFactory(owner=user, name="mine")
    LabelFactory(version=mine.versions.get(), name="cat")
    DatasetFactory(owner=other_user, name="theirs")
    listed = api.get(ds_url()).json()
    assert [d["name"] for d in listed] == ["mine"]
    assert set(listed[0]) == DATASET_FIELDS
    detail = api.get(ds_url(mine)).json()
    assert detail == listed[0]
    [label] = detail["versions"][0]["labels"]
    assert set(label) == LABEL_FIELDS
    assert label["name"] == "cat" and label["index"] == 0


def test_dataset_list_is_newest_first(api, user):
    names = [DatasetFactory(owner=user, name=f"d{i}").name for i in range(3)]
    assert [d["name"] for d in api.get(ds_url()).json()] == names[::-1]


def test_dataset_update_changes_only_given_fields(api, dataset):
    response = api.put(
        ds_url(dataset), {"description": "cats and dogs", "multi_label": True}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == DATASET_FIELDS
    assert body["description"] == "cats and dogs" and body["multi_label"] is True
    assert body["name"] == dataset.name
    dataset.refresh_from_db()
    assert dataset.description == "cats and dogs" and dataset.multi_label is True


def test_dataset_delete_removes_everything_below_it(api, dataset, version, splits):
    LabelFactory(version=version)
    ItemFactory(dataset_version=version, splits=[splits["train"]])
    response = api.delete(ds_url(dataset))
    assert response.status_code == 204
    assert not Dataset.objects.exists()
    assert not Version.objects.exists() and not Item.objects.exists()
    assert not DatasetSplit.objects.exists() and not LabelStat.objects.exists()
    assert api.get(ds_url(dataset)).status_code == 404


@pytest.mark.parametrize(
    "body", [{}, {"name": ""}, {"name": None}, {"name": 12}, {"name": "x" * 256}]
)
def test_dataset_name_is_required_1_to_255(api, body):
    response = api.post(ds_url(), body, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    assert not Dataset.objects.exists()


def test_dataset_name_of_255_characters_is_accepted(api):
    assert api.post(ds_url(), {"name": "x" * 255}, format="json").status_code == 201


# -- JSON bodies without Content-Type --------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-8",
    ],
)
def test_json_body_is_parsed_whatever_the_content_type_says(api, user, content_type):
    body = json.dumps({"name": "Sent by the SDK", "default_splits": True})
    if content_type is None:
        response = api.generic("POST", ds_url(), body)
    else:
        response = api.generic("POST", ds_url(), body, content_type=content_type)
    assert response.status_code == 201, response.content
    dataset = Dataset.objects.get()
    assert dataset.name == "Sent by the SDK" and dataset.default_splits is True


def test_json_body_without_content_type_on_put(api, dataset):
    response = api.generic("PUT", ds_url(dataset), json.dumps({"notes": "n"}), content_type="")
    assert response.status_code == 200
    dataset.refresh_from_db()
    assert dataset.notes == "n"


def test_multipart_is_refused_as_415_json(api):
    response = api.post(ds_url(), {"name": "x"}, format="multipart")
    assert response.status_code == 415
    assert response.json()["message"]
    assert not Dataset.objects.exists()


# -- read-only fields in bodies --------------------------------------------------------------

STALE = [None, "", "stale", "00000000-0000-0000-0000-000000000000"]


@pytest.mark.parametrize("stale", STALE)
def test_dataset_create_ignores_read_only_fields(api, user, other_user, stale):
    body = {
        "name": "Pets",
        "id": stale,
        "created_at": stale,
        "updated_at": stale,
        "user_id": str(other_user.pk) if stale == "stale" else stale,
        "versions": [] if stale == "" else stale,
    }
    response = api.post(ds_url(), body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["id"] not in {None, "", "stale", STALE[3]}
    assert created["created_at"] and created["user_id"] == str(user.pk)
    assert [v["name"] for v in created["versions"]] == ["v1"]


def test_dataset_put_of_a_whole_fetched_body_with_stale_fields(api, user, dataset, other_user):
    body = api.get(ds_url(dataset)).json()
    body.update(
        name="renamed",
        id=str(other_user.pk),
        user_id=str(other_user.pk),
        created_at="2001-01-01T00:00:00Z",
        versions=None,
    )
    response = api.put(ds_url(dataset), body, format="json")
    assert response.status_code == 200
    after = response.json()
    assert after["id"] == str(dataset.pk) and after["user_id"] == str(user.pk)
    assert after["name"] == "renamed"
    assert after["created_at"] != "2001-01-01T00:00:00Z"
    assert len(after["versions"]) == 1


@pytest.mark.parametrize("stale", STALE)
def test_version_create_ignores_read_only_fields(api, user, dataset, stale):
    other = DatasetFactory()
    body = {
        "name": "v2",
        "id": stale,
        "created_at": stale,
        "user_id": stale,
        "dataset_id": str(other.pk) if stale == "stale" else stale,
        "labels": stale,
        "splits": stale,
    }
    response = api.post(versions_url(dataset), body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["dataset_id"] == str(dataset.pk)
    assert created["user_id"] == str(user.pk)
    assert Version.objects.get(pk=created["id"]).dataset == dataset
    assert other.versions.count() == 1


# -- versions --------------------------------------------------------------------------------


def test_version_list_and_retrieve(api, dataset, version):
    listed = api.get(versions_url(dataset)).json()
    assert [v["id"] for v in listed] == [str(version.pk)]
    assert set(listed[0]) == VERSION_FIELDS
    assert api.get(versions_url(dataset, version)).json() == listed[0]
    assert no_null_names(listed)


def test_version_list_in_creation_order(api, dataset, version):
    v2 = VersionFactory(dataset=dataset, name="second")
    v3 = VersionFactory(dataset=dataset, name="a-third")
    names = [v["name"] for v in api.get(versions_url(dataset)).json()]
    assert names == [version.name, v2.name, v3.name]


def test_version_create_names_it_vN_when_no_name_is_given(api, user, dataset):
    response = api.post(versions_url(dataset), {}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == VERSION_FIELDS
    assert body["name"] == "v2"
    assert body["labels"] == [] and body["splits"] == []
    assert body["description"] == "" and body["config"] == "" and body["default_split"] == ""
    assert api.post(versions_url(dataset), {"name": None}, format="json").json()["name"] == "v3"


def test_version_duplicate_name_is_409(api, dataset, version):
    response = api.post(versions_url(dataset), {"name": version.name}, format="json")
    assert response.status_code == 409
    assert response.json()["message"]
    assert dataset.versions.count() == 1


def test_version_update(api, dataset, version):
    response = api.put(
        versions_url(dataset, version),
        {"name": "first", "description": "d", "config": "{}", "default_split": "train"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["description"], body["config"], body["default_split"]) == (
        "first",
        "d",
        "{}",
        "train",
    )
    assert len(body["splits"]) == 3
    version.refresh_from_db()
    assert version.name == "first"


@pytest.mark.parametrize("name", ["", None])
def test_version_update_with_an_empty_name_keeps_the_name(api, dataset, version, name):
    response = api.put(versions_url(dataset, version), {"name": name, "config": "c"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "v1" and response.json()["config"] == "c"
    version.refresh_from_db()
    assert version.name == "v1"


def test_version_rename_to_a_taken_name_is_409(api, dataset, version):
    other = VersionFactory(dataset=dataset, name="v2")
    response = api.put(versions_url(dataset, other), {"name": version.name}, format="json")
    assert response.status_code == 409
    other.refresh_from_db()
    assert other.name == "v2"


def test_version_delete_removes_its_labels_splits_items(api, dataset, version, splits):
    keep = VersionFactory(dataset=dataset, name="v2")
    LabelFactory(version=version)
    ItemFactory(dataset_version=version, splits=[splits["train"]])
    response = api.delete(versions_url(dataset, version))
    assert response.status_code == 204
    assert list(dataset.versions.all()) == [keep]
    assert not Label.objects.exists() and not Item.objects.exists()
    assert not DatasetSplit.objects.exists() and not LabelStat.objects.exists()


def test_version_of_another_dataset_is_404(api, user, dataset):
    foreign = DatasetFactory(owner=user).versions.get()
    assert api.get(versions_url(dataset, foreign)).status_code == 404
    assert api.delete(versions_url(dataset, foreign)).status_code == 404
    assert Version.objects.filter(pk=foreign.pk).exists()


# -- sharing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "role_key", "role"),
    [
        ("username", "role", "viewer"),
        ("email", "role", "annotator"),
        ("email", "role_id", "editor"),
        ("username", "role_id", "viewer"),
    ],
)
def test_share_by_username_or_email_with_a_role(api, dataset, other_user, key, role_key, role):
    who = other_user.username if key == "username" else other_user.email.upper()
    response = api.post(share_url(dataset), {key: who, role_key: role}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == SHARE_FIELDS
    assert body["user_id"] == str(other_user.pk)
    assert body["username"] == other_user.username and body["email"] == other_user.email
    assert body["role"] == body["role_id"] == role
    assert body["entity_type"] == "datasets" and body["entity_id"] == str(dataset.pk)
    assert DatasetShare.objects.get(dataset=dataset, user=other_user).role == role
    # The new role is live at once.
    assert client_for(other_user).get(ds_url(dataset)).status_code == 200


def test_share_without_role_is_viewer_and_sharing_again_changes_the_role(api, dataset, other_user):
    first = api.post(share_url(dataset), {"username": other_user.username}, format="json")
    assert first.status_code == 201 and first.json()["role"] == "viewer"
    again = api.post(
        share_url(dataset), {"username": other_user.username, "role": "editor"}, format="json"
    )
    assert again.status_code == 200
    assert again.json()["role"] == "editor"
    assert DatasetShare.objects.get().role == Role.EDITOR


def test_share_list(api, dataset, other_user):
    third = UserFactory()
    share(dataset, other_user, Role.EDITOR)
    share(dataset, third, Role.VIEWER)
    response = api.get(share_url(dataset))
    assert response.status_code == 200
    rows = response.json()
    assert all(set(r) == SHARE_FIELDS for r in rows)
    assert [(r["username"], r["role"]) for r in rows] == [
        (other_user.username, "editor"),
        (third.username, "viewer"),
    ]


def test_share_list_is_an_empty_array(api, dataset):
    assert api.get(share_url(dataset)).json() == []


def test_unshare(api, dataset, other_user):
    share(dataset, other_user, Role.EDITOR)
    response = api.delete(share_url(dataset, other_user))
    assert response.status_code == 204
    assert not DatasetShare.objects.exists()
    assert client_for(other_user).get(ds_url(dataset)).status_code == 404


def test_unshare_a_user_without_a_share_is_404(api, dataset, other_user):
    response = api.delete(share_url(dataset, other_user))
    assert response.status_code == 404
    assert response.json()["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "nobody", "role": "viewer"}, "email"),
        ({"role": "viewer"}, "email"),
        ({"username": "", "email": ""}, "email"),
        ({"username": "OTHER", "role": "owner"}, "role"),
        ({"username": "OTHER", "role_id": "admin"}, "role_id"),
        ({"username": "OWNER", "role": "editor"}, "email"),
        ({"username": 5}, "username"),
    ],
)
def test_share_refusals_are_400_and_write_nothing(api, user, dataset, other_user, body, field):
    names = {"OTHER": other_user.username, "OWNER": user.username}
    body = {k: names.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = api.post(share_url(dataset), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not DatasetShare.objects.exists()


def test_share_with_an_ambiguous_identifier_is_400(api, dataset):
    UserFactory(username="sam", email="x@example.com")
    UserFactory(username="y", email="sam")
    response = api.post(share_url(dataset), {"username": "sam"}, format="json")
    assert response.status_code == 400
    assert not DatasetShare.objects.exists()


def test_shared_dataset_appears_in_the_sharees_list(dataset, other_user):
    share(dataset, other_user, Role.VIEWER)
    listed = client_for(other_user).get(ds_url()).json()
    assert [d["id"] for d in listed] == [str(dataset.pk)]
