"""The OpenAPI schema at /api/schema/ and the Swagger UI at /api/docs/."""

import re
from html.parser import HTMLParser

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

# Every operation of the contract (../shared/spec/API.md and the sharing endpoints of issue 2).
# Path parameter names are the spec's; the comparison ignores them.
SPEC_OPERATIONS = {
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/register"),
    ("GET", "/me/apikeys"),
    ("POST", "/me/apikeys"),
    ("DELETE", "/me/apikeys/{id}"),
    ("GET", "/applications"),
    ("GET", "/datasets"),
    ("POST", "/datasets"),
    ("GET", "/datasets/{id}"),
    ("PUT", "/datasets/{id}"),
    ("DELETE", "/datasets/{id}"),
    ("GET", "/datasets/{id}/share"),
    ("POST", "/datasets/{id}/share"),
    ("DELETE", "/datasets/{id}/share/{user_id}"),
    ("GET", "/datasets/{dataset_id}/versions"),
    ("POST", "/datasets/{dataset_id}/versions"),
    ("GET", "/datasets/{dataset_id}/versions/{id}"),
    ("PUT", "/datasets/{dataset_id}/versions/{id}"),
    ("DELETE", "/datasets/{dataset_id}/versions/{id}"),
    ("GET", "/datasets/{dataset_id}/versions/{version_id}/labels"),
    ("POST", "/datasets/{dataset_id}/versions/{version_id}/labels"),
    ("GET", "/datasets/{dataset_id}/versions/{version_id}/labels/{id}"),
    ("PUT", "/datasets/{dataset_id}/versions/{version_id}/labels/{id}"),
    ("DELETE", "/datasets/{dataset_id}/versions/{version_id}/labels/{id}"),
    ("GET", "/datasets/{dataset_id}/versions/{version_id}/splits"),
    ("POST", "/datasets/{dataset_id}/versions/{version_id}/splits"),
    ("GET", "/datasets/{dataset_id}/versions/{version_id}/splits/{id}"),
    ("PUT", "/datasets/{dataset_id}/versions/{version_id}/splits/{id}"),
    ("DELETE", "/datasets/{dataset_id}/versions/{version_id}/splits/{id}"),
    ("POST", "/datasets/{dataset_id}/versions/{version_id}/splits/{id}/add_inferences"),
    ("DELETE", "/datasets/{dataset_id}/versions/{version_id}/splits/{split_id}/items/{item_id}"),
    ("GET", "/datasets/{dataset_id}/versions/{version_id}/items"),
    ("POST", "/datasets/{dataset_id}/versions/{version_id}/items"),
    ("GET", "/datasets/{dataset_id}/versions/{version_id}/items/{id}"),
    ("PUT", "/datasets/{dataset_id}/versions/{version_id}/items/{id}"),
    ("POST", "/datasets/{dataset_id}/versions/{version_id}/annotations"),
    ("PUT", "/datasets/{dataset_id}/versions/{version_id}/annotations/{id}"),
    ("DELETE", "/datasets/{dataset_id}/versions/{version_id}/annotations/{id}"),
    ("GET", "/datasets/{dataset_id}/versions/{version_id}/labels/splits/{split_id}"),
    ("GET", "/datasets/{dataset_id}/versions/{version_id}/labels/stats/splits/{split_id}"),
    # DATA.md, item files
    ("POST", "/datasets/{dataset_id}/versions/{version_id}/items/{id}/upload"),
    ("GET", "/datasets/{dataset_id}/versions/{version_id}/items/{id}/download"),
    ("POST", "/datasets/{id}/upload"),
    ("GET", "/datasets/{id}/logo"),
}
PUBLIC = {("POST", "/login"), ("POST", "/register")}
DELETE_WITH_BODY = {
    "/datasets/{}/versions/{}/annotations/{}": "Annotation",
    "/datasets/{}/versions/{}/splits/{}/items/{}": "Item",
}
LISTS = [
    "/applications",
    "/me/apikeys",
    "/datasets",
    "/datasets/{}/share",
    "/datasets/{}/versions",
    "/datasets/{}/versions/{}/labels",
    "/datasets/{}/versions/{}/splits",
    "/datasets/{}/versions/{}/items",
    "/datasets/{}/versions/{}/labels/splits/{}",
]
PREFIX = "/api/v1"


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


