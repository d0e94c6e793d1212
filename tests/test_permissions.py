"""The permission matrix: owner / superuser / staff / editor / annotator / viewer / stranger /
anonymous x every read and write endpoint of a dataset. A stranger gets 404 as if the dataset
did not exist, anonymous 401, a role that can see but not do 403; refusals write nothing.
Staff status opens the admin only (a staff user without a share is a stranger to a dataset);
a superuser may do anything an owner may."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from seeme.models import Role
from tests.conftest import client_for, db_snapshot
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    ItemFactory,
    LabelFactory,
    UserFactory,
    share,
)

ROLES = ["owner", "superuser", "staff", "editor", "annotator", "viewer", "stranger", "anonymous"]


def world(owner) -> dict:
    dataset = DatasetFactory(owner=owner)
    version = dataset.versions.get()
    train = version.splits.get(name="train")
    label = LabelFactory(version=version, name="cat")
    item = ItemFactory(dataset_version=version, splits=[train])
    annotation = AnnotationFactory(item=item, split=train, label=label)
    target = UserFactory()
    share(dataset, target, Role.VIEWER)
    return {
        "dataset": dataset,
        "version": version,
        "split": train,
        "label": label,
        "item": item,
        "annotation": annotation,
        "target": target,
    }


def kw(w, **more) -> dict:
    return {"dataset_id": w["dataset"].pk, "version_id": w["version"].pk, **more}


# (route, method, kwargs(world), body(world), status on success, least role that may)
VIEW, ANNOTATE, EDIT, OWN = "viewer", "annotator", "editor", "owner"
ENDPOINTS = [
    ("dataset-detail", "GET", lambda w: {"pk": w["dataset"].pk}, None, 200, VIEW),
    ("dataset-detail", "PUT", lambda w: {"pk": w["dataset"].pk}, {"notes": "n"}, 200, EDIT),
    ("dataset-detail", "DELETE", lambda w: {"pk": w["dataset"].pk}, None, 204, OWN),
    ("dataset-share", "GET", lambda w: {"pk": w["dataset"].pk}, None, 200, OWN),
    (
        "dataset-share",
        "POST",
        lambda w: {"pk": w["dataset"].pk},
        lambda w: {"username": w["target"].username, "role": "editor"},
        200,
        OWN,
    ),
    (
        "dataset-unshare",
        "DELETE",
        lambda w: {"pk": w["dataset"].pk, "user_id": w["target"].pk},
        None,
        204,
        OWN,
    ),
    ("version-list", "GET", lambda w: {"dataset_id": w["dataset"].pk}, None, 200, VIEW),
    ("version-list", "POST", lambda w: {"dataset_id": w["dataset"].pk}, {"name": "v2"}, 201, EDIT),
    (
        "version-detail",
        "GET",
        lambda w: {"dataset_id": w["dataset"].pk, "pk": w["version"].pk},
        None,
        200,
        VIEW,
    ),
    (
        "version-detail",
        "PUT",
        lambda w: {"dataset_id": w["dataset"].pk, "pk": w["version"].pk},
        {"name": "first"},
        200,
        EDIT,
    ),
    (
        "version-detail",
        "DELETE",
        lambda w: {"dataset_id": w["dataset"].pk, "pk": w["version"].pk},
        None,
        204,
        EDIT,
    ),
    ("label-list", "GET", kw, None, 200, VIEW),
    ("label-list", "POST", kw, {"name": "dog"}, 201, EDIT),
    ("label-detail", "GET", lambda w: kw(w, pk=w["label"].pk), None, 200, VIEW),
    ("label-detail", "PUT", lambda w: kw(w, pk=w["label"].pk), {"name": "kitten"}, 200, EDIT),
    ("label-detail", "DELETE", lambda w: kw(w, pk=w["label"].pk), None, 204, EDIT),
    ("split-list", "GET", kw, None, 200, VIEW),
    ("split-list", "POST", kw, {"name": "extra"}, 201, EDIT),
    ("split-detail", "GET", lambda w: kw(w, pk=w["split"].pk), None, 200, VIEW),
    ("split-detail", "PUT", lambda w: kw(w, pk=w["split"].pk), {"name": "training"}, 200, EDIT),
    ("split-detail", "DELETE", lambda w: kw(w, pk=w["split"].pk), None, 204, EDIT),
    (
        "split-add-inferences",
        "POST",
        lambda w: kw(w, pk=w["split"].pk),
        {"inferences": [{"prediction": "cat"}]},
        200,
        EDIT,
    ),
    (
        "split-remove-item",
        "DELETE",
        lambda w: kw(w, pk=w["split"].pk, item_id=w["item"].pk),
        None,
        200,
        EDIT,
    ),
    ("item-list", "GET", kw, None, 200, VIEW),
    (
        "item-list",
        "POST",
        kw,
        lambda w: {"name": "i", "splits": [{"id": str(w["split"].pk)}]},
        201,
        EDIT,
    ),
    ("item-detail", "GET", lambda w: kw(w, pk=w["item"].pk), None, 200, VIEW),
    ("item-detail", "PUT", lambda w: kw(w, pk=w["item"].pk), {"name": "renamed"}, 200, EDIT),
    (
        "annotation-list",
        "POST",
        kw,
        lambda w: {
            "label_id": str(w["label"].pk),
            "item_id": str(w["item"].pk),
            "split_id": str(w["split"].pk),
            "coordinates": "1,2,3,4",
        },
        201,
        ANNOTATE,
    ),
    (
        "annotation-detail",
        "PUT",
        lambda w: kw(w, pk=w["annotation"].pk),
        {"coordinates": "1,2,3,4"},
        200,
        ANNOTATE,
    ),
    ("annotation-detail", "DELETE", lambda w: kw(w, pk=w["annotation"].pk), None, 200, ANNOTATE),
    ("item-state", "GET", lambda w: kw(w, item_id=w["item"].pk), None, 200, VIEW),
    ("item-state", "PUT", lambda w: kw(w, item_id=w["item"].pk), {"state": "done"}, 200, ANNOTATE),
    ("version-states", "GET", kw, None, 200, VIEW),
    ("label-stats", "GET", lambda w: kw(w, split_id=w["split"].pk), None, 200, VIEW),
    ("split-total", "GET", lambda w: kw(w, split_id=w["split"].pk), None, 200, VIEW),
]
RANK = {VIEW: 1, ANNOTATE: 2, EDIT: 3, OWN: 4}
ROLE_RANK = {"owner": 4, "superuser": 4, "editor": 3, "annotator": 2, "viewer": 1}


def expected(role: str, least: str, ok: int) -> int:
    if role == "anonymous":
        return 401
    if role in ("stranger", "staff"):
        return 404
    return ok if ROLE_RANK[role] >= RANK[least] else 403


def client_as(role: str, dataset) -> APIClient:
    if role == "owner":
        return client_for(dataset.owner)
    if role == "anonymous":
        return APIClient()
    user = UserFactory(is_staff=role in ("staff", "superuser"), is_superuser=(role == "superuser"))
    if role in ("editor", "annotator", "viewer"):
        share(dataset, user, Role(role))
    return client_for(user)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "method", "kwargs", "body", "ok", "least"),
    ENDPOINTS,
    ids=[f"{e[1]} {e[0]}" for e in ENDPOINTS],
)
def test_permission_matrix(user, role, name, method, kwargs, body, ok, least):
    w = world(user)
    client = client_as(role, w["dataset"])
    data = body(w) if callable(body) else body
    before = db_snapshot()
    response = client.generic(
        method,
        reverse(name, kwargs=kwargs(w)),
        "" if data is None else json.dumps(data),
        content_type="application/json",
    )
    status = expected(role, least, ok)
    assert response.status_code == status, response.content[:300]
    if status >= 400:
        assert response.json()["message"]
        assert db_snapshot() == before
    if status == 403:
        assert least in response.json()["message"]


@pytest.mark.parametrize("role", ROLES)
def test_dataset_list_shows_what_the_role_may_see(user, role):
    dataset = world(user)["dataset"]
    DatasetFactory(owner=UserFactory())  # someone else's, unshared: only a superuser sees it
    response = client_as(role, dataset).get(reverse("dataset-list"))
    if role == "anonymous":
        assert response.status_code == 401
        return
    names = {d["name"] for d in response.json()}
    if role == "superuser":
        assert len(names) == 2
    elif role in ("stranger", "staff"):
        assert names == set()
    else:
        assert names == {dataset.name}


@pytest.mark.parametrize("role", ROLES)
def test_anyone_signed_in_may_create_a_dataset(db, role):
    client = client_as(role, DatasetFactory())
    response = client.post(reverse("dataset-list"), {"name": "mine"}, format="json")
    assert response.status_code == (401 if role == "anonymous" else 201)


def test_sharee_loses_access_when_unshared(user, other_user):
    w = world(user)
    share(w["dataset"], other_user, Role.EDITOR)
    client = client_for(other_user)
    url = reverse("label-list", kwargs=kw(w))
    assert client.get(url).status_code == 200
    client_for(user).delete(
        reverse("dataset-unshare", kwargs={"pk": w["dataset"].pk, "user_id": other_user.pk})
    )
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "x"}, format="json").status_code == 404


def test_inactive_staff_sees_nothing(user):
    w = world(user)
    staff = UserFactory(is_staff=True)
    client = client_for(staff)
    staff.is_active = False
    staff.save()
    assert client.get(reverse("dataset-detail", kwargs={"pk": w["dataset"].pk})).status_code == 401


def test_staff_with_a_share_has_exactly_the_share_role(user):
    w = world(user)
    staff = UserFactory(is_staff=True)
    share(w["dataset"], staff, Role.VIEWER)
    client = client_for(staff)
    detail = reverse("dataset-detail", kwargs={"pk": w["dataset"].pk})
    assert client.get(detail).status_code == 200
    assert client.delete(detail).status_code == 403
    assert client.get(reverse("dataset-share", kwargs={"pk": w["dataset"].pk})).status_code == 403
    assert client.post(reverse("label-list", kwargs=kw(w)), {"name": "x"}).status_code == 403
