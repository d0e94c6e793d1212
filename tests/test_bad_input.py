"""Bad input on every endpoint: malformed, unknown and foreign ids in the path; malformed ids,
wrong types, overlong strings, invalid JSON and empty bodies; missing auth. Each answer is a
JSON error with a ``message`` (never a 500, never HTML) and nothing is written."""

import json
from dataclasses import dataclass, field

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from seeme import services
from seeme.models import Role
from tests.conftest import db_snapshot
from tests.factories import (
    PASSWORD,
    AnnotationFactory,
    DatasetFactory,
    ItemFactory,
    LabelFactory,
    UserFactory,
    share,
)

# -- the world and the endpoint table ---------------------------------------------------------


def make_world(owner, sharee) -> dict:
    """A dataset of ``owner`` with v1, splits, a label, an item annotated in train, a share
    with ``sharee`` and a spare API key of ``owner``: the ids every endpoint needs."""
    dataset = DatasetFactory(owner=owner)
    version = dataset.versions.get()
    train = version.splits.get(name="train")
    label = LabelFactory(version=version, name="cat")
    item = ItemFactory(dataset_version=version, splits=[train])
    annotation = AnnotationFactory(item=item, split=train, label=label)
    share(dataset, sharee, Role.VIEWER)
    key, _ = services.apikey_create(user=owner, name="spare")
    return {
        "dataset": dataset.pk,
        "version": version.pk,
        "split": train.pk,
        "label": label.pk,
        "item": item.pk,
        "annotation": annotation.pk,
        "sharee": sharee.pk,
        "apikey": key.pk,
        "username": owner.username,
    }


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: dict = field(default_factory=dict)  # url kwarg -> world key
    body: dict | None = None  # a valid body; None: the endpoint reads no body
    ok: int = 200  # the status of the valid call
    empty: int = 400  # the status for an empty body
    bad: tuple = ()  # bodies that must be refused with a 400
    auth: bool = True

    def __str__(self) -> str:
        return f"{self.method} {self.name}"

    def url(self, ids: dict) -> str:
        return reverse(self.name, kwargs={k: ids[v] for k, v in self.path.items()})


D = {"pk": "dataset"}
V = {"dataset_id": "dataset", "version_id": "version"}
LONG = "x" * 256
NOT_UUID = "not-a-uuid"
UNKNOWN = "00000000-0000-4000-8000-000000000000"

DATASET_BAD = (
    {"name": 5},
    {"name": LONG},
    {"name": ["a"]},
    {"description": "x" * 10_001},
    {"multi_label": "yes"},
    {"default_splits": "true"},
    {"content_type": "video"},
    {"content_type": 1},
    {"notes": {"a": 1}},
    {"name": "a\x00b"},
    {"description": "\ud800"},
)
VERSION_BAD = (
    {"name": 5},
    {"name": LONG},
    {"config": {"a": 1}},
    {"description": []},
    {"default_split": True},
)
LABEL_BAD = (
    {"name": 5},
    {"name": LONG},
    {"color": 5},
    {"color": "#12345"},
    {"shortcut": "x" * 17},
    {"description": "x" * 10_001},
)
SPLIT_BAD = ({"name": 5}, {"name": LONG}, {"name": ""}, {"description": {}})
ITEM_BAD = (
    {"name": 5},
    {"name": LONG},
    {"text": []},
    {"extension": "x" * 33},
    {"description": False},
    {"text": "\x00"},
    {"name": "\udfff"},
)

