"""Exports of large versions as ``archive_export`` jobs: the job's zip holds what the
streamed download holds, with progress and cancel; the file is served to whoever may see
the job, and pruned."""

import io
import os
import re
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from labels.archive import rows as export_rows
from labels.archive.export import export_zip
from labels.archive.jobs import ARCHIVE_EXPORT
from labels.archive.rows import ExportScope
from seeme.files import file_storage
from seeme.jobs.models import Job
from seeme.jobs.outputs import export_file_name, exports_prune
from seeme.jobs.services import enqueue_job
from tests.archive.conftest import download_url, post_zip, upload_url
from tests.archive.helpers import make_zip, png
from tests.conftest import assert_stats_exact, client_for, db_snapshot
from tests.jobs.conftest import drain_queue

pytestmark = pytest.mark.django_db


def load(api, version, n: int = 30) -> None:
    entries = {f"train/cat/{i}.txt": f"text {i}" for i in range(n)}
    entries.update({f"valid/dog/{i}.png": png((i, 30, 30)) for i in range(3)})
    entries["valid/7.txt"] = "unlabelled"
    response = post_zip(api, upload_url(version, "folders"), make_zip(entries))
    assert response.status_code == 200, response.json()


def contents(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def export_job(version, user, fmt: str, split=None) -> Job:
    params = {"version_id": str(version.pk), "format": fmt}
    if split is not None:
        params["split_id"] = str(split.pk)
    return enqueue_job(ARCHIVE_EXPORT, dataset=version.dataset, user=user, params=params)


def job_file(api, job: Job) -> bytes:
    response = api.get(reverse("job-download", kwargs={"pk": job.pk}))
    assert response.status_code == 200, getattr(response, "data", response)
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "fmt", ["folders", "yolo", "csv", "spacy-ner", "coco", "manifest", "manifest-jsonl"]
)
def test_job_zip_holds_what_the_stream_holds(api, user, version, fmt, monkeypatch):
    monkeypatch.setattr(export_rows, "PROGRESS_EVERY", 4)
    load(api, version)
    response = api.get(download_url(version, format=fmt))
    assert response.status_code == 200
    streamed = contents(b"".join(response.streaming_content))
    job = export_job(version, user, fmt)
    drain_queue()
    job.refresh_from_db()
    assert job.state == "done", job.errors
    assert job.done == job.total > 0
    assert job.result_url == f"/api/v1/jobs/{job.pk}/download"
    assert contents(job_file(api, job)) == streamed
    # The progress total is exactly the rows the format reads (whole version, one split).
    for split in (None, version.splits.get(name="valid")):
        scope = ExportScope.of(version, split)
        for _ in export_zip(scope, fmt):
            pass
        assert scope.seen == scope.row_count(fmt) > 0


def test_progress_counts_every_row_read_up_to_the_total(api, user, version, monkeypatch):
    monkeypatch.setattr(export_rows, "PROGRESS_EVERY", 5)
    load(api, version)
    reported: list[tuple[int, int]] = []
    from seeme.jobs.runner import JobRun

    progress = JobRun.progress

    def spy(self, done, total=None, message=None):
        reported.append((done, total))
        return progress(self, done, total, message)

    monkeypatch.setattr(JobRun, "progress", spy)
    job = export_job(version, user, "coco")
    drain_queue()
    job.refresh_from_db()
    assert job.state == "done", job.errors
    total = 3 * 34  # coco reads each split's members three times
    assert job.total == job.done == total
    dones = [d for d, _ in reported]
    assert dones == sorted(dones) and dones[0] == 0 and dones[-1] == total
    # Every chunk of 5 rows read was reported: the row count is exact, not an estimate.
    assert list(range(5, total, 5)) == [d for d in dones if d % 5 == 0 and 0 < d < total]


def test_cancel_stops_the_export_and_leaves_no_file(api, user, version, monkeypatch):
    monkeypatch.setattr(export_rows, "PROGRESS_EVERY", 3)
    load(api, version)
    job = export_job(version, user, "folders")
    from seeme.jobs.runner import JobRun

    check = JobRun.check_cancelled
    calls = []

    def cancel_midway(self):
        calls.append(1)
        if len(calls) == 3:
            Job.objects.filter(pk=self.job.pk).update(cancel_requested=True)
        return check(self)

    monkeypatch.setattr(JobRun, "check_cancelled", cancel_midway)
    drain_queue()
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert 0 < job.done < job.total
    assert not file_storage().exists(export_file_name(job.pk))
    assert api.get(reverse("job-download", kwargs={"pk": job.pk})).status_code == 404


def test_failed_export_leaves_no_file(api, user, version, monkeypatch):
    load(api, version)
    job = export_job(version, user, "folders")

    def broken(*args, **kwargs):
        yield b"PK"
        raise OSError("disk gone")

    monkeypatch.setattr("labels.archive.jobs.export_zip", broken)
    drain_queue()
    job.refresh_from_db()
    assert job.state == "failed" and "disk gone" in job.errors[0]["message"]
    assert not file_storage().exists(export_file_name(job.pk))


