"""Benchmark of item files on PostgreSQL, through gunicorn (not a test).

    DATABASE_URL=postgres://root@127.0.0.1:5432/files_bench DJANGO_SECRET_KEY=x \\
        SEEME_MEDIA_ROOT=var/bench-media .venv/bin/python bench/files_benchmark.py \\
        [--big 1000000] [--rounds 200] [--uploads 1000]

Creates once (kept for later runs): "files 1k" (1,000 items, each with its own picture:
``generate_dataset --images``) and "files big" (``--big`` items whose files are the 1k
dataset's pictures, shared by content; set by one SQL UPDATE, as an import would). Then:

1. thumbnail download vs the label-stats endpoint, p50/p95, over one keep-alive connection
   to gunicorn, the two interleaved request by request (goal: thumbnail p50 <= 2x);
2. the item browser's first page (24 thumbnails) at 1k and at ``--big`` items, server side
   through the test client like ``bench/page_timing.py`` (goal: big <= 1.5x 1k), unfiltered
   and filtered by the first split;
3. SDK upload throughput: ``--uploads`` small distinct JPEGs through the official SDK's
   ``upload_dataset_item_image``, one client, sequentially (files/s).

Prints a Markdown section for docs/benchmarks.md.
"""

import argparse
import importlib.metadata
import importlib.util
import io
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seeme.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client as PageClient  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from PIL import Image  # noqa: E402

from bench.stats_benchmark import Client, Server  # noqa: E402
from labels.services import NewItem, items_bulk_create  # noqa: E402
from seeme import services  # noqa: E402
from seeme.models import Dataset, Item  # noqa: E402

OWNER = "filesbench"
PASSWORD = "files-bench-password"


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def owner():
    User = get_user_model()
    user, created = User.objects.get_or_create(username=OWNER, defaults={"email": "fb@x.org"})
    if created:
        user.set_password(PASSWORD)
        user.save()
    return user


def generated(name: str, user, *args: str) -> Dataset:
    dataset = Dataset.objects.filter(owner=user, name=name).first()
    if dataset is None:
        print(f"generating {name!r} ...", flush=True)
        started = time.monotonic()
        call_command(
            "generate_dataset",
            "--name",
            name,
            "--owner",
            user.username,
            "--labels",
            "20",
            *args,
            stdout=open(os.devnull, "w"),
        )
        dataset = Dataset.objects.get(owner=user, name=name)
        print(f"  {time.monotonic() - started:.0f} s", flush=True)
    return dataset


