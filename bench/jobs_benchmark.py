"""Benchmarks of the jobs (not a test). PostgreSQL, a dataset made by ``generate_dataset``:

    DATABASE_URL=postgres://root@127.0.0.1:5432/jobs_bench DJANGO_SECRET_KEY=x \\
        .venv/bin/python bench/jobs_benchmark.py duplicate --dataset "bench 1M"
    ... bench/jobs_benchmark.py noop [--n 50]
    ... bench/jobs_benchmark.py stats-during --dataset "bench 1M" [--n 300]

- ``duplicate``: ``version_duplicate`` of the dataset's first version, in process, committed;
  items/s; the copy's LabelStat rows against a fresh recount; then the copy is deleted.
- ``noop``: starts one ``manage.py db_worker`` (as ``make run`` does: ``--interval 0.5``, and
  again with ``--interval 0.05``), enqueues no-op jobs one at a time, a random 0.05-1 s
  apart, and measures enqueue to done (the job's ``created_at`` to ``finished_at``).
- ``stats-during``: the label-stats endpoint of the big split (in-process test client with an
  API key: routing, auth, access check, queries, JSON), p50 / p95 with the queue idle, then
  while a worker runs a duplicate job of the same version (the copy is kept).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seeme.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from labels.models import Annotation  # noqa: E402
from labels.selectors import label_stats_drift  # noqa: E402
from labels.services.versions import version_duplicate  # noqa: E402
from seeme import services  # noqa: E402
from seeme.models import Dataset, Item, Version  # noqa: E402
from splits.models import ItemSplit  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(times: list[float]) -> str:
    return f"n={len(times)} p50 {statistics.median(times):.1f} ms, p95 {pct(times, 0.95):.1f} ms"


def source_version(name: str) -> Version:
    return Dataset.objects.get(name=name).versions.order_by("created_at").first()


def cmd_duplicate(args) -> None:
    version = source_version(args.dataset)
    items = Item.objects.filter(dataset_version=version).count()
    memberships = ItemSplit.objects.filter(split__version=version).count()
    annotations = Annotation.objects.filter(split__version=version).count()
    print(f"source: {items:,} items, {memberships:,} memberships, {annotations:,} annotations")
    with connection.cursor() as cursor:
        # Each run deletes its copy: 3M dead rows that a server with autovacuum off (as on
        # the machine of docs/benchmarks.md) never clears, and the next run would pay for.
        cursor.execute(
            "VACUUM ANALYZE seeme_item, splits_itemsplit, labels_annotation, seeme_itemstate"
        )
        settings = []
        for name in (
            "shared_buffers",
            "max_wal_size",
            "checkpoint_timeout",
            "work_mem",
            "autovacuum",
        ):
            cursor.execute(f"SHOW {name}")
            settings.append(f"{name} {cursor.fetchone()[0]}")
    print("PostgreSQL: " + ", ".join(settings) + f"; load average {os.getloadavg()[0]:.2f}")
    started = time.monotonic()
    copy = version_duplicate(version=version, user=None, name=f"bench copy {time.time():.0f}")
    elapsed = time.monotonic() - started
    print(
        f"duplicate (committed): {elapsed:.1f} s = {items / elapsed:,.0f} items/s; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    split_ids = list(copy.splits.values_list("pk", flat=True))
    drift = label_stats_drift(split_ids=split_ids)
    print(f"copy's stats equal a recount: {'yes' if not drift else drift[:5]}")
    assert Item.objects.filter(dataset_version=copy).count() == items
    drop_version(copy)


def drop_version(version: Version) -> None:
    """Delete a benchmark copy with one statement per table (the ORM's cascade collects
    every row in Python: minutes for a million items)."""
    started = time.monotonic()
    tables = {
        "annotation": "labels_annotation WHERE split_id IN (SELECT id FROM splits_datasetsplit "
        "WHERE version_id = %s)",
        "membership": "splits_itemsplit WHERE split_id IN (SELECT id FROM splits_datasetsplit "
        "WHERE version_id = %s)",
        "stats": "labels_labelstat WHERE split_id IN (SELECT id FROM splits_datasetsplit "
        "WHERE version_id = %s)",
        "item": "seeme_item WHERE dataset_version_id = %s",
        "split": "splits_datasetsplit WHERE version_id = %s",
        "label": "labels_label WHERE version_id = %s",
        "version": "seeme_version WHERE id = %s",
    }
    with transaction.atomic(), connection.cursor() as cursor:
        for where in tables.values():
            cursor.execute(f"DELETE FROM {where}", [version.pk])
    print(f"(copy dropped in {time.monotonic() - started:.1f} s)")


def _worker(interval: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--interval", interval, "--no-reload", "-v0"],
        cwd=ROOT,
    )


def cmd_noop(args) -> None:
    from seeme.jobs.services import enqueue_job

    dataset = Dataset.objects.order_by("created_at").first()
    for interval in ("0.5", "0.05"):
        worker = _worker(interval)
        try:
            time.sleep(3)  # started and idle
            latencies = []
            for _ in range(args.n):
                job = enqueue_job("noop", dataset=dataset, user=None)
                while True:
                    job.refresh_from_db()
                    if job.finished_at:
                        break
                    time.sleep(0.005)
                latencies.append((job.finished_at - job.created_at).total_seconds() * 1000)
                # A random gap: jobs arrive at any point of the worker's idle poll.
                time.sleep(random.uniform(0.05, 1.0))
            print(
                f"no-op enqueue->done, worker --interval {interval}: n={len(latencies)} "
                f"p50 {statistics.median(latencies):.0f} ms, p95 {pct(latencies, 0.95):.0f} ms"
            )
        finally:
            worker.terminate()
            worker.wait()


def _stats_client(version: Version):
    _, raw = services.apikey_create(user=version.dataset.owner, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_HOST="localhost")
    split = version.splits.order_by("created_at").first()
    url = reverse(
        "label-stats",
        kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, "split_id": split.pk},
    )
    return client, url


def _measure(client, url, n: int, until=None) -> list[float]:
    times = []
    while len(times) < n or (until is not None and not until()):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:200]
        if until is not None and until():
            break
    return times


def cmd_stats_during(args) -> None:
    from seeme.jobs.models import Job
    from seeme.jobs.services import enqueue_job

    version = source_version(args.dataset)
    client, url = _stats_client(version)
    _measure(client, url, 20)  # warm up
    idle = _measure(client, url, args.n)
    print(f"label stats, queue idle: {summary(idle)}")
    worker = _worker("0.2")
    try:
        job = enqueue_job(
            "version_duplicate",
            dataset=version.dataset,
            user=None,
            params={"version_id": str(version.pk), "name": f"bench job copy {time.time():.0f}"},
        )
        while Job.objects.get(pk=job.pk).state == "queued":
            time.sleep(0.05)
        state = {"done": False}

        def watch():
            while not state["done"]:
                if Job.objects.filter(pk=job.pk, state__in=["done", "failed"]).exists():
                    state["done"] = True
                time.sleep(0.2)
            connection.close()

        threading.Thread(target=watch, daemon=True).start()
        during = _measure(client, url, 1, until=lambda: state["done"])
        job.refresh_from_db()
        run = (job.finished_at - job.started_at).total_seconds()
        print(
            f"job {job.state} in {run:.1f} s ({job.total:,} items, {job.total / run:,.0f} items/s)"
        )
        print(f"label stats during the job: {summary(during)}")
        print(f"p95 ratio during/idle: {pct(during, 0.95) / pct(idle, 0.95):.2f}x")
        # The copy is left in place: deleting a million items through the ORM's cascade
        # takes longer than making them (drop the benchmark database afterwards).
    finally:
        worker.terminate()
        worker.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["duplicate", "noop", "stats-during"])
    parser.add_argument("--dataset", default="bench 1M")
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    {"duplicate": cmd_duplicate, "noop": cmd_noop, "stats-during": cmd_stats_during}[args.what](
        args
    )


if __name__ == "__main__":
    main()
