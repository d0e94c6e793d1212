"""seeme.db.insert_rows / copy_rows: the vendor-specific bulk writes (``insert_objects`` below
drives ``insert_rows`` with model instances, as the bulk services do with rows).

Each runs on SQLite and on PostgreSQL (whichever DATABASE_URL selects) and must store the
same values Django's ORM would, in a number of statements that does not grow with the rows.
"""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from seeme.db import _insert_fields, copy_rows, insert_rows
from seeme.models import Item
from splits.models import ItemSplit

AWKWARD_TEXTS = [
    "",
    "plain",
    "quote ' and \" and \\ backslash",
    "tab\tnew\nline",
    "ünïcødé ✓ 🐈",
    "[1, 2]",
    "null",
    '{"json": true}',
    "x" * 5000,
]


def insert_objects(objs) -> None:
    """Unsaved instances of one model through ``insert_rows``, ``auto_now`` fields filled
    like ``save()`` would: one statement."""
    if not objs:
        return
    fields = _insert_fields(type(objs[0]))
    insert_rows(
        type(objs[0]),
        [f.name for f in fields],
        [[f.pre_save(o, True) for f in fields] for o in objs],
    )


def _items(version, n: int) -> list[Item]:
    return [
        Item(
            dataset_version=version,
            name=f"bulk-{i}",
            text=AWKWARD_TEXTS[i % len(AWKWARD_TEXTS)],
            extension="txt",
            description=AWKWARD_TEXTS[(i + 1) % len(AWKWARD_TEXTS)],
        )
        for i in range(n)
    ]


def test_insert_objects_stores_what_the_orm_would(version, user):
    items = _items(version, len(AWKWARD_TEXTS))
    items[0].user = user
    insert_objects(items)
    stored = {i.pk: i for i in Item.objects.filter(dataset_version=version)}
    assert set(stored) == {i.pk for i in items}
    for item in items:
        got = stored[item.pk]
        assert (got.name, got.text, got.description, got.extension, got.version) == (
            item.name,
            item.text,
            item.description,
            "txt",
            1,
        )
        assert got.created_at == item.created_at and got.created_at is not None
        assert got.user_id == item.user_id
    assert stored[items[0].pk].user_id == user.pk
    assert stored[items[1].pk].user_id is None


def test_insert_objects_is_one_statement_whatever_the_rows(version, splits):
    for n in (3, 2500):
        items = _items(version, n)
        with CaptureQueriesContext(connection) as queries:
            insert_objects(items)
            insert_objects([ItemSplit(item=item, split=splits["train"]) for item in items])
        assert len(queries) == 2, [q["sql"][:80] for q in queries]
    assert ItemSplit.objects.filter(split=splits["train"]).count() == 2503


def test_insert_rows_and_copy_rows_take_python_values(version):
    now = timezone.now()
    rows = [
        (
            uuid.uuid4(),
            now + timedelta(seconds=i),
            now,
            version.pk,
            None,
            f"row-{i}",
            AWKWARD_TEXTS[i % len(AWKWARD_TEXTS)],
        )
        for i in range(20)
    ]
    names = ["id", "created_at", "updated_at", "dataset_version", "user", "name", "text"]
    insert_rows(Item, names, rows[:10])
    copy_rows(Item, names, iter(rows[10:]), chunk=4)
    stored = {i.pk: i for i in Item.objects.filter(dataset_version=version)}
    assert len(stored) == 20
    for row in rows:
        got = stored[row[0]]
        assert (got.created_at, got.name, got.text, got.version) == (row[1], row[5], row[6], 1)


def test_insert_objects_of_nothing_runs_no_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        insert_objects([])
        insert_rows(Item, ["name"], [])


def test_insert_rows_is_seen_by_execute_wrappers(version):
    """PostgreSQL's COPY runs outside ``cursor.execute``; wrappers still see one statement."""
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        insert_objects(_items(version, 5))
    assert len(seen) == 1 and "seeme_item" in seen[0]
    assert Item.objects.filter(dataset_version=version).count() == 5


def test_insert_rows_raises_djangos_integrity_error_and_writes_nothing(version):
    items = _items(version, 3)
    insert_objects(items[:1])
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_objects(items)  # items[0] is there already: duplicate primary key
    assert list(Item.objects.filter(dataset_version=version).values_list("pk", flat=True)) == [
        items[0].pk
    ]
