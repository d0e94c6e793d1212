"""Duplicating a version (POST .../versions/{id}/new) and comparing two versions."""

import json

import pytest
from django.urls import reverse

from labels import services as label_services
from labels.compare import version_diff
from labels.models import Annotation, Label, LabelStat
from labels.selectors import label_stats_recount
from labels.services.versions import version_duplicate
from seeme.exceptions import Conflict
from seeme.models import Item, Role
from splits.models import DatasetSplit, ItemSplit
from tests.conftest import assert_stats_exact, client_for
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    ItemFactory,
    LabelFactory,
    UserFactory,
    share,
)


@pytest.fixture
def world(version, splits):
    """cat / dog labels; annotated, unlabelled, regional and multi-split items."""
    cat = LabelFactory(version=version, name="cat", color="#112233", shortcut="c")
    dog = LabelFactory(version=version, name="dog")
    label_services.add_inferences(
        split=splits["train"],
        user=None,
        inferences=(
            [{"name": f"cat-{i}", "prediction": "cat"} for i in range(6)]
            + [{"name": f"dog-{i}", "prediction": "dog"} for i in range(3)]
        ),
    )
    both = ItemFactory(
        dataset_version=version,
        name="both",
        text="hello",
        group="g1",
        splits=[splits["valid"], splits["test"]],
    )
    AnnotationFactory(item=both, split=splits["valid"], label=dog)
    AnnotationFactory(item=both, split=splits["test"], label=cat, coordinates="[0,0,5,5]")
    ItemFactory.create_batch(2, dataset_version=version, splits=[splits["test"]])
    ItemFactory(dataset_version=version, name="loose")  # in no split
    return {"cat": cat, "dog": dog}


def stats_by_name(version):
    return sorted(
        (
            row.split.name,
            row.kind,
            row.label.name if row.label else "",
            row.count,
            row.annotation_count,
            row.item_count,
        )
        for row in LabelStat.objects.filter(split__version=version).select_related("split", "label")
    )


def content(version):
    """The version's contents by name, independent of ids."""
    items = list(
        Item.objects.filter(dataset_version=version)
        .order_by("created_at", "id")
        .values_list("name", "text", "group", "content_hash", "created_at")
    )
    memberships = sorted(
        ItemSplit.objects.filter(split__version=version).values_list("item__name", "split__name")
    )
    annotations = sorted(
        Annotation.objects.filter(split__version=version).values_list(
            "item__name", "split__name", "label__name", "coordinates", "created_at"
        )
    )
    labels = list(
        Label.objects.filter(version=version).values_list("name", "index", "color", "shortcut")
    )
    splits = list(
        DatasetSplit.objects.filter(version=version)
        .order_by("created_at", "id")
        .values_list("name", flat=True)
    )
    return items, memberships, annotations, labels, splits


def test_duplicate_copies_everything_with_exact_stats(user, version, world):
    source_before = content(version)
    copy = version_duplicate(version=version, user=user)
    assert copy.pk != version.pk and copy.dataset_id == version.dataset_id
    assert copy.name == "v2"
    assert content(copy) == source_before
    assert content(version) == source_before
    assert stats_by_name(copy) == stats_by_name(version)
    assert_stats_exact()
    copy_splits = list(copy.splits.values_list("pk", flat=True))
    recount = label_stats_recount(split_ids=copy_splits)
    stored = {
        (r.split_id, r.kind, r.label_id): (r.annotation_count, r.item_count)
        for r in LabelStat.objects.filter(split_id__in=copy_splits)
    }
    assert {k: (v.annotation_count, v.item_count) for k, v in recount.items()} == stored
    assert not set(Item.objects.filter(dataset_version=copy).values_list("pk", flat=True)) & set(
        Item.objects.filter(dataset_version=version).values_list("pk", flat=True)
    )