def share_pictures(big: Dataset, small: Dataset) -> None:
    """Give every item of ``big`` one of ``small``'s pictures (same blobs: stored once)."""
    version = big.versions.get()
    if not Item.objects.filter(dataset_version=version, file__isnull=True).exists():
        return
    print("attaching pictures to the big dataset ...", flush=True)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH b AS (
                SELECT f.sha256, (row_number() OVER (ORDER BY f.sha256)) - 1 AS n
                FROM seeme_blob f JOIN seeme_item i ON i.file_id = f.sha256
                WHERE i.dataset_version_id = %s
            ), c AS (SELECT count(*) AS total FROM b)
            UPDATE seeme_item i SET file_id = b.sha256, content_hash = b.sha256
            FROM b, c
            WHERE i.dataset_version_id = %s AND b.n = abs(hashtext(i.id::text)) %% c.total
            """,
            [small.versions.get().pk, version.pk],
        )
        # The UPDATE left a dead row per item: without a VACUUM the item COUNT and the
        # index-only scans of the pages read them too (an import inserts, leaves none).
        cursor.execute("VACUUM ANALYZE seeme_item")
    print(f"  {time.monotonic() - started:.0f} s", flush=True)


def page_times(user, dataset: Dataset, split: bool, runs: int) -> tuple[int, list[float]]:
    version = dataset.versions.get()
    url = reverse("seeme:item-list", kwargs={"dataset_id": dataset.pk, "version_id": version.pk})
    if split:
        url += f"?splitId={version.splits.order_by('created_at', 'id').first().pk}"
    client = PageClient()
    client.force_login(user)
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200
        assert response.content.decode().count("thumbnail=true") == 24
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = len(captured)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return queries, times


def import_sdk():
    """The SDK's package is also called ``seeme``: load it as ``seeme_sdk``."""
    init = Path(importlib.metadata.distribution("seeme").locate_file("seeme/__init__.py"))
    spec = importlib.util.spec_from_file_location(
        "seeme_sdk", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["seeme_sdk"] = module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        spec.loader.exec_module(module)
    return sys.modules["seeme_sdk.seeme_client"].Client


def sdk_uploads(port: int, user, n: int) -> tuple[float, int]:
    """Seconds for ``n`` SDK uploads of distinct small JPEGs to new items, and their bytes."""
    from labels import services as label_services

    dataset = label_services.dataset_create(
        owner=user, name=f"uploads {datetime.now(UTC):%H%M%S}", default_splits=True
    )
    version = dataset.versions.get()
    train = version.splits.order_by("created_at").first()
    ids = items_bulk_create(
        version=version,
        user=user,
        items=[NewItem(f"u{i:04d}.jpg", (train.pk,)) for i in range(n)],
    )
    rng = random.Random(1)
    folder = Path(tempfile.mkdtemp(prefix="seeme-upload-bench-"))
    total = 0
    for i in range(n):
        img = Image.new("RGB", (96, 72), tuple(rng.randrange(256) for _ in range(3)))
        img.putpixel((i % 96, (i // 96) % 72), (0, 0, 0))
        out = io.BytesIO()
        img.save(out, "JPEG", quality=85)
        (folder / f"u{i:04d}.jpg").write_bytes(out.getvalue())
        total += len(out.getvalue())
    Sdk = import_sdk()
    client = Sdk(backend=f"http://127.0.0.1:{port}/api/v1/", env_file="/nonexistent")
    client.login(OWNER, PASSWORD)
    started = time.perf_counter()
    for i, item_id in enumerate(ids):
        client.upload_dataset_item_image(
            str(dataset.pk), str(version.pk), str(item_id), str(folder), f"u{i:04d}.jpg"
        )
    elapsed = time.perf_counter() - started
    assert Item.objects.filter(dataset_version=version, file__isnull=False).count() == n
    return elapsed, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--page-runs", type=int, default=50)
    parser.add_argument("--uploads", type=int, default=1000)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    user = owner()
    small = generated("files 1k", user, "--items", "1000", "--images", "--seed", "1")
    big = generated(f"files {args.big:,}", user, "--items", str(args.big), "--seed", "2")
    share_pictures(big, small)
    load_before = os.getloadavg()[0]

    lines = [f"### Item files ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)", ""]
    # 2. pages first (in process), then the HTTP measures.
    rows = []
    for split in (False, True):
        q_small, t_small = page_times(user, small, split, args.page_runs)
        q_big, t_big = page_times(user, big, split, args.page_runs)
        ratio = statistics.median(t_big) / statistics.median(t_small)
        what = "filtered by its first split" if split else "no filter"
        rows.append(
            f"| item browser, 24 thumbnails, {what} | {q_small} / {q_big} | "
            f"{statistics.median(t_small):.1f} ms | {statistics.median(t_big):.1f} ms | "
            f"{ratio:.2f}x | <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'} |"
        )

    key = services.apikey_create(user=user, name="files bench")[1]
    server = Server(workers=3, threads=4)
    try:
        client = Client(server.port, key)
        version = small.versions.get()
        base = f"/api/v1/datasets/{small.pk}/versions/{version.pk}"
        items = list(Item.objects.filter(dataset_version=version).order_by("created_at")[:50])
        split = version.splits.order_by("created_at", "id").first()
        for item in items:  # made once, then served
            _, status, body = client.request(
                "GET", f"{base}/items/{item.pk}/download?thumbnail=true"
            )
            assert status == 200 and body[:2] == b"\xff\xd8", status
        thumbs, stats = [], []
        for n in range(args.rounds):
            item = items[n % len(items)]
            t, status, _ = client.request("GET", f"{base}/items/{item.pk}/download?thumbnail=true")
            assert status == 200
            thumbs.append(t * 1000)
            t, status, _ = client.request("GET", f"{base}/labels/splits/{split.pk}")
            assert status == 200
            stats.append(t * 1000)
        ratio = statistics.median(thumbs) / statistics.median(stats)
        seconds, total = sdk_uploads(server.port, user, args.uploads)
    finally:
        server.stop()

    lines += [
        "| measure | result | goal |",
        "|---|---|---|",
        f"| thumbnail download (stored JPEG, 256 px), {args.rounds} requests | "
        f"p50 {statistics.median(thumbs):.2f} ms, p95 {pct(thumbs, 95):.2f} ms | |",
        f"| label-stats endpoint, same connection, interleaved | "
        f"p50 {statistics.median(stats):.2f} ms, p95 {pct(stats, 95):.2f} ms | |",
        f"| thumbnail / label stats | p50 {ratio:.2f}x | <= 2x: "
        f"{'met' if ratio <= 2 else 'NOT met'} |",
        f"| SDK `upload_dataset_item_image`, {args.uploads} JPEGs of ~{total // args.uploads} "
        f"bytes, 1 client | {args.uploads / seconds:.0f} files/s ({seconds:.1f} s) | |",
        "",
        f"| page (server side, {args.page_runs} runs) | queries 1k / {args.big:,} | p50 1k | "
        f"p50 {args.big:,} | ratio | goal |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
