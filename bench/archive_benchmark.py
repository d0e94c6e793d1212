"""Benchmarks of whole-version zip import and export (not a test). PostgreSQL:

    DATABASE_URL=postgres://root@127.0.0.1:5432/zip_bench DJANGO_SECRET_KEY=x \\
        .venv/bin/python bench/archive_benchmark.py import-text --n 100000
    ... bench/archive_benchmark.py import-jpegs --n 10000
    ... bench/archive_benchmark.py export --items 10000 100000 --format manifest

- ``import-text``: a folders zip of ``n`` small text items (3 splits x 10 labels, 10 %
  unlabelled) written to a temporary file, then checked (``SafeArchive`` + plan: every
  entry read and typed) and imported (``version_import``: splits, labels, items,
  memberships, annotations, statistics) into an empty version, committed; items/s for the
  check, the write and both; the statistics against a fresh recount; the dataset deleted.
- ``import-jpegs``: the same with small JPEGs (every one decoded, stored by hash), then a
  thumbnail made for each item; items/s. ``--keep`` keeps the dataset (for ``export-once``).
- ``export``: for each size, a dataset made by ``generate_dataset`` (in a subprocess) and,
  in a FRESH process (``export-once``), its export streamed into a sink that only counts
  bytes; items/s, the process's resident memory before the export and its peak during it
  (``VmHWM``, reset just before), so the sizes compare. ``--job``: the same export run as
  an ``archive_export`` job in that process (``job_run``: the zip spooled to a temporary
  file, then kept in the file storage, progress written), the file deleted afterwards.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seeme.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from PIL import Image  # noqa: E402

from labels import services as label_services  # noqa: E402
from labels.archive import SafeArchive  # noqa: E402
from labels.archive.export import export_zip  # noqa: E402
from labels.archive.rows import ExportScope  # noqa: E402
from labels.selectors import label_stats_drift  # noqa: E402
from labels.services.imports import plan_for_version, version_import  # noqa: E402
from seeme.files import open_item_thumbnail  # noqa: E402
from seeme.models import Dataset, Item, User  # noqa: E402

SPLITS = ("train", "valid", "test")
LABELS = tuple(f"label{n}" for n in range(10))


def owner() -> User:
    return User.objects.get_or_create(username="archive-bench")[0]


def path_of(n: int, ext: str) -> str:
    split = SPLITS[0] if n % 10 < 8 else SPLITS[1 + n % 2]
    if n % 10 == 3:
        return f"{split}/{n}.{ext}"
    return f"{split}/{LABELS[n % len(LABELS)]}/{n}.{ext}"


def jpeg(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (n % 256, (n * 7) % 256, (n * 13) % 256)).save(buffer, "JPEG")
    return buffer.getvalue()


def write_zip(target, n: int, kind: str) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(n):
            if kind == "text":
                zf.writestr(path_of(i, "txt"), f"item {i}: a short text of a few words")
            else:
                zf.writestr(path_of(i, "jpg"), jpeg(i), compress_type=zipfile.ZIP_STORED)


def run_import(n: int, kind: str, keep: bool = False) -> dict:
    dataset = label_services.dataset_create(
        owner=owner(), name=f"archive bench {kind} {n}", content_type="text"
    )
    version = dataset.versions.get()
    with tempfile.TemporaryFile() as tmp:
        t0 = time.perf_counter()
        write_zip(tmp, n, kind)
        built = time.perf_counter() - t0
        size = tmp.tell()
        tmp.seek(0)
        t1 = time.perf_counter()
        archive = SafeArchive.open(tmp)
        plan = plan_for_version(version=version, archive=archive, fmt="folders")
        assert not plan.problems, plan.problems[:5]
        t2 = time.perf_counter()
        version_import(version=version, user=None, plan=plan, archive=archive)
        t3 = time.perf_counter()
    splits = list(version.splits.values_list("pk", flat=True))
    drift = label_stats_drift(split_ids=splits)
    result = {
        "kind": kind,
        "items": n,
        "zip_mb": round(size / 2**20, 1),
        "build_zip_s": round(built, 1),
        "check_s": round(t2 - t1, 2),
        "write_s": round(t3 - t2, 2),
        "check_items_per_s": round(n / (t2 - t1)),
        "write_items_per_s": round(n / (t3 - t2)),
        "items_per_s": round(n / (t3 - t1)),
        "stats_drift": len(drift),
    }
    if kind == "jpegs":
        t4 = time.perf_counter()
        for item in Item.objects.filter(dataset_version=version).iterator():
            open_item_thumbnail(item).close()
        t5 = time.perf_counter()
        result["thumbnails_per_s"] = round(n / (t5 - t4))
        result["import_and_thumbnails_items_per_s"] = round(n / (t3 - t1 + t5 - t4))
    if not keep:
        dataset.delete()
    return result


class CountingSink:
    def __init__(self) -> None:
        self.size = 0


def memory_kb(field: str) -> int:
    """A line of /proc/self/status (VmRSS: now, VmHWM: the peak since the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def export_job(version, fmt: str) -> int:
    """The export as an ``archive_export`` job run here; the kept zip's size (then deleted)."""
    from labels.archive.jobs import export_enqueue
    from seeme.files import file_storage
    from seeme.jobs.services import job_run

    job = export_enqueue(version=version, split=None, fmt=fmt, user=owner())
    state = job_run(job_id=job.pk)
    job.refresh_from_db()
    if state != "done":
        raise SystemExit(f"the export job ended {state}: {job.errors}")
    file_storage().delete(job.result["file"])
    return int(job.result["size"])


def export_once(name: str, fmt: str, as_job: bool = False) -> dict:
    """In this (fresh) process: the export of dataset ``name`` streamed and counted (or, with
    ``as_job``, written by an export job)."""
    version = Dataset.objects.get(name=name).versions.get()
    items = Item.objects.filter(dataset_version=version).count()
    connection.close()
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    before = memory_kb("VmRSS")
    t0 = time.perf_counter()
    size = 0
    if as_job:
        size = export_job(version, fmt)
    else:
        for chunk in export_zip(ExportScope.of(version), fmt):
            size += len(chunk)
    elapsed = time.perf_counter() - t0
    after = memory_kb("VmHWM")
    return {
        "dataset": name,
        "format": fmt,
        "as_job": as_job,
        "items": items,
        "zip_mb": round(size / 2**20, 1),
        "seconds": round(elapsed, 1),
        "items_per_s": round(items / elapsed),
        "rss_before_mb": round(before / 1024, 1),
        "peak_rss_during_mb": round(after / 1024, 1),
        "peak_growth_mb": round((after - before) / 1024, 1),
    }


def ensure_dataset(items: int) -> str:
    """A ``generate_dataset`` dataset of ``items`` (made in a subprocess: this one stays small)."""
    name = f"archive export bench {items}"
    if not Dataset.objects.filter(name=name).exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "generate_dataset",
                f"--items={items}",
                "--labels=20",
                f"--name={name}",
                "--owner=archive-bench",
                "--seed=1",
            ],
            check=True,
        )
    return name


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    for kind in ("import-text", "import-jpegs"):
        p = sub.add_parser(kind)
        p.add_argument("--n", type=int, default=10_000)
        p.add_argument("--keep", action="store_true", help="Keep the imported dataset.")
    p = sub.add_parser("export")
    p.add_argument("--items", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--format", default="manifest")
    p.add_argument("--job", action="store_true", help="Run the export as an archive_export job.")
    p = sub.add_parser("export-once")
    p.add_argument("--name", required=True)
    p.add_argument("--format", default="manifest")
    p.add_argument("--job", action="store_true", help="Run the export as an archive_export job.")
    args = parser.parse_args()
    print(f"vendor: {connection.vendor}", file=sys.stderr)
    if args.command == "import-text":
        print(json.dumps(run_import(args.n, "text", args.keep)))
    elif args.command == "import-jpegs":
        print(json.dumps(run_import(args.n, "jpegs", args.keep)))
    elif args.command == "export-once":
        print(json.dumps(export_once(args.name, args.format, args.job)))
    else:
        for items in args.items:
            name = ensure_dataset(items)
            out = subprocess.run(
                [sys.executable, __file__, "export-once", "--name", name, "--format", args.format]
                + (["--job"] if args.job else []),
                check=True,
                capture_output=True,
                text=True,
            )
            print(out.stdout.strip())


if __name__ == "__main__":
    main()
