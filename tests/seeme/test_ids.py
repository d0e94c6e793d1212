"""seeme.ids.uuid7: RFC 9562 version 7 ids that strictly increase within a process, also
when several threads make them at once, when the counter runs out within a millisecond,
and when the clock goes back."""

import os
import threading
import time
import uuid
from itertools import pairwise

import pytest
from django.apps import apps

from labels import services as label_services
from seeme import ids
from seeme.models import Item
from tests.factories import DatasetFactory


def _ms(value: uuid.UUID) -> int:
    return value.int >> 80


def _counter(value: uuid.UUID) -> int:
    """The 42-bit counter: 12 bits after the version, 30 after the variant."""
    return ((value.int >> 64) & 0xFFF) << 30 | (value.int >> 32) & 0x3FFF_FFFF


@pytest.fixture
def clock(monkeypatch):
    """A fake clock in milliseconds, and a generator that has made no id yet."""
    now = [1_800_000_000_000]
    monkeypatch.setattr(ids.time, "time_ns", lambda: now[0] * 1_000_000)
    monkeypatch.setattr(ids, "_last_ms", 0)
    monkeypatch.setattr(ids, "_counter", 0)
    return now


@pytest.mark.parametrize("make", [ids.uuid7, ids._uuid7], ids=["uuid7", "ours"])
def test_ids_are_version_7_of_the_rfc_variant(make):
    for value in [make() for _ in range(1000)]:
        assert value.version == 7
        assert value.variant == uuid.RFC_4122


def test_our_ids_start_with_the_time_in_milliseconds(clock):
    clock[0] = 1_812_345_678_901
    value = ids._uuid7()
    assert _ms(value) == 1_812_345_678_901
    assert value.version == 7 and value.variant == uuid.RFC_4122
    # a new millisecond starts the counter at random, below half its range
    assert _counter(value) < 1 << 41


def test_our_ids_strictly_increase_within_a_process():
    made = [ids._uuid7() for _ in range(20_000)]
    assert all(a < b for a, b in pairwise(made))
    # the order of the hex text (SQLite) and of the bytes (PostgreSQL) is the same
    assert [v.hex for v in made] == sorted(v.hex for v in made)
    assert [v.bytes for v in made] == sorted(v.bytes for v in made)


def test_threads_making_ids_at_once_never_share_a_time_and_counter(monkeypatch):
    """The lock makes each (millisecond, counter) pair once, in order: without it a thread
    that starts a new millisecond and reads random bits (which lets others run; here it
    always does) could store its counter after another thread counted on from its own."""
    urandom = os.urandom

    def urandom_letting_others_run(n: int) -> bytes:
        time.sleep(0)
        return urandom(n)

    monkeypatch.setattr(ids.os, "urandom", urandom_letting_others_run)
    threads, per_thread = 4, 5_000
    made: list[list[uuid.UUID]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads)

    def work(out: list[uuid.UUID]) -> None:
        start.wait()
        for _ in range(per_thread):
            out.append(ids._uuid7())

    workers = [threading.Thread(target=work, args=(out,)) for out in made]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    every = [value for out in made for value in out]
    assert len(every) == threads * per_thread
    assert len({value.int >> 32 for value in every}) == len(every)  # time and counter
    for out in made:
        assert all(a < b for a, b in pairwise(out))


def test_a_full_counter_borrows_the_next_millisecond(clock, monkeypatch):
    monkeypatch.setattr(ids, "_last_ms", clock[0])
    monkeypatch.setattr(ids, "_counter", ids._COUNTER_MAX - 1)
    last, borrowed, after = ids._uuid7(), ids._uuid7(), ids._uuid7()
    assert (_ms(last), _counter(last)) == (clock[0], ids._COUNTER_MAX)
    assert (_ms(borrowed), _counter(borrowed)) == (clock[0] + 1, 0)
    # the clock has not caught up yet: count on in the borrowed millisecond
    assert (_ms(after), _counter(after)) == (clock[0] + 1, 1)
    assert last < borrowed < after


def test_a_clock_going_back_keeps_ids_increasing(clock):
    first = ids._uuid7()
    clock[0] -= 1_000  # a second back (an NTP step)
    back = [ids._uuid7() for _ in range(3)]
    assert all(_ms(value) == _ms(first) for value in back)
    assert [_counter(value) for value in back] == [_counter(first) + n for n in (1, 2, 3)]
    clock[0] += 1_001  # past the first id again: a new millisecond
    later = ids._uuid7()
    assert _ms(later) == _ms(first) + 1
    assert all(a < b for a, b in pairwise([first, *back, later]))


def test_the_standard_library_uuid7_is_used_where_it_exists(monkeypatch):
    def stdlib() -> uuid.UUID:
        return uuid.UUID(int=7)

    monkeypatch.setattr(uuid, "uuid7", stdlib, raising=False)
    assert ids._implementation() is stdlib
    monkeypatch.delattr(uuid, "uuid7")
    assert ids._implementation() is ids._uuid7


def test_uuid7_calls_the_implementation_of_this_python(monkeypatch):
    assert ids._make is getattr(uuid, "uuid7", ids._uuid7)
    made = uuid.UUID(int=42)
    monkeypatch.setattr(ids, "_make", lambda: made)
    assert ids.uuid7() is made


def test_every_uuid_primary_key_of_ours_defaults_to_uuid7():
    ours = [
        m
        for m in apps.get_models()
        if m._meta.app_label in {"seeme", "splits", "labels"}
        and m._meta.pk.get_internal_type() == "UUIDField"
    ]
    assert len(ours) >= 10
    assert {m.__name__: m._meta.pk.default for m in ours} == dict.fromkeys(
        (m.__name__ for m in ours), ids.uuid7
    )


@pytest.mark.django_db
def test_rows_made_by_the_orm_and_by_add_inferences_get_version_7_ids(user):
    dataset = DatasetFactory(owner=user)
    version = dataset.versions.get()
    split = version.splits.first()
    made = label_services.add_inferences(
        split=split, user=None, inferences=[{"name": f"i{i}"} for i in range(50)]
    )
    assert {dataset.pk.version, version.pk.version, split.pk.version} == {7}
    assert made == sorted(made)
    stored = Item.objects.filter(dataset_version=version).values_list("pk", flat=True)
    assert sorted(stored) == made
    assert {pk.version for pk in made} == {7}
