"""Benchmark of the label statistics on PostgreSQL, through gunicorn (not a test).

    DATABASE_URL=postgres://root@127.0.0.1:5432/seeme_bench DJANGO_SECRET_KEY=x \\
        .venv/bin/python bench/stats_benchmark.py [--items 1000000] [--out docs/benchmarks.md]

Creates (once; kept for later runs) three datasets with ``generate_dataset``: one split of
``--items`` items, one split of 1,000 items, and unlabelled items to annotate. Starts gunicorn
on 127.0.0.1 on a free port with ``bench.bench_settings`` (the app plus two baseline
endpoints, see ``bench/bench_urls.py``), sends a bounded number of requests, stops it and
writes the results with a machine description to ``--out``. Every ratio is measured in this
one run, the two sides interleaved request by request so that machine noise hits both.

Measures:
1. the label-stats endpoint, p50/p95, big split vs 1k split (goal: ratio <= 1.5);
2. the same endpoint vs an on-the-fly GROUP BY recount of the big split served the same way
   (goal: >= 50x faster at 1M);
3. single-annotation writes: the API (validation, locks, stats) vs a bare insert behind the
   same authentication and parsing (goal: overhead <= 30%), one client and 8 concurrent;
4. add_inferences with 10,000 inferences: inferences per second.
"""

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seeme.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.bench_urls import recount_rows  # noqa: E402
from labels import services as label_services  # noqa: E402
from labels.models import Label, LabelStat  # noqa: E402
from labels.selectors import label_stats_drift, label_stats_of_split_id  # noqa: E402
from labels.services import NewItem  # noqa: E402
from seeme import services  # noqa: E402
from seeme.models import Dataset  # noqa: E402
from splits.models import DatasetSplit  # noqa: E402

BENCH_USER = "bench"
NOTES_MARKER = "<!-- notes: kept when the benchmark rewrites this file -->"
WRITERS = 8


# -- data ---------------------------------------------------------------------------------------


def ensure_dataset(name: str, owner, *args: str) -> DatasetSplit:
    """The first split of the dataset ``name``, generated unless it exists already."""
    dataset = Dataset.objects.filter(owner=owner, name=name).first()
    if dataset is None:
        print(f"generating {name!r} ...", flush=True)
        started = time.monotonic()
        call_command(
            "generate_dataset",
            "--name",
            name,
            "--owner",
            owner.username,
            *args,
            stdout=open(os.devnull, "w"),
        )
        print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
        dataset = Dataset.objects.get(owner=owner, name=name)
    return (
        DatasetSplit.objects.select_related("version")
        .filter(version__dataset=dataset)
        .order_by("created_at")
        .first()
    )


def split_size(split: DatasetSplit) -> tuple[int, int]:
    row = LabelStat.objects.get(split=split, kind=LabelStat.Kind.TOTAL)
    return row.item_count, row.annotation_count


# -- gunicorn -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving the app on 127.0.0.1; always stopped on exit."""

    def __init__(self, workers: int, threads: int) -> None:
        self.port = free_port()
        self.workers, self.threads = workers, threads
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_LOG_LEVEL": "ERROR",
        }
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "seeme.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
                "--timeout",
                "120",
                "--keep-alive",
                "600",
                "--log-level",
                "warning",
                "--chdir",
                str(ROOT),
            ],
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("gunicorn exited") from None
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Client:
    """One keep-alive HTTP connection with the bench user's API key."""

    def __init__(self, port: int, key: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body=None) -> tuple[float, int, bytes]:
        data = None if body is None else json.dumps(body)
        try:
            started = time.perf_counter()
            self.conn.request(method, path, body=data, headers=self.headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):
            self.conn.close()  # the server closed an idle connection: reconnect once
            started = time.perf_counter()
            self.conn.request(method, path, body=data, headers=self.headers)
            response = self.conn.getresponse()
        payload = response.read()
        return time.perf_counter() - started, response.status, payload


