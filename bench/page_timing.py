"""Time the server side of the version page (or the split page / CSV) of one dataset.

Renders the page through the Django test client in this process: URL routing, middleware,
session, access check, queries and template, i.e. everything but the network. The version
page reads only Version, DatasetSplit, Label and LabelStat rows (O(labels x splits)), so its
time must not grow with the number of items.

    DATABASE_URL=postgres://root@127.0.0.1:5432/seeme DJANGO_SECRET_KEY=x \\
        .venv/bin/python bench/page_timing.py <dataset_id> [--version <id>] [--page version]
        [--runs 50] [--warmup 5] [--user <username>]

Prints the query count and p50 / p95 / max in milliseconds. Signs in by creating one session
row for the user (removed at the end); writes nothing else.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seeme.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from seeme.models import Dataset  # noqa: E402


def page_url(dataset: Dataset, version_id: str | None, page: str) -> str:
    versions = dataset.versions.order_by("-created_at", "-id")
    version = versions.get(pk=version_id) if version_id else versions.first()
    if version is None:
        sys.exit("The dataset has no version.")
    ids = {"dataset_id": dataset.pk, "version_id": version.pk}
    if page == "version":
        return reverse("seeme:version-detail", kwargs=ids)
    if page == "csv":
        return reverse("labels:stats-csv", kwargs=ids)
    split = version.splits.order_by("created_at", "id").first()
    if split is None:
        sys.exit("The version has no split.")
    return reverse("splits:split-detail", kwargs={**ids, "split_id": split.pk})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset_id")
    parser.add_argument("--version", dest="version_id", help="default: the latest version")
    parser.add_argument("--page", choices=["version", "split", "csv"], default="version")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--user", help="username (default: the dataset's owner)")
    args = parser.parse_args()

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    dataset = Dataset.objects.filter(pk=args.dataset_id).select_related("owner").first()
    if dataset is None:
        sys.exit(f"No dataset {args.dataset_id}.")
    user = get_user_model().objects.get(username=args.user) if args.user else dataset.owner
    url = page_url(dataset, args.version_id, args.page)

    client = Client()
    client.force_login(user)
    try:
        for _ in range(args.warmup):
            assert client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        # Read now: every request clears the connection's query log.
        query_count = len(captured)
        if response.status_code != 200:
            sys.exit(f"GET {url} answered {response.status_code}.")
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
    finally:
        client.logout()

    times.sort()
    p95 = statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]
    print(f"page     {args.page}: {url}")
    print(f"database {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"queries  {query_count} per request, {len(response.content):,} bytes")
    print(f"runs     {len(times)} (after {args.warmup} warm-up)")
    print(f"p50      {statistics.median(times):.1f} ms")
    print(f"p95      {p95:.1f} ms")
    print(f"max      {times[-1]:.1f} ms")


if __name__ == "__main__":
    main()
