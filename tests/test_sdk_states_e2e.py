"""End to end with the official SeeMe SDK (0.43.x), unchanged: item states with If-Match,
every state of a version, duplicate copying them, share roles by id, and an item PUT that
moves the item (DATA.md "Item state", "Share roles", "Moving an item by PUT")."""

import pytest
import requests

from seeme.models import ItemState
from splits.models import ItemSplit
from tests.conftest import assert_stats_exact
from tests.factories import UserFactory
from tests.test_sdk_e2e import Dataset, DatasetItem, Label, PreconditionFailed, logged_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backend(live_server) -> str:
    return live_server.url + "/api/v1/"


def test_sdk_item_state_roles_and_move_by_put(backend):
    owner, friend = UserFactory(), UserFactory()
    client = logged_in(backend, owner)
    dataset = client.create_dataset(
        Dataset(name="states", content_type="images", default_splits=True)
    )
    version = dataset.versions[0]
    ds, v = dataset.id, version.id
    splits = {s.name: s for s in client.get_dataset_splits(ds, v)}
    client.create_dataset_label(ds, v, Label(name="cat", version_id=v))
    item = client.create_dataset_item(ds, v, DatasetItem(name="a.jpg", splits=[splits["train"]]))

    # state: a scaffold at 0, then If-Match writes; a stale one raises PreconditionFailed
    scaffold = client.get_dataset_item_state(ds, v, item.id)
    assert (scaffold.version, scaffold.item_id) == (0, item.id)
    first = client.update_dataset_item_state(ds, v, item.id, "labelled", if_match=0)
    assert (first.state, first.version) == ("labelled", 1)
    with pytest.raises(PreconditionFailed) as stale:
        client.update_dataset_item_state(ds, v, item.id, "rejected", if_match=0)
    assert stale.value.current_version == 1
    second = client.update_dataset_item_state(ds, v, item.id, "reviewed", if_match=1)
    assert second.version == 2
    states = client.get_dataset_item_states(ds, v)
    assert [(s.item_id, s.state, s.version) for s in states] == [(item.id, "reviewed", 2)]

    # duplicate: the copy has its own state rows
    copy = client.duplicate_dataset_version(ds, v)
    copied = client.get_dataset_item_states(ds, copy.id)
    assert [(s.state, s.version) for s in copied] == [("reviewed", 2)]
    assert copied[0].item_id != item.id and copied[0].dataset_version_id == copy.id

    # share roles: the SDK finds the annotator role's id by slug and shares with it
    roles = client.get_share_roles()
    assert {r["slug"] for r in roles} == {"share_viewer", "share_annotator", "share_editor"}
    role_id = client.get_share_role_id("share_annotator")
    client.share_dataset(ds, friend.email, role_id=role_id)
    helper = logged_in(backend, friend)
    assert helper.update_dataset_item_state(ds, v, item.id, "done").version == 3
    with pytest.raises(requests.HTTPError) as forbidden:  # annotators may not edit items
        helper.update_dataset_item(ds, v, helper.get_dataset_item(ds, v, item.id))
    assert forbidden.value.response.status_code == 403

    # item PUT: the fetched item sent back unchanged moves nothing; other splits move it
    fetched = client.get_dataset_item(ds, v, item.id)
    fetched.name = "b.jpg"
    same = client.update_dataset_item(ds, v, fetched, if_match=fetched.version)
    assert [s.name for s in same.splits] == ["train"] and same.name == "b.jpg"
    same.splits = [splits["valid"]]
    moved = client.update_dataset_item(ds, v, same, if_match=same.version)
    assert [s.name for s in moved.splits] == ["valid"]
    assert list(ItemSplit.objects.filter(item_id=item.id).values_list("split__name")) == [
        ("valid",)
    ]
    assert ItemState.objects.filter(item_id=item.id).get().version == 3
    assert_stats_exact()
