"""Archives past the sync limit are imported by a job (202), with progress; small ones in
the request."""

import pytest
from django.db import connection

from seeme.jobs.models import Job
from tests.archive.conftest import post_zip, stats_by_name, upload_url
from tests.archive.helpers import make_zip, png
from tests.conftest import assert_stats_exact, db_snapshot, planner_knows_version
from tests.jobs.conftest import drain_queue

pytestmark = pytest.mark.django_db


def many(n: int) -> bytes:
    entries = {f"train/cat/{i}.txt": f"text {i}" for i in range(n)}
    entries["valid/dog/x.png"] = png()
    return make_zip(entries)


def test_small_archive_is_imported_in_the_request(api, version, settings):
    settings.SEEME_SYNC_LIMIT = 100
    response = post_zip(api, upload_url(version, "folders"), many(5))
    assert response.status_code == 200
    assert not Job.objects.exists()


def test_large_archive_runs_as_a_job_with_progress(api, version, settings):
    settings.SEEME_SYNC_LIMIT = 10
    response = post_zip(api, upload_url(version, "folders"), many(30))
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["kind"] == "archive_import" and body["state"] == "queued"
    assert response["Location"].endswith(f"/jobs/{body['id']}")
    assert "train" not in stats_by_name(version) or stats_by_name(version)["train"]["*"] == (0, 0)
    drain_queue()
    job = Job.objects.get(pk=body["id"])
    assert job.state == "done", job.errors
    assert (job.done, job.total) == (31, 31)
    assert job.result["report"]["items"] == 31
    assert stats_by_name(version)["train"]["cat"] == (30, 30)
    assert stats_by_name(version)["valid"]["dog"] == (1, 1)
    assert_stats_exact()
    status = api.get(f"/api/v1/jobs/{job.pk}").json()
    assert status["state"] == "done" and status["done"] == status["total"] == 31
    if connection.vendor == "postgresql":  # the job left the planner knowing the new rows
        assert planner_knows_version(version.pk)


def test_large_archive_with_problems_fails_its_job_and_writes_nothing(api, version, settings):
    settings.SEEME_SYNC_LIMIT = 10
    data = many(30)[:-1]  # the end of the central directory cut off: not a zip
    response = post_zip(api, upload_url(version, "folders"), data)
    assert response.status_code == 400  # unreadable: answered at once, no job
    broken = make_zip(
        {**{f"train/{i}.txt": "x" for i in range(20)}, "train/b.png": b"\x89PNG\r\n\x1a\nxx"}
    )
    before = db_snapshot()
    response = post_zip(api, upload_url(version, "folders"), broken)
    assert response.status_code == 202
    drain_queue()
    job = Job.objects.get(pk=response.json()["id"])
    assert job.state == "failed"
    assert "train/b.png" in job.errors[0]["errors"]["file"][0]
    assert db_snapshot() == before


def test_large_dry_run_reports_through_the_job(api, version, settings):
    settings.SEEME_SYNC_LIMIT = 10
    before = db_snapshot()
    response = post_zip(api, upload_url(version, "folders", dry_run="true"), many(20))
    assert response.status_code == 202
    drain_queue()
    job = Job.objects.get(pk=response.json()["id"])
    assert job.state == "done"
    report = job.result["report"]
    assert report["items"] == 21 and report["problems"] == []
    assert db_snapshot() == before
