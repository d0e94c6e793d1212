"""Concurrent writers on overlapping items: afterwards every LabelStat row equals a recount.

Eight threads, each with its own database connection and real transactions, annotate,
re-label, un-annotate, move annotations and items between splits and add inferences on the
same few items. Half of them go through the services, half through the HTTP API (where a
deadlock that escaped the retry would be a 500); one of them also creates and deletes
labels and splits in between (structural writes, exclusive version lock). The test fails on
any unexpected exception, any 5xx, or any drifted row.
"""

import logging
import random
import sqlite3
import sys
import threading
import traceback
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.urls import reverse

from labels import services
from labels.models import Annotation, Label
from seeme.exceptions import ServiceError
from seeme.models import Item, Version
from splits.models import DatasetSplit
from tests.conftest import assert_stats_exact, client_for
from tests.factories import DatasetFactory, UserFactory

WRITERS = 8
OPS_PER_WRITER = 30
EXPECTED_STATUSES = {200, 201, 204, 400, 404}


@dataclass
class World:
    version: Version
    splits: list[DatasetSplit]
    labels: list[Label]
    items: list[Item]
    owner: object = None


@dataclass
class Outcome:
    done: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, ok: bool) -> None:
        with self.lock:
            if ok:
                self.done += 1
            else:
                self.refused += 1


