"""A gunicorn worker is killed (SIGKILL: no cleanup, no rollback call) in the middle of a
write: after the item rows are inserted but before the statistics are updated, and after
both but before the commit. The database keeps none of the write, the statistics equal a
recount, and the server (its master starts a new worker) answers the next request.

Runs on both databases: on PostgreSQL the server uses the test database; on SQLite the
in-memory test database is copied to a file for the server (WAL, as in production) and
copied back afterwards to be checked."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from seeme import services
from seeme.models import Item
from tests.conftest import assert_stats_exact
from tests.factories import DatasetFactory, LabelFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(tmp_path: Path, point: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(
        DJANGO_SECRET_KEY="x",
        SEEME_FAULT_POINT=point,
        SEEME_FAULT_MARKER=str(tmp_path / "marker"),
        PYTHONPATH=str(ROOT),
    )
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
        )
    else:
        env["SQLITE_PATH"] = str(tmp_path / "server.sqlite3")
    return env


def call(url: str, key: str, body: bytes | None = None) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST" if body else "GET",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize(
    ("point", "kept"), [("before-stats", False), ("before-commit", False), ("after-commit", True)]
)
def test_a_worker_killed_mid_write_leaves_no_partial_write(tmp_path, point, kept):
    """``after-commit`` is the control: killed after its commit, the whole write is there
    (so the checks below can see a write when there is one)."""
    user = UserFactory()
    dataset = DatasetFactory(owner=user)
    version = dataset.versions.get()
    train = version.splits.get(name="train")
    LabelFactory(version=version, name="cat")
    _, key = services.apikey_create(user=user, name="fault")
    items_before = Item.objects.count()
    env = server_env(tmp_path, point)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(env["SQLITE_PATH"]) as copy:
            connection.connection.backup(copy)
        copy.close()
        sqlite3.connect(env["SQLITE_PATH"]).execute("PRAGMA journal_mode=WAL").close()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tests.reliability.fault_wsgi:application",
         "-w", "1", "-b", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "server.log").open("w"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        url = base + reverse(
            "split-add-inferences",
            kwargs={"dataset_id": dataset.pk, "version_id": version.pk, "pk": train.pk},
        )
        inferences = ",".join(f'{{"name": "fault-{i}", "prediction": "cat"}}' for i in range(200))
        body = f'{{"inferences": [{inferences}]}}'.encode()
        for _ in range(100):  # the server is up when it answers
            try:
                call(base + reverse("applications"), key)
                break
            except OSError:
                time.sleep(0.1)
        outcome = {}
        writer = threading.Thread(
            target=lambda: outcome.update(result=_try(lambda: call(url, key, body)))
        )
        writer.start()
        marker = Path(env["SEEME_FAULT_MARKER"])
        for _ in range(300):
            if marker.exists() and marker.read_text():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the write never reached the fault point")
        os.kill(int(marker.read_text()), signal.SIGKILL)
        writer.join(30)
        assert outcome["result"] in ("error", 502, 500) or isinstance(outcome["result"], str)
        marker.unlink()
        # The master starts a new worker; it answers (reads need no fault point).
        detail = base + reverse("dataset-detail", kwargs={"pk": dataset.pk})
        for _ in range(100):
            status = _try(lambda: call(detail, key))
            if status == 200:
                break
            time.sleep(0.1)
        assert status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)
    if connection.vendor == "sqlite":
        with sqlite3.connect(env["SQLITE_PATH"]) as source:
            source.backup(connection.connection)
        source.close()
    written = Item.objects.filter(name__startswith="fault-").count()
    assert written == (200 if kept else 0)
    assert Item.objects.count() == items_before + written
    assert_stats_exact()


def _try(call_it):
    try:
        return call_it()
    except (OSError, urllib.error.URLError) as exc:
        return f"error: {exc}"