def test_download_is_for_who_may_see_the_dataset(api, user, other_user, version, splits):
    load(api, version)
    split = version.splits.get(name="valid")
    job = export_job(version, user, "folders", split=split)
    url = reverse("job-download", kwargs={"pk": job.pk})
    assert api.get(url).status_code == 404  # not done yet: no file
    drain_queue()
    job.refresh_from_db()
    assert set(contents(job_file(api, job))) >= {"valid/dog/0.png", "valid/7.txt"}
    assert "valid-folders.zip" in api.get(url)["Content-Disposition"]
    stranger = client_for(other_user)
    assert stranger.get(url).status_code == 404
    assert stranger.get(reverse("job-detail", kwargs={"pk": job.pk})).status_code == 404


def test_export_job_changes_no_statistics(api, user, version):
    load(api, version)
    before = db_snapshot()
    export_job(version, user, "manifest")
    drain_queue()
    assert db_snapshot() == before  # items, memberships, annotations, LabelStat rows
    assert_stats_exact()


def test_prune_removes_old_and_orphaned_exports(api, user, version, settings):
    load(api, version, n=2)
    job = export_job(version, user, "folders")
    drain_queue()
    name = export_file_name(job.pk)
    storage = file_storage()
    assert storage.exists(name)
    orphan = export_file_name("0" * 8 + "-0000-0000-0000-" + "0" * 12)
    storage.save(orphan, io.BytesIO(b"x"))
    assert exports_prune() == 1  # the file of no job; the fresh one stays
    assert storage.exists(name) and not storage.exists(orphan)
    old = storage.path(name)
    stamp = (timezone.now() - timedelta(hours=25)).timestamp()
    os.utime(old, (stamp, stamp))
    settings.SEEME_EXPORT_KEEP_HOURS = 48
    assert exports_prune() == 0
    settings.SEEME_EXPORT_KEEP_HOURS = 24
    from django.core.management import call_command

    call_command("prune_exports")
    assert not storage.exists(name)
    assert api.get(reverse("job-download", kwargs={"pk": job.pk})).status_code == 404


def page_export(client, version, split=None):
    args = [version.dataset_id, version.pk] + ([split.pk] if split is not None else [])
    return reverse("labels:archive-export-split" if split else "labels:archive-export", args=args)


def test_page_past_the_limit_starts_one_job_per_submit(api, user, version, settings):
    from django.test import Client

    load(api, version)
    settings.SEEME_SYNC_LIMIT = 10
    client = Client()
    client.force_login(user)
    html = client.get(reverse("seeme:version-detail", args=[version.dataset_id, version.pk]))
    token = re.search(r'name="job_token" value="([0-9a-f]+)"', html.content.decode()).group(1)
    url = page_export(client, version)
    first = client.post(url, {"format": "yolo", "job_token": token})
    again = client.post(url, {"format": "yolo", "job_token": token})  # a double click
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Job.objects.filter(kind=ARCHIVE_EXPORT).count() == 1
    job = Job.objects.get()
    assert first["Location"] == reverse("seeme:job-detail", args=[job.pk])
    # Another format from the same page is another export.
    client.post(url, {"format": "coco", "job_token": token})
    assert Job.objects.filter(kind=ARCHIVE_EXPORT).count() == 2
    drain_queue()
    job.refresh_from_db()
    assert job.state == "done", job.errors
    page = client.get(first["Location"]).content.decode()
    assert f'href="{job.result_url}"' in page
    download = client.get(job.result_url)
    assert download.status_code == 200
    assert "obj.names" in contents(b"".join(download.streaming_content))


def test_page_under_the_limit_streams_and_strangers_get_404(api, user, other_user, version):
    from django.test import Client

    load(api, version)
    split = version.splits.get(name="valid")
    client = Client()
    client.force_login(user)
    response = client.post(page_export(client, version, split), {"format": "folders"})
    assert response.status_code == 200 and response.streaming
    assert set(contents(b"".join(response.streaming_content))) >= {"valid/dog/0.png"}
    assert not Job.objects.exists()
    assert client.post(page_export(client, version), {"format": "nope"}).status_code == 400
    client.force_login(other_user)
    assert client.post(page_export(client, version), {"format": "folders"}).status_code == 404


def test_api_download_streams_at_any_size_and_job_true_answers_202(api, user, version, settings):
    load(api, version)
    settings.SEEME_SYNC_LIMIT = 1
    streamed = api.get(download_url(version))
    assert streamed.status_code == 200 and streamed.streaming  # the SDK's route: a stream
    assert not Job.objects.exists()
    response = api.get(download_url(version, format="manifest", job="true"))
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["kind"] == ARCHIVE_EXPORT and body["state"] == "queued"
    assert response["Location"].endswith(f"/jobs/{body['id']}")
    assert api.get(download_url(version, format="bad", job="true")).status_code == 400
    assert api.get(download_url(version, job="maybe")).status_code == 400
    drain_queue()
    job = Job.objects.get(pk=body["id"])
    assert job.state == "done", job.errors
    entries = contents(job_file(api, job))
    assert "manifest.jsonl" in entries and "manifest.csv" in entries