ENDPOINTS = [
    Endpoint(
        "login-api",
        "POST",
        body={"username": "{username}", "password": PASSWORD},
        auth=False,
        bad=(
            {"username": 1, "password": "p"},
            {"username": "x" * 151, "password": "p"},
            {"username": "u", "password": ["p"]},
            {"username": None, "password": "p"},
        ),
    ),
    Endpoint("logout-api", "POST"),
    Endpoint(
        "register-api",
        "POST",
        ok=201,
        auth=False,
        body={
            "username": "newbie",
            "email": "newbie@example.com",
            "password": "a-long-enough-passphrase",
        },
        bad=(
            {"username": 5},
            {"username": "x" * 151},
            {"email": "x" * 250 + "@e.com"},
            {"firstname": 7},
            {"name": {"a": 1}},
            {"password": True},
            {"email": ["a@b.c"]},
        ),
    ),
    Endpoint("applications", "GET"),
    Endpoint("apikey-list", "GET"),
    Endpoint(
        "apikey-list",
        "POST",
        body={"name": "k"},
        ok=201,
        empty=201,
        bad=(
            {"name": 5},
            {"name": LONG},
            {"expires_in_days": "ten"},
            {"expires_in_days": 0},
            {"expires_in_days": 10**6},
            {"expires_in_days": True},
        ),
    ),
    Endpoint("apikey-detail", "DELETE", {"pk": "apikey"}, ok=204),
    Endpoint("dataset-list", "GET"),
    Endpoint("dataset-list", "POST", body={"name": "d"}, ok=201, bad=DATASET_BAD),
    Endpoint("dataset-detail", "GET", D),
    Endpoint("dataset-detail", "PUT", D, body={"name": "d2"}, empty=200, bad=DATASET_BAD),
    Endpoint("dataset-detail", "DELETE", D, ok=204),
    Endpoint("dataset-share", "GET", D),
    Endpoint(
        "dataset-share",
        "POST",
        D,
        body={"username": "{stranger}", "role": "viewer"},
        ok=201,
        bad=(
            {"username": 5},
            {"username": "{stranger}", "role": "boss"},
            {"username": "{stranger}", "role": ["viewer"]},
            {"email": "x" * 255},
            {"username": "{stranger}", "role_id": 3},
        ),
    ),
    Endpoint("dataset-unshare", "DELETE", {"pk": "dataset", "user_id": "sharee"}, ok=204),
    Endpoint("version-list", "GET", {"dataset_id": "dataset"}),
    Endpoint(
        "version-list",
        "POST",
        {"dataset_id": "dataset"},
        body={"name": "v9"},
        ok=201,
        empty=201,
        bad=VERSION_BAD,
    ),
    Endpoint("version-detail", "GET", {"dataset_id": "dataset", "pk": "version"}),
    Endpoint(
        "version-detail",
        "PUT",
        {"dataset_id": "dataset", "pk": "version"},
        body={"name": "v9"},
        empty=200,
        bad=VERSION_BAD,
    ),
    Endpoint("version-detail", "DELETE", {"dataset_id": "dataset", "pk": "version"}, ok=204),
    Endpoint("label-list", "GET", V),
    Endpoint("label-list", "POST", V, body={"name": "dog"}, ok=201, bad=LABEL_BAD),
    Endpoint("label-detail", "GET", {**V, "pk": "label"}),
    Endpoint(
        "label-detail",
        "PUT",
        {**V, "pk": "label"},
        body={"name": "kitten"},
        empty=200,
        bad=LABEL_BAD,
    ),
    Endpoint("label-detail", "DELETE", {**V, "pk": "label"}, ok=204),
    Endpoint("split-list", "GET", V),
    Endpoint("split-list", "POST", V, body={"name": "extra"}, ok=201, bad=SPLIT_BAD),
    Endpoint("split-detail", "GET", {**V, "pk": "split"}),
    Endpoint(
        "split-detail",
        "PUT",
        {**V, "pk": "split"},
        body={"name": "training"},
        empty=200,
        bad=SPLIT_BAD,
    ),
    Endpoint("split-detail", "DELETE", {**V, "pk": "split"}, ok=204),
    Endpoint(
        "split-add-inferences",
        "POST",
        {**V, "pk": "split"},
        body={"inferences": [{"name": "n", "prediction": "cat"}]},
        bad=(
            {"keep_annotations": "true", "inferences": []},
            {"inferences": {}},
            {"inferences": [{"confidence": "x"}]},
            {"inferences": [{"name": LONG}]},
            {"inferences": [{"inference_items": {}}]},
            {"inferences": [[]]},
            {"inferences": [{"prediction": "zebra"}]},
            {"inferences": [{"inference_items": [{"prediction": 5}]}]},
            {"inferences": [{"name": "\x00", "prediction": "cat"}]},
        ),
    ),
    Endpoint("split-remove-item", "DELETE", {**V, "pk": "split", "item_id": "item"}),
    Endpoint("item-list", "GET", V),
    Endpoint(
        "item-list",
        "POST",
        V,
        body={"name": "i", "splits": [{"id": "{split}"}]},
        ok=201,
        empty=201,
        bad=(
            *ITEM_BAD,
            {"splits": {}},
            {"splits": [{"id": NOT_UUID}]},
            {"splits": [{"id": 5}]},
            {"splits": ["{split}"]},
            {"splits": [{}]},
            {"splits": [{"id": UNKNOWN}]},
        ),
    ),
    Endpoint("item-detail", "GET", {**V, "pk": "item"}),
    Endpoint(
        "item-detail", "PUT", {**V, "pk": "item"}, body={"name": "i2"}, empty=200, bad=ITEM_BAD
    ),
    Endpoint(
        "annotation-list",
        "POST",
        V,
        ok=201,
        body={"label_id": "{label}", "item_id": "{item}", "split_id": "{split}"},
        bad=tuple(
            {"label_id": "{label}", "item_id": "{item}", "split_id": "{split}", **change}
            for change in (
                {"label_id": NOT_UUID},
                {"item_id": 5},
                {"split_id": {}},
                {"label_id": UNKNOWN},
                {"item_id": UNKNOWN},
                {"split_id": UNKNOWN},
                {"coordinates": 5},
                {"coordinates": "x" * 100_001},
                {"label_id": None},
            )
        ),
    ),
    Endpoint(
        "annotation-detail",
        "PUT",
        {**V, "pk": "annotation"},
        body={"coordinates": "1,2,3,4"},
        empty=200,
        bad=(
            {"label_id": NOT_UUID},
            {"split_id": 5},
            {"coordinates": []},
            {"label_id": UNKNOWN},
            {"split_id": UNKNOWN},
        ),
    ),
    Endpoint("annotation-detail", "DELETE", {**V, "pk": "annotation"}),
    Endpoint("label-stats", "GET", {**V, "split_id": "split"}),
    Endpoint("split-total", "GET", {**V, "split_id": "split"}),
]
WITH_PATH = [e for e in ENDPOINTS if e.path]
WITH_BODY = [e for e in ENDPOINTS if e.body is not None]
NEEDS_AUTH = [e for e in ENDPOINTS if e.auth]