def test_a_version_filled_by_one_add_inferences_call_duplicates_and_so_does_its_copy(
    user, version, splits
):
    """The ids of one call are made within a millisecond or two: they share their first 64
    bits, and so do all rows of a copy. The copy's ids must still tell them apart."""
    names = [LabelFactory(version=version, name=name).name for name in ("cat", "dog", "bird")]
    label_services.add_inferences(
        split=splits["train"],
        user=None,
        inferences=[
            {"name": f"inference-{i}", "prediction": names[i % 3]} if i % 4 else {"name": f"x{i}"}
            for i in range(400)
        ],
    )
    ids = list(Item.objects.filter(dataset_version=version).values_list("pk", flat=True))
    assert len({pk.hex[:16] for pk in ids}) < len(ids)  # the case that must not collide
    source = content(version)
    copy = version_duplicate(version=version, user=user)
    again = version_duplicate(version=copy, user=user)
    for duplicate in (copy, again):
        assert content(duplicate) == source
        assert stats_by_name(duplicate) == stats_by_name(version)
    train = LabelStat.objects.get(
        split__version=again, split__name="train", kind=LabelStat.Kind.TOTAL
    )
    assert (train.item_count, train.annotation_count) == (400, 300)
    assert_stats_exact()


def test_the_copy_is_independent_of_its_source(user, version, splits, world):
    copy = version_duplicate(version=version, user=user, name="snapshot")
    item = Item.objects.filter(dataset_version=version, name="cat-0").get()
    label_services.item_delete(item=item)
    label_services.label_delete(label=world["dog"])
    assert Item.objects.filter(dataset_version=copy, name="cat-0").exists()
    assert copy.labels.filter(name="dog").exists()
    copy_train = copy.splits.get(name="train")
    label_services.item_create(version=copy, user=None, split_ids=[copy_train.pk])
    assert_stats_exact()
    with pytest.raises(Conflict):
        version_duplicate(version=version, user=user, name="snapshot")


def test_diff_counts_per_split_and_label(user, version, splits, world):
    copy = version_duplicate(version=version, user=user)
    copy_train = copy.splits.get(name="train")
    for _ in range(2):
        label_services.item_create(version=copy, user=None, split_ids=[copy_train.pk])
    label_services.label_delete(label=copy.labels.get(name="dog"))
    bird = label_services.label_create(version=copy, user=None, name="bird")
    extra = label_services.split_create(version=copy, user=None, name="extra")
    label_services.split_delete(split=copy.splits.get(name="valid"))
    item = label_services.item_create(version=copy, user=None, split_ids=[extra.pk])
    label_services.annotation_create(
        version=copy, user=None, label_id=bird.pk, item_id=item.pk, split_id=extra.pk
    )

    diff = version_diff(base=version, other=copy)
    by_split = {s.name: s for s in diff.splits}
    assert [s.name for s in diff.splits] == ["train", "valid", "test", "extra"]
    assert (by_split["valid"].in_base, by_split["valid"].in_other) == (True, False)
    assert (by_split["extra"].in_base, by_split["extra"].in_other) == (False, True)
    train = {(r.kind, r.label): r for r in by_split["train"].rows}
    assert [(r.kind, r.label) for r in by_split["train"].rows] == [
        ("label", "cat"),
        ("label", "dog"),
        ("label", "bird"),
        ("unlabelled", ""),
        ("total", ""),
    ]
    assert (train[("label", "cat")].base, train[("label", "cat")].other) == ((6, 6), (6, 6))
    assert train[("label", "dog")].base == (3, 3)
    assert train[("label", "dog")].other is None  # the label is gone from the copy
    assert train[("label", "dog")].difference == (-3, -3)
    assert train[("unlabelled", "")].difference == (5, 0)  # 3 former dogs + 2 new items
    assert train[("total", "")].difference == (2, -3)
    extra_rows = {(r.kind, r.label): r for r in by_split["extra"].rows}
    assert extra_rows[("label", "bird")].other == (1, 1)
    assert extra_rows[("label", "bird")].base is None
    assert extra_rows[("label", "bird")].difference == (1, 1)
    valid = {(r.kind, r.label): r for r in by_split["valid"].rows}
    assert valid[("total", "")].difference == (-1, -1)


# -- API ------------------------------------------------------------------------------------


def new_url(version):
    return reverse(
        "version-duplicate", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
    )


def diff_url(version, other):
    return reverse(
        "version-diff",
        kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, "other_id": other.pk},
    )