@pytest.fixture(scope="module")
def schema():
    return yaml.safe_load(APIClient().get(reverse("schema")).content)


@pytest.fixture(scope="module")
def operations(schema):
    """(METHOD, path shape without the /api/v1 prefix) -> operation object."""
    return {
        (method.upper(), _shape(path.removeprefix(PREFIX))): op
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }


def _ref(response: dict) -> str:
    schema = response["content"]["application/json"]["schema"]
    return schema.get("$ref", "").rsplit("/", 1)[-1]


def test_schema_generates_and_validates_without_warnings_or_errors(tmp_path):
    GENERATOR_STATS.reset()
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
    assert yaml.safe_load(out.read_text())["openapi"].startswith("3.")


def test_schema_is_public_and_lists_every_spec_operation_without_trailing_slashes(
    db, schema, operations
):
    spec = {(method, _shape(path)) for method, path in SPEC_OPERATIONS}
    assert spec - set(operations) == set()
    assert all(path.startswith(PREFIX + "/") for path in schema["paths"])
    assert not [path for path in schema["paths"] if path.endswith("/")]


# Path parameters that name something from a fixed list (zip import formats, DATA.md).
NAMED_PATH_PARAMETERS = {"archive_format": ["folders", "yolo", "csv", "spacy-ner"]}


def test_every_path_parameter_is_a_uuid_and_every_lookup_answers_404(operations):
    for (method, path), op in operations.items():
        path_params = [p for p in op.get("parameters", []) if p["in"] == "path"]
        assert len(path_params) == path.count("{}"), (method, path)
        for param in path_params:
            if param["name"] in NAMED_PATH_PARAMETERS:  # a name from a fixed list, not a row
                assert param["schema"]["enum"] == NAMED_PATH_PARAMETERS[param["name"]]
                continue
            assert param["schema"] == {"type": "string", "format": "uuid"}, (method, path)
        if path_params:
            assert _ref(op["responses"]["404"]) == "Error", (method, path)


def test_auth_and_error_responses_use_the_error_component(schema, operations):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    assert schemes["cookieAuth"]["in"] == "cookie"
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["message"]
    assert error["properties"]["message"]["type"] == "string"
    assert error["properties"]["errors"]["type"] == "object"
    for key, op in operations.items():
        if key in PUBLIC:
            assert op.get("security", [{}]) == [{}], key
            continue
        assert {"bearerAuth": []} in op["security"], key
        assert {} not in op["security"], key
        assert _ref(op["responses"]["401"]) == "Error", key
        if "requestBody" in op:
            assert _ref(op["responses"]["400"]) == "Error", key
        if key[0] != "GET":
            assert _ref(op["responses"]["403"]) == "Error", key
        for code, response in op["responses"].items():
            if code >= "400":
                assert _ref(response) in ("Error", "PreconditionFailed"), (key, code)


def test_conflicts_and_preconditions_are_documented(schema, operations):
    for resource in ("versions", "labels", "splits"):
        base = "/datasets/{}" if resource == "versions" else "/datasets/{}/versions/{}"
        assert _ref(operations[("POST", f"{base}/{resource}")]["responses"]["409"]) == "Error"
        assert _ref(operations[("PUT", f"{base}/{resource}/{{}}")]["responses"]["409"]) == "Error"
    update = operations[("PUT", "/datasets/{}/versions/{}/items/{}")]
    assert _ref(update["responses"]["412"]) == "PreconditionFailed"
    precondition = schema["components"]["schemas"]["PreconditionFailed"]
    assert precondition["properties"]["current_version"]["type"] == "integer"
    assert {"If-Match"} == {p["name"] for p in update["parameters"] if p["in"] == "header"}