# -- helpers ---------------------------------------------------------------------------------


def fill(value, ids: dict):
    """The body with "{key}" placeholders replaced by the world's ids."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return str(ids[value[1:-1]])
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [fill(v, ids) for v in value]
    return value


def call(client: APIClient, endpoint: Endpoint, ids: dict, raw: str | bytes | None = None):
    url = endpoint.url(ids)
    if raw is None and endpoint.body is not None:
        raw = json.dumps(fill(endpoint.body, ids))
    return client.generic(endpoint.method, url, raw or "", content_type="application/json")


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.fixture
def stranger(db):
    return UserFactory(username="stranger")


@pytest.fixture
def ids(user, other_user, stranger) -> dict:
    return {**make_world(user, other_user), "stranger": stranger.username}


@pytest.fixture
def foreign(stranger) -> dict:
    """The same kinds of rows in a dataset the caller cannot see."""
    return make_world(stranger, UserFactory())


@pytest.fixture
def sibling(user) -> dict:
    """The same kinds of rows in another dataset of the caller: a valid id, wrong parent."""
    return make_world(user, UserFactory())


# -- the valid call works (so every refusal below is about the bad part) ----------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_the_valid_call_succeeds(api, ids, endpoint):
    response = call(api, endpoint, ids)
    assert response.status_code == endpoint.ok, response.content[:300]
    if endpoint.ok != 204:
        assert response["Content-Type"].startswith("application/json")


# -- ids in the path --------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", WITH_PATH, ids=str)
def test_malformed_unknown_and_foreign_path_ids_are_404(api, ids, foreign, sibling, endpoint):
    before = db_snapshot()
    for key in endpoint.path.values():
        substitutes = [NOT_UUID, "0" * 33, UNKNOWN, str(foreign[key])]
        if len(endpoint.path) > 1:  # a valid id of the caller's, under the wrong parent
            substitutes.append(str(sibling[key]))
        for bad in substitutes:
            assert_json_error(call(api, endpoint, {**ids, key: bad}), 404)
    assert db_snapshot() == before


def test_unknown_api_route_and_method_are_json(api, ids):
    assert_json_error(api.get("/api/v1/nothing-here"), 404)
    assert_json_error(api.get(reverse("dataset-list") + "x/y/z"), 404)
    url = reverse(
        "annotation-list", kwargs={"dataset_id": ids["dataset"], "version_id": ids["version"]}
    )
    assert_json_error(api.get(url), 405)
    assert_json_error(
        api.patch(
            reverse("dataset-detail", kwargs={"pk": ids["dataset"]}), {"name": "x"}, format="json"
        ),
        405,
    )


# -- bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", [e for e in WITH_BODY if e.bad], ids=str)
def test_wrong_types_overlong_strings_and_bad_ids_in_the_body_are_400(api, ids, endpoint):
    before = db_snapshot()
    for bad in endpoint.bad:
        response = call(api, endpoint, ids, raw=json.dumps(fill(bad, ids)))
        body = assert_json_error(response, 400)
        assert body.get("errors"), (bad, body)
    assert db_snapshot() == before


INVALID_JSON = ['{"name": ', "{'name': 'x'}", '{"name": "x"} trailing', "nan", b"\xff{}"]
NOT_AN_OBJECT = ["[]", '"text"', "null", '[{"name": "x"}]']


@pytest.mark.parametrize("endpoint", WITH_BODY, ids=str)
def test_invalid_json_and_non_objects_are_400(api, ids, endpoint):
    before = db_snapshot()
    for raw in INVALID_JSON + NOT_AN_OBJECT:
        assert_json_error(call(api, endpoint, ids, raw=raw), 400)
    assert db_snapshot() == before


@pytest.mark.parametrize("endpoint", WITH_BODY, ids=str)
@pytest.mark.parametrize("content_type", ["application/json", ""])
def test_empty_body(api, ids, endpoint, content_type):
    before = db_snapshot()
    response = api.generic(endpoint.method, endpoint.url(ids), "", content_type=content_type)
    assert response.status_code == endpoint.empty, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    if endpoint.empty >= 400:
        assert response.json()["message"]
        assert db_snapshot() == before


# -- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", NEEDS_AUTH, ids=str)
def test_missing_wrong_or_revoked_key_is_401_json(user, ids, endpoint):
    key, revoked = services.apikey_create(user=user)
    services.apikey_revoke(key=key)
    before = db_snapshot()
    client = APIClient()
    for header in (None, "Bearer nope", f"Bearer {revoked}"):
        client.credentials(**({"HTTP_AUTHORIZATION": header} if header else {}))
        assert_json_error(call(client, endpoint, ids), 401)
    assert db_snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        "name=a%00b",
        "splitId=%00",
        "labelId=%ED%A0%80",
        "pageCount=" + "9" * 40,
        "pageSize=" + "9" * 5000,
        "onlyUnlabelled=%00",
        "pageSize=%C2%B2",
    ],
)
def test_bad_query_parameters_are_400(api, ids, query):
    url = reverse("item-list", kwargs={"dataset_id": ids["dataset"], "version_id": ids["version"]})
    assert_json_error(api.get(f"{url}?{query}"), 400)


def test_bad_if_match_header_is_400(api, ids):
    url = reverse(
        "item-detail",
        kwargs={"dataset_id": ids["dataset"], "version_id": ids["version"], "pk": ids["item"]},
    )
    before = db_snapshot()
    for header in ('"x"', '"1', '1"', '"1" "1"', "9" * 5000, "\u00b2", '"-1"', ""):
        response = api.put(url, {"name": "x"}, format="json", HTTP_IF_MATCH=header)
        assert "If-Match" in assert_json_error(response, 400)["errors"], header
    assert db_snapshot() == before


# -- hostile shapes and strings (security review: each of these was a 500) --------------------

DEEP = 100_000
LONE_SURROGATE = "a\ud800b"  # json.dumps writes the escape "\ud800": valid JSON, invalid UTF-8
NUL = "a\x00b"


def deep_bodies() -> list[str]:
    return [
        '{"name": ' + "[" * DEEP + "]" * DEEP + "}",
        '{"a":' * DEEP + "1" + "}" * DEEP,
        '{"name": ' + "[" * 65 + "]" * 65 + "}",  # just past the limit (64)
    ]


def string_leaves(value, path=()):
    """Paths to every string in a JSON value (dict keys included, as ``("key", name)``)."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield (*path, ("key", k))
            yield from string_leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from string_leaves(v, (*path, i))


