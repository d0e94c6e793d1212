"""What the published schema says and what the server does agree (findings of a
schemathesis run with negative-data checks): what the schema forbids is refused, what the
server accepts is declared."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import DatasetFactory, ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(db):
    return APIClient().get(reverse("schema") + "?format=json").json()


def request_component(schema, path: str, method: str) -> dict:
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[-1]
    return schema["components"]["schemas"][name]


def test_null_booleans_on_dataset_create_are_declared(api, schema):
    props = request_component(schema, "/api/v1/datasets", "post")["properties"]
    for field in ("default_splits", "multi_label"):
        assert props[field].get("nullable") is True, props[field]
    response = api.post(
        reverse("dataset-list"), {"name": "n", "default_splits": None}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["default_splits"] is False


@pytest.fixture
def items_url(user):
    version = DatasetFactory(owner=user).versions.get()
    ItemFactory(dataset_version=version)
    return reverse("item-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk})


def test_page_size_above_the_maximum_is_refused(api, schema, items_url):
    params = schema["paths"]["/api/v1/datasets/{dataset_id}/versions/{version_id}/items"]["get"][
        "parameters"
    ]
    (page_size,) = [p for p in params if p["name"] == "pageSize"]
    maximum = page_size["schema"]["maximum"]
    assert api.get(items_url, {"pageSize": maximum}).status_code == 200
    response = api.get(items_url, {"pageSize": maximum + 1})
    assert response.status_code == 400
    assert "pageSize" in response.json()["errors"]


@pytest.mark.parametrize("param", ["splitId", "labelId", "onlyUnlabelled"])
def test_empty_filter_values_are_refused_on_the_api(api, items_url, param):
    response = api.get(items_url + f"?{param}=")
    assert response.status_code == 400
    assert param in response.json()["errors"]


def test_a_null_body_is_refused_where_the_schema_wants_an_object(api, user):
    version = DatasetFactory(owner=user).versions.get()
    url = reverse(
        "version-duplicate", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
    )
    for raw in ("null", "[]", '"v2"'):
        response = api.generic("POST", url, raw, content_type="application/json")
        assert response.status_code == 400, (raw, response.content[:200])
    assert api.generic("POST", url, "", content_type="application/json").status_code == 201