def test_api_duplicate_answers_the_new_version_like_the_sdk_expects(api, version, world):
    # The SDK posts a DatasetVersion with nulls and no Content-Type.
    body = {
        "id": None,
        "name": None,
        "description": None,
        "dataset_id": str(version.dataset_id),
        "labels": [],
        "splits": [],
        "config": None,
    }
    response = api.generic("POST", new_url(version), json.dumps(body), content_type="")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "v2" and data["dataset_id"] == str(version.dataset_id)
    assert [lb["name"] for lb in data["labels"]] == ["cat", "dog"]
    assert [s["name"] for s in data["splits"]] == ["train", "valid", "test"]
    items = api.get(
        reverse("item-list", kwargs={"dataset_id": version.dataset_id, "version_id": data["id"]}),
        {"pageSize": 100},
    )
    assert items.status_code == 200 and len(items.json()) == 13
    stats = api.get(
        reverse(
            "split-total",
            kwargs={
                "dataset_id": version.dataset_id,
                "version_id": data["id"],
                "split_id": data["splits"][0]["id"],
            },
        )
    ).json()
    assert (stats["item_count"], stats["annotation_count"]) == (9, 9)
    assert_stats_exact()


def test_api_duplicate_with_a_name_and_the_errors(api, user, version, world):
    response = api.post(new_url(version), {"name": "frozen"}, format="json")
    assert response.status_code == 201 and response.json()["name"] == "frozen"
    again = api.post(new_url(version), {"name": "frozen"}, format="json")
    assert again.status_code == 409 and again.json()["message"]
    assert api.post(new_url(version), {"name": 5}, format="json").status_code == 400
    foreign = DatasetFactory().versions.get()
    assert api.post(new_url(foreign), {}, format="json").status_code == 404
    viewer = UserFactory()
    share(version.dataset, viewer, Role.ANNOTATOR)
    assert client_for(viewer).post(new_url(version), {}, format="json").status_code == 403
    assert version.dataset.versions.count() == 2


def test_api_diff(api, user, version, splits, world):
    copy = version_duplicate(version=version, user=user)
    ItemFactory(dataset_version=copy, splits=[copy.splits.get(name="test")])
    response = api.get(diff_url(version, copy))
    assert response.status_code == 200
    data = response.json()
    assert data["base"] == {"id": str(version.pk), "name": "v1"}
    test = next(s for s in data["splits"] if s["name"] == "test")
    total = next(r for r in test["rows"] if r["kind"] == "total")
    assert total["base"] == {"items": 3, "annotations": 1}
    assert total["other"] == {"items": 4, "annotations": 1}
    assert total["difference"] == {"items": 1, "annotations": 0}
    assert total["in_base"] and total["in_other"]


def test_api_diff_only_within_the_dataset(api, user, version, world):
    mine_elsewhere = DatasetFactory(owner=user).versions.get()
    assert api.get(diff_url(version, mine_elsewhere)).status_code == 404
    bad = reverse(
        "version-diff",
        kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, "other_id": "x"},
    )
    assert api.get(bad).status_code == 404
    stranger = client_for(UserFactory())
    assert stranger.get(diff_url(version, version)).status_code == 404


def test_diff_reads_a_fixed_number_of_queries(
    user, version, splits, world, django_assert_num_queries
):
    copy = version_duplicate(version=version, user=user)
    with django_assert_num_queries(6):
        version_diff(base=version, other=copy)
    for name in ("bird", "fish", "frog"):
        label = LabelFactory(version=copy, name=name)
        item = ItemFactory(dataset_version=copy, splits=[copy.splits.get(name="test")])
        label_services.annotation_create(
            version=copy,
            user=None,
            label_id=label.pk,
            item_id=item.pk,
            split_id=item.splits.get().pk,
        )
    label_services.split_create(version=copy, user=None, name="holdout")
    with django_assert_num_queries(6):
        version_diff(base=version, other=copy)


def test_diff_api_query_count_does_not_grow_with_rows(
    api, user, version, splits, world, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    copy = version_duplicate(version=version, user=user)
    with CaptureQueriesContext(connection) as first:
        assert api.get(diff_url(version, copy)).status_code == 200
    label_services.add_inferences(
        split=copy.splits.get(name="train"),
        user=None,
        inferences=[{"name": f"more-{i}", "prediction": "dog"} for i in range(30)],
    )
    LabelFactory(version=copy, name="newt")
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert api.get(diff_url(version, copy)).status_code == 200