def replaced(value, path, bad: str):
    """``value`` with the string at ``path`` replaced by ``bad`` (a key: renamed to it)."""
    if not path:
        return bad
    head, *rest = path
    if isinstance(head, tuple):  # a dict key
        return {(bad if k == head[1] else k): v for k, v in value.items()}
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[head] = replaced(value[head], rest, bad)
    return copy


@pytest.mark.parametrize("endpoint", WITH_BODY, ids=str)
def test_deeply_nested_json_is_400(api, ids, endpoint):
    before = db_snapshot()
    for raw in deep_bodies():
        body = assert_json_error(call(api, endpoint, ids, raw=raw), 400)
        assert "nested" in body["message"]
    assert db_snapshot() == before


def test_deeply_nested_json_on_login_without_a_key(anon, user):
    for raw in deep_bodies():
        response = anon.generic("POST", reverse("login-api"), raw, content_type="")
        assert "nested" in assert_json_error(response, 400)["message"]


def test_nesting_under_the_limit_is_read(api, ids):
    url = reverse("label-list", kwargs={"dataset_id": ids["dataset"], "version_id": ids["version"]})
    raw = '{"name": "deepish", "description": "d", "x": ' + "[" * 30 + "]" * 30 + "}"
    response = api.generic("POST", url, raw, content_type="application/json")
    assert response.status_code == 201, response.content[:300]


