"""Item workflow state (DATA.md "Item state"), share roles ("Share roles") and the item PUT
that moves an item between splits ("Moving an item by PUT")."""

import pytest
from django.urls import reverse

from labels.models import Annotation
from labels.services import version_duplicate
from seeme.models import DatasetShare, ItemState, Role
from splits.models import ItemSplit
from tests.conftest import assert_stats_exact, client_for, db_snapshot
from tests.factories import AnnotationFactory, ItemFactory, LabelFactory, UserFactory, share


def state_url(version, item):
    return reverse(
        "item-state",
        kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, "item_id": item.pk},
    )


def states_url(version):
    return reverse(
        "version-states", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
    )


def item_url(version, item):
    return reverse(
        "item-detail",
        kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, "pk": item.pk},
    )


@pytest.fixture
def item(version, splits):
    return ItemFactory(dataset_version=version, splits=[splits["train"]], name="a.jpg")


# -- item state -------------------------------------------------------------------------------


def test_unwritten_state_is_a_scaffold_at_version_zero(api, version, item):
    answer = api.get(state_url(version, item))
    assert answer.status_code == 200
    body = answer.json()
    assert body["version"] == 0
    assert body["item_id"] == str(item.pk)
    assert body["dataset_version_id"] == str(version.pk)
    assert body["state"] == ""
    assert set(body) == {
        "id",
        "created_at",
        "updated_at",
        "name",
        "description",
        "item_id",
        "dataset_version_id",
        "user_id",
        "state",
        "version",
    }


