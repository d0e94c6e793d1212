"""Issue 15's scale benchmark, one command (not a test). On PostgreSQL it builds a 1,000-item
and a 1,000,000-item dataset (``generate_dataset``: 20 labels, train/valid/test 0.8/0.1/0.1;
kept in the database for later runs) and prints every measure side by side from ONE run,
with the machine and its load beside the numbers:

    DATABASE_URL=postgres://root@127.0.0.1:5432/seeme_scale DJANGO_SECRET_KEY=x \\
        .venv/bin/python bench/scale_benchmark.py [--write docs/benchmarks.md]

1. Reads against the framework floor: gunicorn, 8 keep-alive connections, the floor
   (``/api/v1/applications``: authentication only) and the two label-stats reads of the big
   dataset's first split (``bench/read_floor.py``); goal >= 0.8x.
2. ``add_inferences``: one request of 10,000 inferences (``bench/inferences_benchmark.py``);
   goal >= 6,000 inferences/s.
3. Pages and admin change lists at 1k and 1M items, server side through Django's test client
   (``bench/pages_benchmark.py``, ``bench/health_benchmark.py``); goal <= 1.5x and <= 150 ms.

``--write FILE`` puts the tables into FILE between ``<!-- scale:begin -->`` and
``<!-- scale:end -->`` (added at the end the first time).
"""

import argparse
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from bench.read_floor import FLOOR, floor_table, measure_floor
from bench.stats_benchmark import BENCH_USER, ensure_dataset, machine
from seeme import services

BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
GOAL_RATIO, GOAL_MS = 1.5, 150.0


def dataset_name(items: int) -> str:
    return f"scale {items:,} items"


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def build(items: int, labels: int, owner) -> None:
    ensure_dataset(
        dataset_name(items),
        owner,
        "--items",
        str(items),
        "--labels",
        str(labels),
        "--splits",
        "train=0.8,valid=0.1,test=0.1",
        "--seed",
        "15",
    )


def page_rows(rows: list[dict]) -> list[str]:
    out = [
        "| page | queries 1k / 1M | p50 1k | p50 1M | ratio | goal (<= 1.5x and <= 150 ms) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = r["ratio"] <= GOAL_RATIO and r["p50_big"] <= GOAL_MS
        out.append(
            f"| {r['name']} | {r['queries_small']} / {r['queries_big']} | "
            f"{r['p50_small']:.1f} ms | {r['p50_big']:.1f} ms | {r['ratio']:.2f}x | "
            f"{'met' if met else 'NOT met'} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--labels", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0, help="per read endpoint")
    parser.add_argument("--runs", type=int, default=30, help="per page and size")
    parser.add_argument("--inferences", type=int, default=10_000)
    parser.add_argument("--write", type=Path, help="a Markdown file to put the tables in")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL: DATABASE_URL=postgres://.../seeme_scale")
    from bench.health_benchmark import measure_health, scan_if_missing
    from bench.inferences_benchmark import measure_add_inferences
    from bench.pages_benchmark import measure_pages

    call_command("migrate", verbosity=0)
    owner, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    started = time.monotonic()
    for items in (args.small, args.big):
        build(items, args.labels, owner)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    from seeme.models import Version

    # The big health page shows the last background scan's item checks: make one, as in use.
    scan_if_missing(
        Version.objects.filter(dataset__name=dataset_name(args.big)).latest("created_at")
    )
    built = time.monotonic() - started
    info = machine()
    small, big = dataset_name(args.small), dataset_name(args.big)
    lines = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: `bench/scale_benchmark.py` (datasets "
        f"ready in {built:.0f} s). Machine: {info['nproc']} cores ({info['cpu']}), "
        f"{info['ram_gib']} GiB, {info['postgres']} (shared_buffers {info['shared_buffers']}), "
        f"Python {info['python']}, Django {info['django']}. Load average (1 min) at the start: "
        f"{load()}.",
        "",
    ]

    print("reads against the floor ...", flush=True)
    _, key = services.apikey_create(user=owner, name="scale")
    from splits.models import DatasetSplit

    split = (
        DatasetSplit.objects.select_related("version")
        .filter(version__dataset__name=big, version__dataset__owner=owner)
        .order_by("created_at")
        .first()
    )
    floor = measure_floor(split, key, args.seconds)
    lines += [
        f"**1. Reads against the framework floor** ({args.big:,}-item dataset, gunicorn 2 "
        f"gthread workers x 4 threads, 8 keep-alive connections, {args.seconds:.0f} s per "
        f"endpoint in 3 interleaved rounds; load {floor['load'][0]:.2f} -> "
        f"{floor['load'][1]:.2f}). Goal: the stats reads >= 0.8x the floor.",
        "",
        floor_table(floor),
        "",
    ]
    stats_ratio = min(rate / floor["rates"][FLOOR] for rate in floor["rates"].values())

    print("add_inferences ...", flush=True)
    before = load()
    inferred = measure_add_inferences(n=args.inferences, runs=3)
    lines += [
        f"**2. add_inferences** (one request of {args.inferences:,} inferences, median of "
        f"{len(inferred['runs'])}; load {before} -> {load()}): "
        f"**{inferred['rate']:,.0f} inferences/s** (runs: "
        + ", ".join(f"{r:,.0f}" for r in inferred["runs"])
        + f"). Goal >= 6,000: {'met' if inferred['rate'] >= 6000 else 'NOT met'}.",
        "",
    ]

    print("pages ...", flush=True)
    before = load()
    pages = measure_pages(small, big, runs=args.runs)
    health = measure_health(small, big, runs=args.runs)
    pages.append(
        {
            "name": "split health (past the sync limit: the last scan's item checks)",
            "queries_small": health["queries_small"],
            "queries_big": health["queries_big"],
            "p50_small": health["p50_small_ms"],
            "p50_big": health["p50_big_ms"],
            "ratio": health["ratio"],
        }
    )
    lines += [
        f"**3. Pages and admin lists**, {args.small:,} against {args.big:,} items (server side "
        f"through Django's test client, logged in, {args.runs} runs each after warm-up, the "
        f"two sizes interleaved; load {before} -> {load()}):",
        "",
        *page_rows(pages),
        "",
        f"Summary: reads {stats_ratio:.2f}x the floor at worst; add_inferences "
        f"{inferred['rate']:,.0f}/s; pages at most "
        f"{max(r['ratio'] for r in pages):.2f}x and {max(r['p50_big'] for r in pages):.0f} ms "
        f"at {args.big:,} items.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write(args.write, text)


def write(path: Path, text: str) -> None:
    old = path.read_text() if path.exists() else ""
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in old and END in old:
        new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, old, flags=re.S)
    else:
        new = old.rstrip("\n") + "\n\n## Scale: 1k against 1M items (issue 15)\n\n" + block + "\n"
    path.write_text(new)


if __name__ == "__main__":
    main()