@pytest.mark.parametrize("bad", [LONE_SURROGATE, NUL], ids=["surrogate", "nul"])
@pytest.mark.parametrize("endpoint", WITH_BODY, ids=str)
def test_surrogates_and_nul_in_any_string_of_a_body_are_400(api, ids, endpoint, bad):
    valid = fill(endpoint.body, ids)
    before = db_snapshot()
    for path in string_leaves(valid):
        raw = json.dumps(replaced(valid, path, bad))
        body = assert_json_error(call(api, endpoint, ids, raw=raw), 400)
        assert "character" in body["message"], (path, body)
    raw = json.dumps({**valid, bad: "x"})  # an unknown key is refused too
    assert_json_error(call(api, endpoint, ids, raw=raw), 400)
    assert db_snapshot() == before


def tool_url(name: str, ids: dict, **more) -> str:
    return reverse(
        name, kwargs={"dataset_id": ids["dataset"], "version_id": ids["version"], **more}
    )


@pytest.mark.parametrize("bad", [LONE_SURROGATE, NUL], ids=["surrogate", "nul"])
def test_surrogates_and_nul_in_the_split_tools_are_400(api, ids, bad):
    before = db_snapshot()
    ratios = {"train": 0.8, "valid": 0.1, "test": 0.1}
    assign = tool_url("split-assign", ids)
    for body in (
        {"ratios": ratios, "seed": bad, "dry_run": True},
        {"ratios": {**ratios, bad: 0.0}, "dry_run": True},
    ):
        raw = json.dumps(body)
        assert_json_error(api.generic("POST", assign, raw, content_type="application/json"), 400)
    move = tool_url("split-move", ids, split_id=ids["split"])
    for body in ({"filters": {"name": bad}}, {"filters": {bad: "x"}}):
        raw = json.dumps(body)
        assert_json_error(api.generic("POST", move, raw, content_type="application/json"), 400)
    assert db_snapshot() == before


@pytest.mark.parametrize(
    "url_name", ["dataset-list", "label-list", "item-list", "version-list", "apikey-list"]
)
@pytest.mark.parametrize("query", ["q=a%00b", "a%00=1", "pageSize=%00", "name=%00"])
def test_nul_in_any_query_parameter_is_400(api, ids, url_name, query):
    kwargs = {"dataset_id": ids["dataset"], "version_id": ids["version"]}
    needed = {
        "dataset-list": {},
        "apikey-list": {},
        "version-list": {"dataset_id": ids["dataset"]},
    }.get(url_name, kwargs)
    response = api.get(reverse(url_name, kwargs=needed) + "?" + query)
    assert "character" in assert_json_error(response, 400)["message"]


@pytest.mark.parametrize("path", ["/api/v1/datasets/a%00b", "/api/v1/%00", "/api/v1/datasets%00"])
def test_nul_in_an_api_path_is_400_json(api, path):
    assert "character" in assert_json_error(api.get(path), 400)["message"]


@pytest.mark.parametrize(
    "url", ["/?q=a%00b", "/?page=%00", "/%00/", "/datasets/%00/", "/login/?next=%00"]
)
def test_nul_in_a_page_address_is_a_400_page(user, url):
    from django.test import Client

    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"character" in response.content


def test_nul_in_the_sign_in_form_is_a_form_error(db):
    from django.test import Client

    response = Client().post(reverse("login"), {"username": "a\x00b", "password": "x"})
    assert response.status_code == 200
    assert b"Null characters are not allowed" in response.content


@pytest.mark.parametrize("field", ["ratios", "separator", "seed"])
def test_nul_in_a_page_form_is_a_form_error(user, ids, field):
    from django.test import Client

    client = Client()
    client.force_login(user)
    url = tool_url("tools:split-assign", ids)
    data = {"ratios": "train=0.8,valid=0.1,test=0.1", "scope": "all", "separator": "_"}
    data |= {"seed": "s", field: data.get(field, "s") + "\x00", "action": "apply"}
    before = db_snapshot()
    response = client.post(url, data)
    assert response.status_code == 200
    assert b"Null characters are not allowed" in response.content
    assert db_snapshot() == before
