"""Reading label statistics costs a fixed, small number of queries, none of which reads the
items, memberships or annotations tables: the numbers come from persisted LabelStat rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labels.models import Annotation
from seeme.models import Item
from splits.models import ItemSplit
from tests.factories import AnnotationFactory, ItemFactory, LabelFactory

SCANNED_TABLES = [Annotation._meta.db_table, Item._meta.db_table, ItemSplit._meta.db_table]
# One query: the key (with its user) is checked in the query of the split's rows, with the
# access (the dataset is visible to the caller) and the nesting of the ids.
READ_QUERIES = 1


def _urls(split):
    kwargs = {
        "dataset_id": split.version.dataset_id,
        "version_id": split.version_id,
        "split_id": split.pk,
    }
    return [reverse("label-stats", kwargs=kwargs), reverse("split-total", kwargs=kwargs)]


def _grow(version, split, labels: int, items: int) -> None:
    made = [
        LabelFactory(version=version, name=f"label-{version.labels.count()}-{n}")
        for n in range(labels)
    ]
    for n in range(items):
        item = ItemFactory(dataset_version=version, splits=[split])
        if n % 3:
            AnnotationFactory(item=item, split=split, label=made[n % len(made)])


@pytest.mark.parametrize("url_index", [0, 1], ids=["label-stats", "split-total"])
def test_stats_read_runs_the_same_few_queries_for_1_label_and_for_many(
    api, version, splits, url_index, django_assert_num_queries
):
    train = splits["train"]
    url = _urls(train)[url_index]
    _grow(version, train, labels=1, items=2)
    api.get(url)  # the first use of a key records last_used_at: not part of a read
    with django_assert_num_queries(READ_QUERIES):
        small = api.get(url)
    _grow(version, train, labels=15, items=40)
    with django_assert_num_queries(READ_QUERIES):
        large = api.get(url)
    assert small.status_code == large.status_code == 200
    if url_index == 0:
        assert (len(small.json()), len(large.json())) == (2, 17)
    else:
        assert (small.json()["item_count"], large.json()["item_count"]) == (2, 42)


def test_stats_reads_never_touch_items_memberships_or_annotations(api, version, splits):
    train = splits["train"]
    _grow(version, train, labels=3, items=6)
    api.get(_urls(train)[0])
    with CaptureQueriesContext(connection) as queries:
        for url in _urls(train):
            assert api.get(url).status_code == 200
    assert queries.captured_queries
    for query in queries.captured_queries:
        sql = query["sql"]
        assert not any(f'"{table}"' in sql for table in SCANNED_TABLES), sql