def test_put_state_bumps_version_and_if_match_guards(api, user, version, item):
    first = api.put(state_url(version, item), {"state": "labelled"}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["version"] == 1
    assert first.json()["state"] == "labelled"
    assert first.json()["user_id"] == str(user.pk)
    second = api.put(
        state_url(version, item), {"state": "reviewed"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert second.status_code == 200
    assert second.json()["version"] == 2
    stale = api.put(
        state_url(version, item), {"state": "rejected"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    row = ItemState.objects.get(item=item)
    assert (row.state, row.version) == ("reviewed", 2)
    assert api.get(state_url(version, item)).json()["state"] == "reviewed"


def test_if_match_zero_means_never_written(api, version, item):
    ok = api.put(state_url(version, item), {"state": "a"}, format="json", HTTP_IF_MATCH='"0"')
    assert ok.status_code == 200
    again = api.put(state_url(version, item), {"state": "b"}, format="json", HTTP_IF_MATCH='"0"')
    assert again.status_code == 412
    assert again.json()["current_version"] == 1


@pytest.mark.parametrize("body", [{}, {"state": ""}, {"state": 3}, {"state": "x" * 65}])
def test_bad_state_is_a_400_that_writes_nothing(api, version, item, body):
    before = db_snapshot()
    answer = api.put(state_url(version, item), body, format="json")
    assert answer.status_code == 400
    assert "state" in answer.json().get("errors", {}) or "state" in answer.json()["message"]
    assert db_snapshot() == before


def test_states_lists_every_row_of_the_version(api, version, splits, item):
    other = ItemFactory(dataset_version=version, splits=[splits["valid"]])
    ItemFactory(dataset_version=version, splits=[splits["test"]])  # never written: not listed
    api.put(state_url(version, item), {"state": "done"}, format="json")
    api.put(state_url(version, other), {"state": "todo"}, format="json")
    answer = api.get(states_url(version))
    assert answer.status_code == 200
    assert {(r["item_id"], r["state"]) for r in answer.json()} == {
        (str(item.pk), "done"),
        (str(other.pk), "todo"),
    }


def test_state_of_an_item_of_another_version_is_404(api, user, version, item):
    from tests.factories import DatasetFactory

    elsewhere = DatasetFactory(owner=user).versions.get()
    assert api.get(state_url(elsewhere, item)).status_code == 404
    assert api.put(state_url(elsewhere, item), {"state": "x"}, format="json").status_code == 404


def test_viewer_may_read_but_not_write_state_and_stranger_gets_404(dataset, version, item):
    viewer, annotator, stranger = UserFactory(), UserFactory(), UserFactory()
    share(dataset, viewer, Role.VIEWER)
    share(dataset, annotator, Role.ANNOTATOR)
    as_viewer = client_for(viewer)
    assert as_viewer.get(state_url(version, item)).status_code == 200
    assert as_viewer.put(state_url(version, item), {"state": "x"}, format="json").status_code == 403
    assert not ItemState.objects.exists()
    as_stranger = client_for(stranger)
    assert as_stranger.get(state_url(version, item)).status_code == 404
    assert as_stranger.get(states_url(version)).status_code == 404
    put = client_for(annotator).put(state_url(version, item), {"state": "x"}, format="json")
    assert put.status_code == 200


def test_duplicate_copies_state_rows(user, version, splits, item):
    from seeme.services import item_state_set

    item_state_set(item=item, state="reviewed", user=user)
    item_state_set(item=item, state="done", user=user)
    copy = version_duplicate(version=version, user=user, name="v2")
    row = ItemState.objects.get(dataset_version=copy)
    assert row.item.dataset_version_id == copy.pk
    assert row.item.name == item.name
    assert (row.state, row.version, row.user_id) == ("done", 2, user.pk)
    # the source keeps its own row, and the two evolve apart
    item_state_set(item=row.item, state="todo", user=user)
    assert ItemState.objects.get(item=item).state == "done"


# -- share roles ------------------------------------------------------------------------------


def test_share_roles_lists_three_roles(api):
    answer = api.get(reverse("share-roles"))
    assert answer.status_code == 200
    roles = {r["slug"]: r for r in answer.json()}
    assert set(roles) == {"share_viewer", "share_annotator", "share_editor"}
    assert {r["name"] for r in roles.values()} == {"viewer", "annotator", "editor"}
    assert all(r["id"] and r["description"] for r in roles.values())


def test_share_roles_needs_a_signed_in_caller(anon):
    assert anon.get(reverse("share-roles")).status_code == 401


@pytest.mark.parametrize("how", ["id", "slug", "name"])
def test_share_accepts_role_id_slug_or_name(api, dataset, how):
    roles = {r["name"]: r for r in api.get(reverse("share-roles")).json()}
    value = {"id": roles["editor"]["id"], "slug": "share_editor", "name": "editor"}[how]
    target = UserFactory()
    answer = api.post(
        reverse("dataset-share", kwargs={"pk": dataset.pk}),
        {"email": target.email, "role_id": value},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    assert DatasetShare.objects.get(dataset=dataset, user=target).role == "editor"


def test_share_with_unknown_role_is_400_and_writes_nothing(api, dataset):
    target = UserFactory()
    answer = api.post(
        reverse("dataset-share", kwargs={"pk": dataset.pk}),
        {"email": target.email, "role_id": "share_owner"},
        format="json",
    )
    assert answer.status_code == 400
    assert "share-roles" in str(answer.json())
    assert not DatasetShare.objects.filter(user=target).exists()


# -- moving an item by PUT --------------------------------------------------------------------


def splits_of(item):
    return set(ItemSplit.objects.filter(item=item).values_list("split__name", flat=True))


def test_put_with_other_split_moves_item_and_its_annotations(api, version, splits, item):
    cat = LabelFactory(version=version, name="cat")
    AnnotationFactory(item=item, split=splits["train"], label=cat)
    answer = api.put(
        item_url(version, item),
        {"name": "b.jpg", "splits": [{"id": str(splits["valid"].pk)}]},
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert [s["name"] for s in answer.json()["splits"]] == ["valid"]
    assert answer.json()["name"] == "b.jpg"
    assert splits_of(item) == {"valid"}
    assert Annotation.objects.get(item=item).split_id == splits["valid"].pk
    assert_stats_exact()


def test_put_with_unchanged_splits_changes_no_membership(api, version, splits, item):
    before = list(ItemSplit.objects.filter(item=item).values_list("pk", "split_id"))
    answer = api.put(
        item_url(version, item),
        {"splits": [{"id": str(splits["train"].pk), "name": "train"}]},
        format="json",
    )
    assert answer.status_code == 200
    assert list(ItemSplit.objects.filter(item=item).values_list("pk", "split_id")) == before


def test_put_with_superset_adds_the_item_to_the_new_split(api, version, splits, item):
    body = {"splits": [{"id": str(splits["train"].pk)}, {"id": str(splits["test"].pk)}]}
    assert api.put(item_url(version, item), body, format="json").status_code == 200
    assert splits_of(item) == {"train", "test"}
    assert_stats_exact()


@pytest.mark.parametrize("kind", ["empty", "swap_two", "unknown"])
def test_put_with_a_change_it_cannot_make_is_a_400_naming_what_to_call(api, version, splits, kind):
    item = ItemFactory(dataset_version=version, splits=[splits["train"], splits["valid"]])
    body = {
        "empty": [],
        "swap_two": [{"id": str(splits["train"].pk)}, {"id": str(splits["test"].pk)}],
        "unknown": [{"id": "00000000-0000-0000-0000-000000000001"}],
    }[kind]
    before = db_snapshot()
    answer = api.put(item_url(version, item), {"name": "zz", "splits": body}, format="json")
    assert answer.status_code == 400
    assert "splits" in answer.json()["errors"]
    if kind != "unknown":
        assert "…/splits/" in answer.json()["message"]
    assert db_snapshot() == before


def test_put_move_with_stale_if_match_writes_nothing(api, version, splits, item):
    before = db_snapshot()
    answer = api.put(
        item_url(version, item),
        {"splits": [{"id": str(splits["valid"].pk)}]},
        format="json",
        HTTP_IF_MATCH='"7"',
    )
    assert answer.status_code == 412
    assert db_snapshot() == before


@pytest.mark.parametrize("rows", [1, 12])
def test_states_list_takes_the_same_queries_for_1_and_n_rows(
    api, user, version, splits, rows, django_assert_max_num_queries
):
    from seeme.services import item_state_set

    for n in range(rows):
        made = ItemFactory(dataset_version=version, splits=[splits["train"]])
        item_state_set(item=made, state=f"s{n}", user=user)
    with django_assert_max_num_queries(4):
        answer = api.get(states_url(version))
    assert len(answer.json()) == rows


@pytest.mark.parametrize("header", ['"x"', "1.5", '"-1"'])
def test_malformed_if_match_on_state_is_a_400(api, version, item, header):
    answer = api.put(state_url(version, item), {"state": "a"}, format="json", HTTP_IF_MATCH=header)
    assert answer.status_code == 400
    assert "If-Match" in answer.json()["errors"]
    assert not ItemState.objects.exists()


def test_weak_and_star_if_match_on_state(api, version, item):
    assert (
        api.put(
            state_url(version, item), {"state": "a"}, format="json", HTTP_IF_MATCH="*"
        ).status_code
        == 200
    )
    answer = api.put(state_url(version, item), {"state": "b"}, format="json", HTTP_IF_MATCH='W/"1"')
    assert answer.status_code == 200 and answer.json()["version"] == 2