def test_lists_are_arrays_and_the_item_list_has_its_params_and_total_header(schema, operations):
    components = schema["components"]["schemas"]
    for path in LISTS:
        body = operations[("GET", path)]["responses"]["200"]["content"]["application/json"]
        schema = body["schema"]
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        assert schema["type"] == "array", path
    items = operations[("GET", "/datasets/{}/versions/{}/items")]
    query = {p["name"]: p["schema"] for p in items["parameters"] if p["in"] == "query"}
    assert query["pageSize"]["maximum"] == 1000
    assert query["pageSize"]["default"] == 10
    assert query["pageCount"]["minimum"] == 0
    assert query["splitId"]["format"] == "uuid"
    assert query["labelId"]["format"] == "uuid"
    assert set(query["onlyUnlabelled"]["enum"]) == {"true", "false", "True", "False", "1", "0"}
    assert items["responses"]["200"]["headers"]["X-Total-Count"]["schema"]["type"] == "integer"
    assert _ref(items["responses"]["400"]) == "Error"


def test_deletes_answer_200_with_a_body_only_where_the_spec_says(operations):
    for (method, path), op in operations.items():
        if method != "DELETE":
            continue
        if path in DELETE_WITH_BODY:
            assert _ref(op["responses"]["200"]) == DELETE_WITH_BODY[path]
            assert "204" not in op["responses"]
        else:
            assert "content" not in op["responses"]["204"], path
            assert "200" not in op["responses"], path


def test_resource_shapes_match_the_spec(schema):
    components = schema["components"]["schemas"]

    def fields(name):
        return set(components[name]["properties"])

    stamps = {"id", "created_at", "updated_at"}
    assert fields("Dataset") == stamps | {
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
    assert fields("Version") == stamps | {
        "name",
        "description",
        "user_id",
        "dataset_id",
        "labels",
        "splits",
        "default_split",
        "config",
    }
    assert fields("Label") == stamps | {
        "name",
        "description",
        "user_id",
        "version_id",
        "color",
        "index",
        "shortcut",
    }
    assert fields("DatasetSplit") == stamps | {"name", "description", "user_id", "version_id"}
    assert fields("Annotation") == stamps | {
        "label_id",
        "item_id",
        "split_id",
        "coordinates",
        "user_id",
    }
    assert fields("LabelStat") == stamps | {
        "label_id",
        "split_id",
        "count",
        "annotation_count",
        "item_count",
    }
    assert {
        "name",
        "description",
        "user_id",
        "text",
        "extension",
        "splits",
        "annotations",
        "version",
    } <= fields("Item")
    assert fields("UserWithKey") == {"id", "username", "name", "email", "firstname", "apikey"}
    assert {"keep_annotations", "inferences"} == fields("AddInferencesRequest")
    assert components["ContentTypeEnum"]["enum"] == [
        "images",
        "text",
        "tabular",
        "ner",
        "documents",
    ]
    assert components["RoleEnum"]["enum"] == ["viewer", "annotator", "editor"]
    # Responses render every field, strings never null; ids may be "".
    for name in ("Dataset", "Version", "Label", "DatasetSplit", "Item", "Annotation", "LabelStat"):
        assert set(components[name]["required"]) == fields(name), name
        assert not [k for k, v in components[name]["properties"].items() if v.get("nullable")]
    label_id = components["LabelStat"]["properties"]["label_id"]
    assert label_id["anyOf"] == [{"format": "uuid"}, {"maxLength": 0}]
    for name in ("Item", "LabelStat"):
        assert components[name]["properties"]["id"]["format"] == "uuid"
    # PUT applies only the fields it is given.
    assert "required" not in components["PatchedDatasetSplitRequest"]
    assert components["DatasetSplitRequest"]["required"] == ["name"]


class _AssetLinks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def test_swagger_ui_loads_only_local_static_assets(db):
    client = APIClient()
    page = client.get(reverse("swagger-ui"))
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    parser = _AssetLinks()
    parser.feed(html)
    assert parser.urls, "the docs page references no asset"
    # The start-up script is served by the docs view itself (no inline script: CSP).
    (script,) = [url for url in parser.urls if url.startswith(reverse("swagger-ui") + "?")]
    assert 'url: "/api/schema/"' in client.get(script).content.decode()
    parser.urls.remove(script)
    assert all(url.startswith("/static/") for url in parser.urls), parser.urls
    assert not re.search(r"https?://", html)
    names = {url.rsplit("/", 1)[-1] for url in parser.urls}
    assert {"swagger-ui.css", "swagger-ui-bundle.js"} <= names
    for url in parser.urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content), url
