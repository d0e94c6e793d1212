"""The datasets page takes each dataset's item number from the statistics (the latest
version's split totals), never counts items, and runs the same queries for 1 or many
datasets."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labels.models import LabelStat
from tests.factories import DatasetFactory, ItemFactory, SplitFactory, VersionFactory
from tests.pages.helpers import page_client


def shown_items(body: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-dataset-id="([^"]+)">(.*?)</tr>', body, re.S)
    return {pk: re.search(r'data-count="items">([^<]*)<', row).group(1) for pk, row in rows}


def dataset_with_items(owner, n: int, *, name: str = "pets"):
    dataset = DatasetFactory(owner=owner, name=name)
    version = dataset.versions.get()
    splits = {s.name: s for s in version.splits.all()}
    for _ in range(n):
        ItemFactory(dataset_version=version, splits=[splits["train"]])
    return dataset, version, splits


@pytest.mark.django_db
def test_items_are_the_latest_versions_split_totals(user):
    dataset, v1, splits = dataset_with_items(user, 3)
    # An item in two splits counts in both totals: the column says "in splits".
    ItemFactory(dataset_version=v1, splits=[splits["train"], splits["valid"]])
    body = page_client(user).get(reverse("seeme:dataset-list")).content.decode()
    assert shown_items(body) == {str(dataset.pk): "5"}
    assert "Items in splits" in body and 'data-count-source="split-totals"' in body

    v2 = VersionFactory(dataset=dataset, name="v2")
    ItemFactory(dataset_version=v2, splits=[SplitFactory(version=v2, name="all")])
    body = page_client(user).get(reverse("seeme:dataset-list")).content.decode()
    totals = LabelStat.objects.filter(split__version=v2, kind=LabelStat.Kind.TOTAL)
    assert shown_items(body) == {str(dataset.pk): str(sum(t.item_count for t in totals))}
    assert shown_items(body)[str(dataset.pk)] == "1"


@pytest.mark.django_db
def test_a_dataset_without_versions_or_items_shows_zero(user):
    empty = DatasetFactory(owner=user, name="empty")
    body = page_client(user).get(reverse("seeme:dataset-list")).content.decode()
    assert shown_items(body) == {str(empty.pk): "0"}


@pytest.mark.django_db
def test_the_page_reads_no_item_row(user):
    dataset_with_items(user, 4)
    client = page_client(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("seeme:dataset-list")).status_code == 200
    item_reads = [q["sql"] for q in captured.captured_queries if '"seeme_item"' in q["sql"]]
    assert item_reads == []


@pytest.mark.django_db
def test_queries_do_not_grow_with_datasets_or_items(user, django_assert_num_queries):
    first, _, _ = dataset_with_items(user, 1, name="first")
    client = page_client(user)
    client.get(reverse("seeme:dataset-list"))  # session and first-request work out of the way
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("seeme:dataset-list"))
    others = [dataset_with_items(user, 5, name=f"more {i}")[0] for i in range(6)]
    with django_assert_num_queries(len(one)):
        body = client.get(reverse("seeme:dataset-list")).content.decode()
    shown = shown_items(body)
    assert shown[str(first.pk)] == "1"
    assert all(shown[str(d.pk)] == "5" for d in others)
