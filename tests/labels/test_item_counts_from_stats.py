"""The item list's total comes from LabelStat rows when the filters are what a row counts."""

import pytest
from django.urls import reverse

from labels.models import LabelStat
from tests.factories import AnnotationFactory, ItemFactory, LabelFactory


@pytest.fixture
def world(version, splits):
    train, valid = splits["train"], splits["valid"]
    cat = LabelFactory(version=version, name="cat")
    dog = LabelFactory(version=version, name="dog")
    items = [ItemFactory(dataset_version=version, splits=[train]) for _ in range(7)]
    both = ItemFactory(dataset_version=version, splits=[train, valid])
    ItemFactory(dataset_version=version)  # in no split
    for item in items[:3]:
        AnnotationFactory(item=item, split=train, label=cat)
    AnnotationFactory(item=items[2], split=train, label=dog, coordinates="[1, 2, 3, 4]")
    AnnotationFactory(item=items[3], split=train, label=dog)
    AnnotationFactory(item=both, split=valid, label=cat)
    return {"train": train, "valid": valid, "cat": cat, "dog": dog}


def _list(api, version, params):
    url = reverse("item-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk})
    response = api.get(url, {"pageSize": 1000, **params})
    assert response.status_code == 200
    return int(response["X-Total-Count"]), len(response.json())


FILTERS = [
    {},
    {"splitId": "train"},
    {"splitId": "valid"},
    {"splitId": "train", "labelId": "cat"},
    {"splitId": "train", "labelId": "dog"},
    {"splitId": "valid", "labelId": "dog"},
    {"splitId": "train", "onlyUnlabelled": "true"},
    {"splitId": "valid", "onlyUnlabelled": "1"},
    {"splitId": "train", "onlyUnlabelled": "false"},
    {"splitId": "train", "labelId": "cat", "onlyUnlabelled": "true"},
    {"splitId": "train", "name": "item"},
    {"labelId": "cat"},
    {"onlyUnlabelled": "true"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "none")
def test_total_equals_the_items_listed_for_every_filter(api, version, world, filters):
    params = {k: (world[v].pk if k in ("splitId", "labelId") else v) for k, v in filters.items()}
    total, listed = _list(api, version, params)
    assert total == listed


@pytest.mark.parametrize(
    ("filters", "kind"),
    [
        ({"splitId": "train"}, LabelStat.Kind.TOTAL),
        ({"splitId": "train", "labelId": "cat"}, LabelStat.Kind.LABEL),
        ({"splitId": "train", "onlyUnlabelled": "true"}, LabelStat.Kind.UNLABELLED),
    ],
)
def test_total_is_read_from_the_stats_row_not_counted(
    api, version, world, filters, kind, django_assert_num_queries
):
    params = {k: (world[v].pk if k in ("splitId", "labelId") else v) for k, v in filters.items()}
    row = LabelStat.objects.get(
        split=world["train"],
        kind=kind,
        label=world["cat"] if kind == LabelStat.Kind.LABEL else None,
    )
    # A hand-edited row shows through: the list did not count the items itself.
    LabelStat.objects.filter(pk=row.pk).update(
        item_count=row.item_count + 40, count=row.item_count + 40
    )
    total, listed = _list(api, version, params)
    assert total == listed + 40


def test_a_split_of_another_version_falls_back_to_counting(api, version, world, user):
    from tests.factories import DatasetFactory

    foreign_split = DatasetFactory(owner=user).versions.get().splits.get(name="train")
    total, listed = _list(api, version, {"splitId": foreign_split.pk})
    assert (total, listed) == (0, 0)
