"""End to end: the official SeeMe SDK (``seeme`` from PyPI) drives a live server.

pytest-django's ``live_server`` runs the app in a thread of this process over the test
database (``transactional_db``: rows are committed, so both threads see them; SQLite
in-memory shares its one connection with the server thread)."""

import importlib.metadata
import importlib.util
import sys
import warnings
from pathlib import Path

import pytest
import requests

from seeme.models import Item
from tests.conftest import assert_stats_exact
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _import_sdk():
    """The SDK's top-level package is also called ``seeme``, like this project's package, which
    wins on sys.path; load the installed distribution under the name ``seeme_sdk`` (its own
    imports are all relative)."""
    if "seeme_sdk" not in sys.modules:
        init = Path(importlib.metadata.distribution("seeme").locate_file("seeme/__init__.py"))
        spec = importlib.util.spec_from_file_location(
            "seeme_sdk", init, submodule_search_locations=[str(init.parent)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["seeme_sdk"] = module
        with warnings.catch_warnings():  # its pydantic models use v1-style config
            warnings.simplefilter("ignore", DeprecationWarning)
            spec.loader.exec_module(module)
    return sys.modules["seeme_sdk.seeme_client"], sys.modules["seeme_sdk.types"]


_client, _types = _import_sdk()
Client, PreconditionFailed = _client.Client, _client.PreconditionFailed
AddInferences, Annotation, Dataset = _types.AddInferences, _types.Annotation, _types.Dataset
DatasetItem, DatasetSplit, Label = _types.DatasetItem, _types.DatasetSplit, _types.Label
Inference, InferenceItem = _types.Inference, _types.InferenceItem

NO_ENV_FILE = "/nonexistent/seeme-sdk.env"  # the SDK reads .env from the cwd by default


@pytest.fixture
def backend(live_server) -> str:
    return live_server.url + "/api/v1/"


def sdk(backend: str, username: str | None = None, apikey: str | None = None) -> Client:
    return Client(username=username, apikey=apikey, backend=backend, env_file=NO_ENV_FILE)


def logged_in(backend: str, user) -> Client:
    client = sdk(backend)
    reply = client.login(user.username, PASSWORD)
    assert reply.username == user.username
    assert reply.id == str(user.pk)
    assert reply.apikey
    return client


class Numbers:
    """Label stats of one split through the SDK, by label name ("" is the unlabelled row)."""

    def __init__(self, client: Client, dataset_id: str, version_id: str, labels: dict):
        self.client, self.dataset_id, self.version_id = client, dataset_id, version_id
        self.names = {label.id: name for name, label in labels.items()}
        self.names[""] = ""

    def __call__(self, split) -> dict[str, tuple[int, int]]:
        """{label name: (item_count, annotation_count)}; also checks count == item_count."""
        rows = self.client.get_label_stats(self.dataset_id, self.version_id, split.id)
        assert all(row.split_id == split.id for row in rows)
        assert all(row.count == row.item_count for row in rows)
        unlabelled = self.client.get_stats_for_unlabelled(rows)
        assert unlabelled.annotation_count == 0
        assert [row.label_id for row in rows].count("") == 1
        return {self.names[row.label_id]: (row.item_count, row.annotation_count) for row in rows}

    def total(self, split) -> tuple[int, int]:
        """The split-total row (no SDK method: a plain GET with the SDK's own headers)."""
        url = (
            f"{self.client.backend}datasets/{self.dataset_id}/versions/{self.version_id}"
            f"/labels/stats/splits/{split.id}"
        )
        answer = requests.get(url, headers=self.client.headers, timeout=10)
        assert answer.status_code == 200
        row = answer.json()
        assert row["label_id"] == "" and row["count"] == row["item_count"]
        return row["item_count"], row["annotation_count"]


def test_sdk_dataset_workflow_with_exact_stats(backend):
    owner = UserFactory()
    client = logged_in(backend, owner)

    dataset = client.create_dataset(
        Dataset(
            name="animals",
            description="e2e",
            content_type="text",
            multi_label=False,
            default_splits=True,
        )
    )
    assert dataset.user_id == str(owner.pk)
    assert [v.name for v in dataset.versions] == ["v1"]
    version = dataset.versions[0]
    assert version.dataset_id == dataset.id
    splits = {s.name: s for s in version.splits}
    assert sorted(splits) == ["test", "train", "valid"]
    train, valid, test = splits["train"], splits["valid"], splits["test"]
    ds, v = dataset.id, version.id

    labels = {
        name: client.create_dataset_label(ds, v, Label(name=name, version_id=v))
        for name in ("cat", "dog", "bird")
    }
    assert [labels[n].index for n in ("cat", "dog", "bird")] == [0, 1, 2]
    assert [label.name for label in client.get_dataset_labels(ds, v)] == ["cat", "dog", "bird"]
    numbers = Numbers(client, ds, v, labels)
    assert numbers(train) == {"cat": (0, 0), "dog": (0, 0), "bird": (0, 0), "": (0, 0)}

    def item(name, *in_splits):
        created = client.create_dataset_item(
            ds,
            v,
            DatasetItem(
                name=name,
                text=f"text of {name}",
                splits=list(in_splits),
            ),
        )
        assert sorted(s.id for s in created.splits) == sorted(s.id for s in in_splits)
        assert created.version >= 0
        return created

    def annotate(on, label, split, coordinates=""):
        made = client.annotate(
            ds,
            v,
            Annotation(
                label_id=labels[label].id,
                item_id=on.id,
                split_id=split.id,
                coordinates=coordinates,
            ),
        )
        assert (made.label_id, made.item_id, made.split_id) == (labels[label].id, on.id, split.id)
        return made

    t1, t2, t3, t4, t5 = (item(f"t{n}", train) for n in range(1, 6))
    t6 = item("t6", train, test)
    cat_t1 = annotate(t1, "cat", train)
    annotate(t2, "cat", train)
    annotate(t2, "dog", train)  # single-label: replaces t2's whole-item "cat"
    annotate(t3, "dog", train)
    annotate(t3, "dog", train, coordinates="10,10,40,40")  # a region is never replaced
    annotate(t6, "bird", test)

    assert numbers(train) == {"cat": (1, 1), "dog": (2, 3), "bird": (0, 0), "": (3, 0)}
    assert numbers.total(train) == (6, 4)
    assert numbers(test) == {"cat": (0, 0), "dog": (0, 0), "bird": (1, 1), "": (0, 0)}
    assert numbers(valid) == {"cat": (0, 0), "dog": (0, 0), "bird": (0, 0), "": (0, 0)}
    unlabelled = client.get_dataset_items(
        ds,
        v,
        params={"splitId": train.id, "onlyUnlabelled": "true", "pageSize": 2},
    )
    assert [i.name for i in unlabelled] == ["t4", "t5"]
    page2 = client.get_dataset_items(
        ds,
        v,
        params={"splitId": train.id, "onlyUnlabelled": "True", "pageSize": 2, "pageCount": 1},
    )
    assert [i.name for i in page2] == ["t6"]

    # Split CRUD: a split with an item and an annotation, renamed, then deleted.
    holdout = client.create_dataset_split(ds, v, DatasetSplit(name="holdout", version_id=v))
    assert (holdout.name, holdout.version_id) == ("holdout", v)
    h1 = item("h1", holdout)
    annotate(h1, "cat", holdout)
    assert numbers(holdout) == {"cat": (1, 1), "dog": (0, 0), "bird": (0, 0), "": (0, 0)}
    fetched = client.get_dataset_split(ds, v, holdout.id)
    assert (fetched.id, fetched.name) == (holdout.id, "holdout")
    fetched.name, fetched.description = "holdout-2", "kept aside"
    renamed = client.update_dataset_split(ds, v, fetched)
    assert (renamed.id, renamed.name, renamed.description) == (
        holdout.id,
        "holdout-2",
        "kept aside",
    )
    assert client.get_dataset_split(ds, v, holdout.id).name == "holdout-2"
    assert [s.name for s in client.get_dataset_splits(ds, v)] == [
        "train",
        "valid",
        "test",
        "holdout-2",
    ]
    client.delete_dataset_split(ds, v, renamed)
    assert [s.name for s in client.get_dataset_splits(ds, v)] == ["train", "valid", "test"]
    with pytest.raises(requests.HTTPError) as gone:
        client.get_dataset_split(ds, v, holdout.id)
    assert gone.value.response.status_code == 404
    kept = client.get_dataset_item(ds, v, h1.id)  # items stay in the version
    assert (kept.splits, kept.annotations) == ([], [])

    # add_inferences, keeping annotations: the best whole-item prediction of each.
    answer = client.add_inferences(
        ds,
        v,
        valid.id,
        AddInferences(
            keep_annotations=True,
            inferences=[
                Inference(
                    name="i1",
                    result="a cat, maybe a dog",
                    inference_items=[
                        InferenceItem(prediction="dog", confidence=0.4),
                        InferenceItem(prediction="cat", confidence=0.9),
                    ],
                ),
                Inference(
                    name="i2", inference_items=[InferenceItem(prediction="bird", confidence=0.7)]
                ),
                Inference(name="i3", prediction="dog", confidence=0.8),
            ],
        ),
    )
    new_ids = [inference.dataset_item_id for inference in answer.inferences]
    assert len(set(new_ids)) == 3 and all(new_ids)
    i1 = client.get_dataset_item(ds, v, new_ids[0])
    assert (i1.name, i1.text, [s.id for s in i1.splits]) == ("i1", "a cat, maybe a dog", [valid.id])
    assert [a.label_id for a in i1.annotations] == [labels["cat"].id]
    assert numbers(valid) == {"cat": (1, 1), "dog": (1, 1), "bird": (1, 1), "": (0, 0)}

    # ... and without: the items arrive unlabelled.
    answer = client.add_inferences(
        ds,
        v,
        valid.id,
        AddInferences(
            keep_annotations=False,
            inferences=[
                Inference(name="i4", prediction="cat", confidence=0.9),
                Inference(
                    name="i5", inference_items=[InferenceItem(prediction="dog", confidence=1)]
                ),
            ],
        ),
    )
    assert all(inference.dataset_item_id for inference in answer.inferences)
    assert numbers(valid) == {"cat": (1, 1), "dog": (1, 1), "bird": (1, 1), "": (2, 0)}
    assert numbers.total(valid) == (5, 3)

    # A prediction naming no label: 400 and nothing written.
    items_before = Item.objects.count()
    with pytest.raises(requests.HTTPError) as refused:
        client.add_inferences(
            ds,
            v,
            valid.id,
            AddInferences(
                inferences=[
                    Inference(name="ok", prediction="cat"),
                    Inference(name="bad", prediction="zebra"),
                ]
            ),
        )
    assert refused.value.response.status_code == 400
    assert "zebra" in refused.value.response.json()["message"]
    assert Item.objects.count() == items_before
    assert numbers(valid) == {"cat": (1, 1), "dog": (1, 1), "bird": (1, 1), "": (2, 0)}

    # If-Match: the write at the version read applies; a stale one is refused.
    current = client.get_dataset_item(ds, v, t4.id)
    current.name = "t4 renamed"
    updated = client.update_dataset_item(ds, v, current, if_match=current.version)
    assert (updated.name, updated.version) == ("t4 renamed", current.version + 1)
    current.name = "lost update"
    with pytest.raises(PreconditionFailed) as stale:
        client.update_dataset_item(ds, v, current, if_match=current.version)
    assert stale.value.current_version == updated.version
    assert client.get_dataset_item(ds, v, t4.id).name == "t4 renamed"
    current.name = "last write wins"
    assert client.update_dataset_item(ds, v, current).name == "last write wins"

    # delete_annotation answers the deleted annotation; t1 is unlabelled again.
    deleted = client.delete_annotation(ds, v, cat_t1.id)
    assert (deleted.id, deleted.label_id, deleted.item_id) == (cat_t1.id, labels["cat"].id, t1.id)
    assert numbers(train) == {"cat": (0, 0), "dog": (2, 3), "bird": (0, 0), "": (4, 0)}

    # delete_dataset_item removes the item from one split; in no split any more, it is gone.
    left = client.delete_dataset_item(ds, v, train.id, t6.id)
    assert left.id == t6.id
    assert [s.id for s in left.splits] == [test.id]
    assert [a.label_id for a in left.annotations] == [labels["bird"].id]
    removed = client.delete_dataset_item(ds, v, train.id, t5.id)
    assert (removed.id, removed.splits, removed.annotations) == (t5.id, [], [])
    with pytest.raises(requests.HTTPError) as gone:
        client.get_dataset_item(ds, v, t5.id)
    assert gone.value.response.status_code == 404
    assert numbers(train) == {"cat": (0, 0), "dog": (2, 3), "bird": (0, 0), "": (2, 0)}
    assert numbers.total(train) == (4, 3)
    assert numbers(test) == {"cat": (0, 0), "dog": (0, 0), "bird": (1, 1), "": (0, 0)}
    assert_stats_exact()


def test_sdk_accounts_keys_sharing_and_logout(backend):
    owner, friend = UserFactory(), UserFactory()
    client = logged_in(backend, owner)
    dataset = client.create_dataset(
        Dataset(name="shared", content_type="images", default_splits=True)
    )
    version = dataset.versions[0]

    # API keys: the full key only in the create answer; it works until revoked.
    made = client.create_api_key("ci", expires_in_days=30)
    assert made.name == "ci" and made.key.startswith(made.key_prefix) and made.expires_at
    listed = {k.id: k for k in client.get_api_keys()}
    assert made.id in listed and listed[made.id].key in ("", None)
    assert listed[made.id].key_prefix == made.key_prefix
    by_key = sdk(backend, owner.username, made.key)
    assert [d.id for d in by_key.get_datasets()] == [dataset.id]
    client.delete_api_key(made.id)
    assert made.id not in {k.id for k in client.get_api_keys()}
    with pytest.raises(requests.HTTPError) as revoked:
        by_key.get_datasets()
    assert revoked.value.response.status_code == 401

    # Sharing: the friend sees the dataset as a viewer, and may not change it.
    friend_client = logged_in(backend, friend)
    assert friend_client.get_datasets() == []
    share = client.share_dataset(dataset.id, friend.email, role_id="viewer")
    assert (share.email, share.entity_type, share.entity_id, share.role_id) == (
        friend.email,
        "datasets",
        dataset.id,
        "viewer",
    )
    assert [d.id for d in friend_client.get_datasets()] == [dataset.id]
    assert (
        friend_client.get_label_stats(dataset.id, version.id, version.splits[0].id)[-1].label_id
        == ""
    )
    with pytest.raises(requests.HTTPError) as forbidden:
        friend_client.create_dataset_label(
            dataset.id, version.id, Label(name="cat", version_id=version.id)
        )
    assert forbidden.value.response.status_code == 403
    assert client.get_dataset_labels(dataset.id, version.id) == []

    # Logout revokes the key the client logged in with.
    login_key = client.apikey
    client.logout()
    assert not client.is_logged_in()
    with pytest.raises(requests.HTTPError) as logged_out:
        sdk(backend, owner.username, login_key).get_datasets()
    assert logged_out.value.response.status_code == 401
    assert [d.id for d in friend_client.get_datasets()] == [dataset.id]
