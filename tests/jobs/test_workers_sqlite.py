"""A worker killed mid-job on SQLite, the default database: every step in its own
``manage.py`` process on a database file (the test database lives in this process's memory,
which no other process can open)."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEASE = 2.0


def _env(db: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        SQLITE_PATH=str(db),
        DJANGO_SECRET_KEY="test-worker",
        DJANGO_DEBUG="false",
        SEEME_JOB_LEASE_SECONDS=str(LEASE),
        SEEME_JOB_HEARTBEAT_SECONDS="0.2",
    )
    return env


def manage(db: Path, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(db),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def job_row(db: Path) -> tuple:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT state, done, attempts FROM seeme_job").fetchone()


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the SQLite variant (the PostgreSQL one is test_workers.py)",
)
def test_a_worker_killed_mid_job_on_sqlite_is_retried(tmp_path):
    db = tmp_path / "seeme.sqlite3"
    manage(db, "migrate", "--noinput", "-v0")
    manage(
        db,
        "shell",
        "-c",
        "from tests.factories import DatasetFactory;"
        "from seeme.jobs.services import enqueue_job;"
        "d = DatasetFactory();"
        "enqueue_job('noop', dataset=d, user=d.owner, params={'steps': 40, 'sleep': 0.1})",
    )
    assert job_row(db) == ("queued", 0, 0)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.05", "-v0"],
        cwd=ROOT,
        env=_env(db),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state, done, _ = job_row(db)
            if state == "running" and done >= 3:  # its heartbeat writes the progress
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"the worker never got going: {job_row(db)}")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    state, done_when_killed, attempts = job_row(db)
    assert (state, attempts) == ("running", 1) and done_when_killed < 40
    time.sleep(LEASE + 0.5)
    manage(db, "shell", "-c", "from seeme.jobs.services import jobs_reap; jobs_reap()")
    assert job_row(db)[0] == "queued"
    manage(db, "db_worker", "--batch", "--no-reload", "--interval", "0", "-v0")
    assert job_row(db) == ("done", 40, 2)