class RetryCounter(logging.Handler):
    """Counts the deadlock retries ``seeme.db.atomic_write`` logs."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("retrying"):
            self.retries += 1


def _world(multi_label: bool) -> World:
    owner = UserFactory()
    dataset = DatasetFactory(owner=owner, multi_label=multi_label)
    version = dataset.versions.get()
    splits = list(version.splits.order_by("name"))
    labels = [
        services.label_create(version=version, user=owner, name=name)
        for name in ("cat", "dog", "bird", "fish")
    ]
    items = []
    for i in range(12):
        members = [splits[i % 3], splits[(i + 1) % 3]]
        item = services.item_create(
            version=version, user=owner, name=f"item-{i}", split_ids=[s.pk for s in members]
        )
        services.annotation_create(
            version=version,
            user=owner,
            label_id=labels[i % 4].pk,
            item_id=item.pk,
            split_id=members[0].pk,
        )
        items.append(item)
    return World(version, splits, labels, items, owner)


def _some_annotation(rng: random.Random, world: World) -> Annotation | None:
    ids = list(Annotation.objects.filter(split__version=world.version).values_list("id", flat=True))
    if not ids:
        return None
    return (
        Annotation.objects.select_related("split__version__dataset")
        .filter(pk=rng.choice(ids))
        .first()
    )


# -- one write, through the services ------------------------------------------------------------


def _service_op(rng: random.Random, world: World) -> None:
    op = rng.choice(
        ["annotate", "annotate", "relabel", "move", "delete", "move_item", "inferences"]
    )
    label = rng.choice(world.labels)
    if op == "annotate":
        services.annotation_create(
            version=world.version,
            user=None,
            label_id=label.pk,
            item_id=rng.choice(world.items).pk,
            split_id=rng.choice(world.splits).pk,
            coordinates=rng.choice(["", "", "[0, 0, 1, 1]"]),
        )
    elif op in ("relabel", "move", "delete"):
        annotation = _some_annotation(rng, world)
        if annotation is None:
            return
        if op == "relabel":
            services.annotation_update(annotation=annotation, data={"label_id": label.pk})
        elif op == "move":
            services.annotation_update(
                annotation=annotation, data={"split_id": rng.choice(world.splits).pk}
            )
        else:
            services.annotation_delete(annotation=annotation)
    elif op == "move_item":
        item = rng.choice(world.items)
        source, target = rng.sample(world.splits, 2)
        services.item_add_to_split(item=item, split=target)
        services.item_remove_from_split(item=item, split=source)
    else:
        services.add_inferences(
            split=rng.choice(world.splits),
            user=None,
            keep_annotations=rng.random() < 0.8,
            inferences=[
                {
                    "name": f"inf-{rng.random()}",
                    "prediction": rng.choice(world.labels).name,
                    "confidence": 0.5,
                }
                for _ in range(3)
            ],
        )


def _structural_op(rng: random.Random, world: World, n: int) -> None:
    """A label or a split that lives for one round: created, used, deleted, while the other
    writers annotate (they take the version lock shared, these writes take it exclusive)."""
    if rng.random() < 0.5:
        label = services.label_create(version=world.version, user=None, name=f"tmp-{n}")
        for item in rng.sample(world.items, 3):
            try:
                services.annotation_create(
                    version=world.version,
                    user=None,
                    label_id=label.pk,
                    item_id=item.pk,
                    split_id=rng.choice(world.splits).pk,
                    coordinates="[0, 0, 1, 1]",
                )
            except ServiceError:
                pass
        services.label_delete(label=label)
    else:
        split = services.split_create(version=world.version, user=None, name=f"tmp-{n}")
        for item in rng.sample(world.items, 3):
            try:
                services.item_add_to_split(item=item, split=split)
                services.annotation_create(
                    version=world.version,
                    user=None,
                    label_id=rng.choice(world.labels).pk,
                    item_id=item.pk,
                    split_id=split.pk,
                )
            except ServiceError:
                pass
        services.split_delete(split=split)


# -- one write, through the HTTP API ------------------------------------------------------------


def _api_op(rng: random.Random, world: World, client) -> int:
    base = {"dataset_id": world.version.dataset_id, "version_id": world.version.pk}
    op = rng.choice(
        ["annotate", "annotate", "relabel", "move", "delete", "remove_item", "inferences"]
    )
    label = rng.choice(world.labels)
    if op == "annotate":
        response = client.post(
            reverse("annotation-list", kwargs=base),
            {
                "label_id": str(label.pk),
                "item_id": str(rng.choice(world.items).pk),
                "split_id": str(rng.choice(world.splits).pk),
                "coordinates": rng.choice(["", "", "[0, 0, 1, 1]"]),
            },
            format="json",
        )
    elif op in ("relabel", "move", "delete"):
        annotation = _some_annotation(rng, world)
        if annotation is None:
            return 200
        url = reverse("annotation-detail", kwargs={**base, "pk": annotation.pk})
        if op == "relabel":
            response = client.put(url, {"label_id": str(label.pk)}, format="json")
        elif op == "move":
            response = client.put(
                url, {"split_id": str(rng.choice(world.splits).pk)}, format="json"
            )
        else:
            response = client.delete(url)
    elif op == "remove_item":
        split = rng.choice(world.splits)
        item = rng.choice(world.items)
        response = client.delete(
            reverse("split-remove-item", kwargs={**base, "pk": split.pk, "item_id": item.pk})
        )
        if response.status_code == 200:
            services.item_create(
                version=world.version, user=None, name="replacement", split_ids=[split.pk]
            )
    else:
        response = client.post(
            reverse("split-add-inferences", kwargs={**base, "pk": rng.choice(world.splits).pk}),
            {
                "keep_annotations": True,
                "inferences": [
                    {"name": "api-inference", "prediction": label.name, "confidence": 0.9}
                ],
            },
            format="json",
        )
    return response.status_code


def _writer(n: int, world: World, start: threading.Barrier, outcome: Outcome) -> None:
    rng = random.Random(1000 + n)
    client = client_for(world.owner) if n % 2 else None
    try:
        start.wait(timeout=30)
        for i in range(OPS_PER_WRITER):
            if n == 0 and i % 3 == 0:
                _structural_op(rng, world, i)
                outcome.count(True)
            elif client is None:
                try:
                    _service_op(rng, world)
                    outcome.count(True)
                except ServiceError:
                    outcome.count(False)
            else:
                status = _api_op(rng, world, client)
                if status not in EXPECTED_STATUSES:
                    raise AssertionError(f"the API answered {status}")
                outcome.count(status < 300)
    except BaseException:
        outcome.errors.append(traceback.format_exc())
    finally:
        connection.close()


def _run_writers(world: World) -> tuple[Outcome, int]:
    outcome = Outcome()
    counter = RetryCounter()
    logger = logging.getLogger("seeme.db")
    level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.INFO)
    start = threading.Barrier(WRITERS)
    threads = [
        threading.Thread(target=_writer, args=(n, world, start, outcome)) for n in range(WRITERS)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return outcome, counter.retries


def _race(multi_label: bool) -> tuple[Outcome, int]:
    world = _world(multi_label)
    outcome, retries = _run_writers(world)
    assert outcome.errors == [], "\n".join(outcome.errors)
    # Enough writes went through for the race to have been a race.
    assert outcome.done >= WRITERS * OPS_PER_WRITER // 3, outcome
    assert_stats_exact([s.pk for s in world.splits])
    return outcome, retries


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("multi_label", [False, True], ids=["single-label", "multi-label"])
def test_concurrent_writers_keep_stats_exact(multi_label, record_property):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: real row locks and concurrent transactions")
    _, retries = _race(multi_label)
    record_property("deadlock_retries", retries)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_a_sqlite_file(tmp_path, monkeypatch):
    """The same race on SQLite, whose writers queue on ``BEGIN IMMEDIATE`` and the busy
    timeout. The test database lives in memory (threads would hit "table is locked"), so
    the race runs on a file copy of it, in threads that open their own connections."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant")
    monkeypatch.setattr(sys.modules[__name__], "OPS_PER_WRITER", 12)
    connection.ensure_connection()
    copy = sqlite3.connect(tmp_path / "race.sqlite3")
    connection.connection.backup(copy)
    copy.close()
    result: dict = {}

    def race() -> None:
        try:
            result["outcome"] = _race(multi_label=False)
        except BaseException:
            result["error"] = traceback.format_exc()
        finally:
            connection.close()

    # New connections (the race's threads) open the file; this thread's stays in memory.
    memory = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = str(tmp_path / "race.sqlite3")
    try:
        runner = threading.Thread(target=race)
        runner.start()
        runner.join(timeout=300)
    finally:
        connection.settings_dict["NAME"] = memory
    assert "error" not in result, result["error"]
    assert "outcome" in result, "the race hung"
