"""Query counts of every list endpoint: the same number for 1 row as for 50 (no N+1).

Each request also pays for authentication: the API key lookup and, for a key not used in the
last minute, the ``last_used_at`` update (2 queries)."""

import pytest
from django.urls import reverse

from labels.services import add_inferences
from seeme import services
from seeme.models import Role
from tests.conftest import client_for
from tests.factories import (
    DatasetFactory,
    LabelFactory,
    SplitFactory,
    UserFactory,
    VersionFactory,
    share,
)

AUTH = 2


def _labels(version, n):
    return [LabelFactory(version=version, name=f"label{i}") for i in range(n)]


def datasets(user, n):
    for i in range(n):
        LabelFactory(version=DatasetFactory(owner=user, name=f"d{i}").versions.get(), name="cat")
    return reverse("dataset-list")


def versions(user, n):
    dataset = DatasetFactory(owner=user)
    for i in range(n - 1):
        _labels(VersionFactory(dataset=dataset, name=f"extra{i}"), 1)
    return reverse("version-list", kwargs={"dataset_id": dataset.pk})


def labels(user, n):
    version = DatasetFactory(owner=user).versions.get()
    _labels(version, n)
    return reverse(
        "label-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
    )


def splits(user, n):
    version = DatasetFactory(owner=user, default_splits=False).versions.get()
    for i in range(n):
        SplitFactory(version=version, name=f"split{i}")
    return reverse(
        "split-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
    )


def items(user, n):
    """n items, each in a split with a whole-item annotation and a region."""
    version = DatasetFactory(owner=user, multi_label=True).versions.get()
    _labels(version, 2)
    add_inferences(
        split=version.splits.get(name="train"),
        user=user,
        keep_annotations=True,
        inferences=[
            {
                "name": f"i{i}",
                "inference_items": [
                    {"prediction": "label0"},
                    {"prediction": "label1", "coordinates": "1"},
                ],
            }
            for i in range(n)
        ],
    )
    return (
        reverse("item-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk})
        + "?pageSize=1000"
    )


def label_stats(user, n):
    version = DatasetFactory(owner=user).versions.get()
    _labels(version, n)
    return reverse(
        "label-stats",
        kwargs={
            "dataset_id": version.dataset_id,
            "version_id": version.pk,
            "split_id": version.splits.get(name="train").pk,
        },
    )


def shares(user, n):
    dataset = DatasetFactory(owner=user)
    for i in range(n):
        share(dataset, UserFactory(), [Role.VIEWER, Role.EDITOR][i % 2])
    return reverse("dataset-share", kwargs={"pk": dataset.pk})


def apikeys(user, n):
    for i in range(n - 1):  # the client's own key is the n-th
        services.apikey_create(user=user, name=f"k{i}")
    return reverse("apikey-list")


# (setup, queries) — the expected count, whatever the number of rows.
LISTS = [
    (datasets, AUTH + 4),  # datasets, versions, their labels, their splits
    (versions, AUTH + 4),  # the dataset (+ role), versions, labels, splits
    (labels, AUTH + 2),  # the version (+ dataset, role), labels
    (splits, AUTH + 2),
    (items, AUTH + 5),  # version, count, items, their splits, their annotations
    (label_stats, AUTH),  # the key, access and ids checked in the rows' own query
    # the dataset (its get_queryset prefetches versions, labels, splits), shares with users
    (shares, AUTH + 5),
    (apikeys, AUTH + 1),
]


@pytest.mark.parametrize("rows", [1, 50])
@pytest.mark.parametrize(("setup", "queries"), LISTS, ids=[f.__name__ for f, _ in LISTS])
def test_list_query_count_does_not_grow_with_rows(
    user, django_assert_num_queries, setup, queries, rows
):
    url = setup(user, rows)
    client = client_for(user)
    with django_assert_num_queries(queries):
        response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    # The answer really has the rows (a count test on an empty list proves nothing).
    if setup is label_stats:
        assert len(body) == rows + 1  # + the unlabelled row
    else:
        assert len(body) == rows
