"""Time the server side of the split-health page of a small and a big dataset, interleaved.

Renders ``tools:version-health`` of each dataset's latest version through the Django test
client in this process (routing, middleware, session, access check, queries, template: all
but the network), signed in as the dataset's owner, alternating small and big so load from
elsewhere falls on both alike. The page must be flat in the data's size: past
SEEME_SYNC_LIMIT memberships the item-level checks are the last background scan's
(``labels.health_scan``), so the big page reads no item.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<db> DJANGO_SECRET_KEY=x \\
        .venv/bin/python bench/health_benchmark.py <small name> <big name> [--runs 30] [--scan]

``--scan`` first runs a health scan of the big version (through the job runner, in this
process) when it has none, so the page shows a scan's findings as it would in use; nothing
else is written but the sessions (removed at the end). ``measure_health`` is the same
measurement for other scripts (the lead's scale benchmark imports it).
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seeme.settings")

import django


def _setup() -> None:
    from django.apps import apps

    if not apps.ready:
        django.setup()


def _latest_version(dataset_name: str):
    from seeme.models import Dataset

    dataset = (
        Dataset.objects.filter(name=dataset_name)
        .select_related("owner")
        .order_by("-created_at", "-id")
        .first()
    )
    if dataset is None:
        raise LookupError(f"No dataset named {dataset_name!r}.")
    version = dataset.versions.order_by("-created_at", "-id").first()
    if version is None:
        raise LookupError(f"Dataset {dataset_name!r} has no version.")
    version.dataset = dataset
    return version


def _memberships(version) -> int:
    from django.db.models import Sum

    from labels.models import LabelStat

    total = LabelStat.objects.filter(split__version=version, kind=LabelStat.Kind.TOTAL).aggregate(
        n=Sum("item_count")
    )["n"]
    return int(total or 0)


def scan_if_missing(version) -> str | None:
    """Run a health scan of ``version`` through the job runner unless a finished one exists
    (a no-op before the scan existed); returns the job id run, or None."""
    try:
        from labels.health_scan import HEALTH_SCAN
        from labels.jobs import health_scan_enqueue
    except ImportError:
        return None
    from seeme.jobs.models import Job, JobState
    from seeme.jobs.runner import job_run

    done = Job.objects.filter(
        kind=HEALTH_SCAN, params__version_id=str(version.pk), state=JobState.DONE
    ).exists()
    if done:
        return None
    job = health_scan_enqueue(version=version, user=version.dataset.owner)
    job_run(job_id=job.pk)
    return str(job.pk)


def _p95(times: list[float]) -> float:
    if len(times) < 2:
        return times[0]
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def measure_health(
    small_dataset_name: str, big_dataset_name: str, runs: int = 30, warmup: int = 3
) -> dict:
    """Server time of the split-health page of both datasets' latest versions, interleaved
    (``runs`` each after ``warmup``): queries per request, p50 / p95 in ms and the ratio of
    the p50s (big / small)."""
    _setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    sides = {}
    for side, name in (("small", small_dataset_name), ("big", big_dataset_name)):
        version = _latest_version(name)
        client = Client()
        client.force_login(version.dataset.owner)
        url = reverse(
            "tools:version-health",
            kwargs={"dataset_id": version.dataset_id, "version_id": version.pk},
        )
        sides[side] = {
            "name": name,
            "version": version,
            "client": client,
            "url": url,
            "times": [],
        }
    try:
        for side in sides.values():
            for _ in range(warmup):
                assert side["client"].get(side["url"]).status_code == 200
            with CaptureQueriesContext(connection) as captured:
                response = side["client"].get(side["url"])
            side["queries"] = len(captured)
            side["bytes"] = len(response.content)
            side["mode"] = "scan" if b'id="item-checks"' in response.content else "live"
        order = ["small", "big"]
        for run in range(runs):
            for key in order if run % 2 == 0 else order[::-1]:
                side = sides[key]
                start = time.perf_counter()
                response = side["client"].get(side["url"])
                side["times"].append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
    finally:
        for side in sides.values():
            side["client"].logout()
    result: dict = {"database": connection.vendor, "runs": runs, "load": os.getloadavg()}
    for key, side in sides.items():
        result[key] = {
            "dataset": side["name"],
            "memberships": _memberships(side["version"]),
            "queries": side["queries"],
            "bytes": side["bytes"],
            "item_checks": side["mode"],
            "p50_ms": round(statistics.median(side["times"]), 2),
            "p95_ms": round(_p95(side["times"]), 2),
            "max_ms": round(max(side["times"]), 2),
        }
        result[f"queries_{key}"] = side["queries"]
        result[f"p50_{key}_ms"] = result[key]["p50_ms"]
    result["ratio"] = round(result["p50_big_ms"] / result["p50_small_ms"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("small", help="name of the small dataset")
    parser.add_argument("big", help="name of the big dataset")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--scan", action="store_true", help="scan the big version first")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    _setup()
    if args.scan:
        job = scan_if_missing(_latest_version(args.big))
        if job:
            print(f"scanned the big version (job {job})", file=sys.stderr)
    result = measure_health(args.small, args.big, runs=args.runs, warmup=args.warmup)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"database {result['database']}, {result['runs']} runs each, interleaved")
    print(f"load     {' '.join(f'{x:.2f}' for x in result['load'])} (after the runs)")
    for key in ("small", "big"):
        side = result[key]
        print(
            f"{key:6} {side['dataset']}: {side['memberships']:,} memberships, "
            f"{side['queries']} queries, item checks {side['item_checks']}, "
            f"p50 {side['p50_ms']:.1f} ms, p95 {side['p95_ms']:.1f} ms, max {side['max_ms']:.1f} ms"
        )
    print(f"ratio    {result['ratio']:.2f} (p50 big / p50 small)")


if __name__ == "__main__":
    main()
