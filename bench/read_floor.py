"""Reads vs the framework floor, on PostgreSQL through gunicorn (not a test).

    DATABASE_URL=postgres://root@127.0.0.1:5432/seeme_bench DJANGO_SECRET_KEY=x \\
        .venv/bin/python bench/read_floor.py [--items 100000] [--seconds 15]

Creates (once; kept for later runs) a dataset of ``--items`` items with ``generate_dataset``,
starts gunicorn (2 gthread workers x 4 threads, ``DJANGO_DEBUG=false``) on 127.0.0.1, and
drives it with 8 keep-alive connections (threads + http.client) for ``--seconds`` per
endpoint in the same run, interleaved in three rounds so that machine noise hits every
endpoint alike: ``GET /api/v1/applications`` (authentication only: the floor) against the
two label-stats reads. Prints a Markdown table with the machine and its load; a bounded
number of seconds, loopback only.
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from bench.stats_benchmark import (
    BENCH_USER,
    Client,
    Server,
    api_base,
    ensure_dataset,
    machine,
)
from seeme import services
from splits.models import DatasetSplit

CONNECTIONS = 8
ROUNDS = 3


def drive(port: int, key: str, path: str, seconds: float) -> tuple[int, int]:
    """``CONNECTIONS`` threads, each one keep-alive connection, GET ``path`` until the time
    is up: (requests answered 200, other answers)."""
    done, failed = [0] * CONNECTIONS, [0] * CONNECTIONS
    deadline = time.monotonic() + seconds

    def run(i: int) -> None:
        client = Client(port, key)
        while time.monotonic() < deadline:
            _, status, _ = client.request("GET", path)
            if status == 200:
                done[i] += 1
            else:
                failed[i] += 1
        client.conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done), sum(failed)


FLOOR = "`GET /api/v1/applications` (authentication only: the floor)"


def measure_floor(split: DatasetSplit, key: str, seconds: float) -> dict:
    """req/s of the floor and of the two label-stats reads of ``split`` through one gunicorn
    (2 gthread workers x 4 threads), ``seconds`` each in ``ROUNDS`` interleaved rounds:
    {"rates": {endpoint: req/s}, "failures": {endpoint: n}, "load": (before, after)}."""
    endpoints = {
        FLOOR: "/api/v1/applications",
        "`GET …/labels/splits/{id}` (label stats)": f"{api_base(split)}/labels/splits/{split.pk}",
        "`GET …/labels/stats/splits/{id}` (split total)": (
            f"{api_base(split)}/labels/stats/splits/{split.pk}"
        ),
    }
    connection.close()
    server = Server(workers=2, threads=4)
    totals = dict.fromkeys(endpoints, 0)
    failures = dict.fromkeys(endpoints, 0)
    try:
        for path in endpoints.values():  # warm up every worker and the key's last_used_at
            drive(server.port, key, path, 1.0)
        load_before = os.getloadavg()
        for _ in range(ROUNDS):
            for name, path in endpoints.items():
                ok, bad = drive(server.port, key, path, seconds / ROUNDS)
                totals[name] += ok
                failures[name] += bad
        load_after = os.getloadavg()
    finally:
        server.stop()
    return {
        "rates": {name: totals[name] / seconds for name in endpoints},
        "failures": failures,
        "load": (load_before[0], load_after[0]),
    }


def floor_table(result: dict) -> str:
    rates = result["rates"]
    floor = rates[FLOOR]
    lines = ["| endpoint | req/s | vs the floor | non-200 |", "|---|---|---|---|"]
    for name, rate in rates.items():
        lines.append(f"| {name} | {rate:.0f} | {rate / floor:.2f}× | {result['failures'][name]} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0, help="per endpoint, in total")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL: DATABASE_URL=postgres://.../seeme_bench")
    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    split = ensure_dataset(
        f"floor {args.items:,} items",
        user,
        "--items",
        str(args.items),
        "--labels",
        str(args.labels),
        "--splits",
        "train=0.8,valid=0.1,test=0.1",
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    _, key = services.apikey_create(user=user, name="floor")
    info = machine()
    result = measure_floor(split, key, args.seconds)
    before, after = result["load"]
    print(
        f"{args.items:,} items ({args.labels} labels, 3 splits), {CONNECTIONS} keep-alive "
        f"connections, {args.seconds:.0f} s per endpoint in {ROUNDS} interleaved rounds; "
        f"machine: {info['nproc']} cores ({info['cpu']}), {info['ram_gib']} GiB, "
        f"{info['postgres']}, Python {info['python']}, Django {info['django']}; "
        f"load average before {before:.2f}, after {after:.2f}\n"
    )
    print(floor_table(result))


if __name__ == "__main__":
    main()
