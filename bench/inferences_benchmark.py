"""Benchmark of add_inferences on PostgreSQL: inferences per second in one big request.

    DATABASE_URL=postgres://root@127.0.0.1:5432/seeme_bench DJANGO_SECRET_KEY=x \\
        .venv/bin/python bench/inferences_benchmark.py [--n 10000] [--runs 3] \\
        [--via gunicorn|client] [--shape flat|full]

Creates its own user, API key and dataset (20 labels, one split; a fresh dataset per call,
deleted afterwards), then sends ``runs`` requests of ``n`` inferences each to
``POST .../splits/{id}/add_inferences`` and prints the median rate with the load average.

``--via gunicorn`` (default): HTTP through gunicorn on 127.0.0.1 (one gthread worker), the
same server setup as ``bench/stats_benchmark.py``; the time is from sending the request to
reading the whole response. ``--via client``: Django's test client in this process (no
socket, no gunicorn), for profiling.

``--shape flat`` (default) is the body of the earlier stats benchmark: name, extension,
prediction, confidence. ``--shape full`` carries every field of an Inference the way the SeeMe
SDK sends them, with one inference item each.

The lead's scale benchmark imports ``measure_add_inferences(n, runs)``.
"""

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seeme.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from bench.stats_benchmark import Client, Server, api_base, expect  # noqa: E402
from labels import services as label_services  # noqa: E402
from labels.models import LabelStat  # noqa: E402
from seeme import services  # noqa: E402

BENCH_USER = "bench-inferences"
LABELS = 20


def inference_body(n: int, labels: list[str], run: int, shape: str) -> dict:
    """A request body of ``n`` inferences, predictions cycling through ``labels``."""
    inferences = []
    for i in range(n):
        label = labels[i % len(labels)]
        if shape == "flat":
            inferences.append(
                {
                    "name": f"inference-{run}-{i}.jpg",
                    "extension": "jpg",
                    "prediction": label,
                    "confidence": 0.9,
                }
            )
        else:
            inferences.append(
                {
                    "id": str(uuid.uuid4()),
                    "name": f"inference-{run}-{i}.jpg",
                    "description": "",
                    "prediction": label,
                    "confidence": 0.9,
                    "extension": "jpg",
                    "model_id": str(uuid.uuid4()),
                    "model_version_id": str(uuid.uuid4()),
                    "result": "",
                    "config": "",
                    "dataset_item_id": "",
                    "inference_items": [
                        {
                            "id": "",
                            "prediction": label,
                            "confidence": 0.9,
                            "coordinates": "",
                            "inference_id": "",
                        }
                    ],
                }
            )
    return {"keep_annotations": True, "inferences": inferences}


class _InProcess:
    """Django's test client with the same ``request`` signature as the HTTP Client."""

    def __init__(self, key: str) -> None:
        from django.test import Client as DjangoClient

        self.client = DjangoClient(HTTP_AUTHORIZATION=f"Bearer {key}", SERVER_NAME="localhost")

    def request(self, method: str, path: str, body=None) -> tuple[float, int, bytes]:
        data = json.dumps(body)
        started = time.perf_counter()
        response = self.client.generic(method, path, data, content_type="application/json")
        payload = response.content
        return time.perf_counter() - started, response.status_code, payload


def _bench_user():
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    return user


def measure_add_inferences(
    n: int = 10_000, runs: int = 3, *, via: str = "gunicorn", shape: str = "flat"
) -> dict:
    """``runs`` requests of ``n`` inferences each into a fresh split: ``{"rate": median
    inferences/s, "runs": [inferences/s of each request], "load_before"/"load_after": the
    load averages, "n", "via", "shape"}``.

    Checks each answer (200, ``n`` inferences echoed with their new item ids) and that the
    split's statistics count every new item and annotation.
    """
    if connection.vendor != "postgresql":
        raise RuntimeError("this benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    if via not in ("gunicorn", "client") or shape not in ("flat", "full"):
        raise ValueError("via: gunicorn|client, shape: flat|full")
    user = _bench_user()
    dataset = label_services.dataset_create(
        owner=user, name=f"inferences-bench-{uuid.uuid4().hex[:8]}", multi_label=False
    )
    version = dataset.versions.get()
    labels = [f"label-{i:02d}" for i in range(LABELS)]
    for name in labels:
        label_services.label_create(version=version, user=user, name=name)
    split = label_services.split_create(version=version, user=user, name="inferences")
    apikey, key = services.apikey_create(user=user, name="inferences-bench")
    path = f"{api_base(split)}/splits/{split.pk}/add_inferences"
    bodies = [inference_body(n, labels, run, shape) for run in range(runs)]
    server = None
    load_before = os.getloadavg()
    try:
        if via == "gunicorn":
            # This tree's code, even when the venv's editable install points at another
            # worktree (gunicorn's --chdir alone does not win over it).
            pythonpath = os.environ.get("PYTHONPATH")
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), pythonpath]))
            try:
                server = Server(workers=1, threads=4)
            finally:
                if pythonpath is None:
                    del os.environ["PYTHONPATH"]
                else:
                    os.environ["PYTHONPATH"] = pythonpath
            client = Client(server.port, key)
        else:
            client = _InProcess(key)
        # One small request first: connection, authentication and imports are not measured.
        _, status, payload = client.request("POST", path, inference_body(1, labels, -1, shape))
        expect(status, 200, payload)
        rates = []
        for body in bodies:
            elapsed, status, payload = client.request("POST", path, body)
            expect(status, 200, payload)
            answer = json.loads(payload)["inferences"]
            if len(answer) != n or not all(a["dataset_item_id"] for a in answer):
                raise RuntimeError("the answer does not echo every inference with its item id")
            rates.append(n / elapsed)
        load_after = os.getloadavg()
        total = LabelStat.objects.get(split=split, kind=LabelStat.Kind.TOTAL)
        expected = runs * n + 1
        if (total.item_count, total.annotation_count) != (expected, expected):
            raise RuntimeError(
                f"statistics {total.item_count}/{total.annotation_count} != {expected}"
            )
    finally:
        if server is not None:
            server.stop()
        services.dataset_delete(dataset=dataset)
        apikey.delete()
    return {
        "n": n,
        "via": via,
        "shape": shape,
        "runs": rates,  # inferences/s of each request
        "rate": statistics.median(rates),
        "load_before": load_before,
        "load_after": load_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="inferences per request")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--via", choices=("gunicorn", "client"), default="gunicorn")
    parser.add_argument("--shape", choices=("flat", "full"), default="flat")
    args = parser.parse_args()
    r = measure_add_inferences(args.n, args.runs, via=args.via, shape=args.shape)
    load = lambda values: " ".join(f"{v:.2f}" for v in values)  # noqa: E731
    print(
        f"add_inferences, {r['n']:,} inferences a request, via {r['via']}, shape {r['shape']}: "
        f"{r['rate']:,.0f} inferences/s (median of {len(r['runs'])}; runs "
        + ", ".join(f"{rate:,.0f}" for rate in r["runs"])
        + f"); load average before {load(r['load_before'])}, after {load(r['load_after'])}"
    )


if __name__ == "__main__":
    main()