def expect(status: int, wanted: int, payload: bytes) -> None:
    if status != wanted:
        raise RuntimeError(f"HTTP {status} (wanted {wanted}): {payload[:300]!r}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def api_base(split: DatasetSplit) -> str:
    return f"/api/v1/datasets/{split.version.dataset_id}/versions/{split.version_id}"


def bench_base(split: DatasetSplit) -> str:
    return f"/api/v1/bench/datasets/{split.version.dataset_id}/versions/{split.version_id}"


# -- measurements -------------------------------------------------------------------------------


def stats_latency(client: Client, big, small, runs: int) -> dict:
    """The stats endpoint, big and small split alternating."""
    paths = {
        name: f"{api_base(s)}/labels/splits/{s.pk}" for name, s in (("big", big), ("small", small))
    }
    times = {"big": [], "small": []}
    for i in range(runs + 20):
        for name, path in paths.items():
            elapsed, status, payload = client.request("GET", path)
            expect(status, 200, payload)
            if i >= 20:
                times[name].append(elapsed)
    return times


def recount_latency(client: Client, big, runs: int) -> dict:
    """The endpoint vs the same answer recounted on the fly, alternating."""
    paths = {
        "endpoint": f"{api_base(big)}/labels/splits/{big.pk}",
        "recount": f"{bench_base(big)}/recount/splits/{big.pk}",
    }
    times = {"endpoint": [], "recount": []}
    answers = {}
    for i in range(runs + 2):
        for name, path in paths.items():
            elapsed, status, payload = client.request("GET", path)
            expect(status, 200, payload)
            answers[name] = [
                (r["label_id"], r["annotation_count"], r["item_count"]) for r in json.loads(payload)
            ]
            if i >= 2:
                times[name].append(elapsed)
    if answers["endpoint"] != answers["recount"]:
        raise RuntimeError("the persisted stats differ from the recount")
    return times


class ItemPool:
    """Fresh unlabelled items of the writes split, handed out once each (thread-safe)."""

    def __init__(self, split: DatasetSplit, user, size: int) -> None:
        new = [NewItem(name=f"write-{n}.jpg", split_ids=(split.pk,)) for n in range(size)]
        self.ids = [
            str(i)
            for i in label_services.items_bulk_create(version=split.version, user=user, items=new)
        ]
        self.lock = threading.Lock()

    def take(self) -> str:
        with self.lock:
            return self.ids.pop()


def annotation_body(split, label_ids, pool: ItemPool, n: int) -> dict:
    return {
        "label_id": label_ids[n % len(label_ids)],
        "item_id": pool.take(),
        "split_id": str(split.pk),
        "coordinates": "",
    }


def write_path(name: str, split) -> str:
    if name == "api":
        return f"{api_base(split)}/annotations"
    return f"{bench_base(split)}/bare-annotations"


def write_throughput(client: Client, splits: dict, label_ids, pools: dict, runs: int) -> dict:
    """One client: API annotation create vs bare insert (each in its own split),
    alternating."""
    times = {"api": [], "bare": []}
    for i in range(runs + 20):
        for name in times:
            split = splits[name]
            elapsed, status, payload = client.request(
                "POST", write_path(name, split), annotation_body(split, label_ids, pools[name], i)
            )
            expect(status, 201, payload)
            if i >= 20:
                times[name].append(elapsed)
    return times


def concurrent_throughput(port, key, split, label_ids, pool, name: str, per_writer: int):
    """WRITERS clients at once, each its own connection; returns writes per second."""
    path = write_path(name, split)
    errors: list[str] = []
    start = threading.Barrier(WRITERS + 1)

    def writer(n: int) -> None:
        client = Client(port, key)
        start.wait()
        for i in range(per_writer):
            _, status, payload = client.request(
                "POST", path, annotation_body(split, label_ids, pool, n + i)
            )
            if status != 201:
                errors.append(f"{status} {payload[:200]!r}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} failed writes, first: {errors[0]}")
    return WRITERS * per_writer / elapsed


def inferences_rate(client: Client, split, label_names: list[str], runs: int) -> list[float]:
    path = f"{api_base(split)}/splits/{split.pk}/add_inferences"
    rates = []
    for run in range(runs):
        body = {
            "keep_annotations": True,
            "inferences": [
                {
                    "name": f"inference-{run}-{i}.jpg",
                    "extension": "jpg",
                    "prediction": label_names[i % len(label_names)],
                    "confidence": 0.9,
                }
                for i in range(10_000)
            ],
        }
        elapsed, status, payload = client.request("POST", path, body)
        expect(status, 200, payload)
        rates.append(10_000 / elapsed)
    return rates


# -- report -------------------------------------------------------------------------------------


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg = cursor.fetchone()[0].split(" on ")[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(int(meminfo[1]) / 2**20, 1),
        "postgres": pg,
        "shared_buffers": buffers,
        "python": platform.python_version(),
        "django": django.get_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--labels", type=int, default=20)
    parser.add_argument("--runs", type=int, default=300, help="requests per latency sample")
    parser.add_argument("--recount-runs", type=int, default=15)
    parser.add_argument("--writes", type=int, default=400, help="writes per side, 1 client")
    parser.add_argument("--concurrent-writes", type=int, default=100, help="per writer")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL: DATABASE_URL=postgres://.../seeme_bench")

    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    labels = str(args.labels)
    big = ensure_dataset(
        f"bench {args.items:,} items",
        user,
        "--items",
        str(args.items),
        "--labels",
        labels,
        "--splits",
        "big=1",
    )
    small = ensure_dataset(
        "bench 1,000 items", user, "--items", "1000", "--labels", labels, "--splits", "small=1"
    )
    writes = ensure_dataset(
        "bench writes", user, "--items", "0", "--labels", labels, "--splits", "api=0.5,bare=0.5"
    )
    splits = {name: writes.version.splits.get(name=name) for name in ("api", "bare")}
    pools = {
        name: ItemPool(split, user, args.writes + 20 + WRITERS * args.concurrent_writes)
        for name, split in splits.items()
    }
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    label_ids = [
        str(i)
        for i in Label.objects.filter(version=writes.version)
        .order_by("index")
        .values_list("id", flat=True)
    ]
    label_names = list(
        Label.objects.filter(version=writes.version)
        .order_by("index")
        .values_list("name", flat=True)
    )
    _, key = services.apikey_create(user=user, name="bench")

    # Both answers in process (queries only, no HTTP), for reference.
    sql_recount, sql_rows = [], []
    for _ in range(5):
        started = time.perf_counter()
        recount_rows(big)
        sql_recount.append(time.perf_counter() - started)
    for _ in range(50):
        started = time.perf_counter()
        label_stats_of_split_id(
            user=user, dataset_id=big.version.dataset_id, version_id=big.version_id, split_id=big.pk
        )
        sql_rows.append(time.perf_counter() - started)

    info = machine()
    load_before = os.getloadavg()
    workers = (os.cpu_count() or 1) + 1
    server = Server(workers=workers, threads=4)
    try:
        client = Client(server.port, key)
        latency = stats_latency(client, big, small, args.runs)
        recount = recount_latency(client, big, args.recount_runs)
        single = write_throughput(client, splits, label_ids, pools, args.writes)
        concurrent = {
            name: concurrent_throughput(
                server.port, key, splits[name], label_ids, pools[name], name, args.concurrent_writes
            )
            for name in ("bare", "api")
        }
        inference_rates = inferences_rate(client, splits["api"], label_names, 3)
    finally:
        server.stop()
    load_after = os.getloadavg()
    drift = label_stats_drift(split_ids=[splits["api"].pk, big.pk, small.pk])
    # The bare inserts went around the statistics on purpose: repair their split.
    label_services.label_stats_reconcile(split_ids=[splits["bare"].pk])

    r = {
        "big": split_size(big),
        "small": split_size(small),
        "p50": {k: pct(v, 0.5) for k, v in latency.items()},
        "p95": {k: pct(v, 0.95) for k, v in latency.items()},
        "recount_p50": {k: pct(v, 0.5) for k, v in recount.items()},
        "single": {k: len(v) / sum(v) for k, v in single.items()},
        "single_p50": {k: pct(v, 0.5) for k, v in single.items()},
        "concurrent": concurrent,
        "inferences": statistics.median(inference_rates),
        "sql_recount": statistics.median(sql_recount),
        "sql_rows": statistics.median(sql_rows),
    }
    report = render(args, info, r, workers, load_before, load_after, drift)
    out = Path(args.out)
    # Hand-written notes below the marker survive a re-run.
    if out.exists() and NOTES_MARKER in out.read_text():
        report += out.read_text().split(NOTES_MARKER, 1)[1].join([NOTES_MARKER, ""])
    out.write_text(report)
    print(report)


def render(args, info, r, workers, load_before, load_after, drift) -> str:
    ratio_50 = r["p50"]["big"] / r["p50"]["small"]
    ratio_95 = r["p95"]["big"] / r["p95"]["small"]
    speedup = r["recount_p50"]["recount"] / r["recount_p50"]["endpoint"]
    overhead = r["single"]["bare"] / r["single"]["api"] - 1
    overhead_8 = r["concurrent"]["bare"] / r["concurrent"]["api"] - 1
    big_items, big_annotations = r["big"]
    small_items, small_annotations = r["small"]
    p50, p95, single, concurrent = r["p50"], r["p95"], r["single"], r["concurrent"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    def row(*cells) -> str:
        return "| " + " | ".join(str(c) for c in cells) + " |"

    lines = [
        "# Benchmarks: label statistics",
        "",
        f"Produced by `bench/stats_benchmark.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. "
        "Every ratio below comes from this one run, its two sides measured request by "
        "request in alternation. Re-run: `DATABASE_URL=postgres://root@127.0.0.1:5432/"
        "seeme_bench DJANGO_SECRET_KEY=x .venv/bin/python bench/stats_benchmark.py`.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        row("CPU", f"{info['cpu']}, nproc = {info['nproc']}"),
        row("RAM", f"{info['ram_gib']} GiB"),
        row(
            "PostgreSQL",
            f"{info['postgres']}, shared_buffers {info['shared_buffers']}, same machine",
        ),
        row("Python / Django", f"{info['python']} / {info['django']}"),
        row(
            "Server",
            f"gunicorn, {workers} gthread workers x 4 threads, 127.0.0.1, `DJANGO_DEBUG=false`",
        ),
        row(
            "Load average (1 min)",
            f"{load_before[0]:.2f} before, {load_after[0]:.2f} after "
            "(a shared machine: other jobs ran beside)",
        ),
        "",
        f"Data (`generate_dataset`, {args.labels} labels, Zipf-skewed, 10% unlabelled, 10% of "
        "the labelled items with 2-3 annotations): a split of "
        f"{big_items:,} items / {big_annotations:,} annotations and a split of "
        f"{small_items:,} items / {small_annotations:,} annotations.",
        "",
        "## Results",
        "",
        row("Measure", "Result", "Goal", ""),
        "|---|---|---|---|",
        row(
            f"Label-stats endpoint, {big_items:,}-item split",
            f"p50 {ms(p50['big'])}, p95 {ms(p95['big'])}",
            "",
            "",
        ),
        row(
            f"Label-stats endpoint, {small_items:,}-item split",
            f"p50 {ms(p50['small'])}, p95 {ms(p95['small'])}",
            "",
            "",
        ),
        row(
            "big / small",
            f"p50 {ratio_50:.2f}x, p95 {ratio_95:.2f}x",
            "<= 1.5x",
            verdict(ratio_50 <= 1.5 and ratio_95 <= 1.5),
        ),
        row(
            "On-the-fly recount of the big split, same HTTP path",
            f"p50 {ms(r['recount_p50']['recount'])} (the endpoint in the same loop: "
            f"{ms(r['recount_p50']['endpoint'])})",
            "",
            "",
        ),
        row("endpoint vs recount", f"{speedup:.0f}x faster", ">= 50x", verdict(speedup >= 50)),
        row(
            "(in process, queries only: recount / persisted rows)",
            f"median {ms(r['sql_recount'])} / {ms(r['sql_rows'])} "
            f"({r['sql_recount'] / r['sql_rows']:.0f}x)",
            "",
            "",
        ),
        row(
            "Annotation create, 1 client: API (validation, locks, stats)",
            f"{single['api']:.0f} writes/s (p50 {ms(r['single_p50']['api'])})",
            "",
            "",
        ),
        row(
            "Annotation create, 1 client: bare insert",
            f"{single['bare']:.0f} writes/s (p50 {ms(r['single_p50']['bare'])})",
            "",
            "",
        ),
        row(
            "overhead of the write path, 1 client",
            f"{overhead * 100:.0f}%",
            "<= 30%",
            verdict(overhead <= 0.30),
        ),
        row(
            f"{WRITERS} concurrent writers: API / bare",
            f"{concurrent['api']:.0f} / {concurrent['bare']:.0f} writes/s "
            f"(overhead {overhead_8 * 100:.0f}%)",
            "",
            "",
        ),
        row(
            "add_inferences, 10,000 inferences a request (median of 3)",
            f"{r['inferences']:,.0f} inferences/s",
            "",
            "",
        ),
        "",
        "After the run the stats of the three splits equal a fresh recount: "
        + ("yes." if not drift else f"**NO** ({len(drift)} rows)."),
        "",
        "The baselines: the recount is one GROUP BY over the split's annotations (annotations",
        "and distinct items per label) plus one anti-join counting its unlabelled items",
        "(`bench/bench_urls.py: recount_rows`), behind the same authentication and scoping as",
        "the endpoint. The bare insert is",
        "one `INSERT` of the annotation in its own transaction behind the same authentication,",
        "scoping and body validation, without the membership check, the single-label",
        "replacement, the locks and the statistics (`bench/bench_urls.py`). Each write",
        "annotates a different unlabelled item, each side in a split of its own (the bare",
        "side's split is repaired with `label_stats_reconcile` afterwards).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
