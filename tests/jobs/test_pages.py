"""Job pages: progress, result link, error, cancel; forms that start a job once."""

import re

import pytest
from django.urls import reverse

from seeme import services
from seeme.jobs.models import Job, JobState
from seeme.jobs.services import enqueue_job
from seeme.models import Role, Version
from splits.models import ItemSplit
from tests.conftest import assert_stats_exact
from tests.factories import ItemFactory, UserFactory
from tests.jobs.conftest import fresh
from tests.pages.helpers import page_client

pytestmark = pytest.mark.django_db


def page(job) -> str:
    return reverse("seeme:job-detail", kwargs={"job_id": job.pk})


def progress_of(html: str) -> tuple[str, str]:
    found = re.search(r'<progress id="job-progress" max="(\d+)" value="(\d+)"', html)
    assert found, html
    return found.group(1), found.group(2)


def test_a_queued_job_page_refreshes_itself_without_js(user, dataset):
    job = enqueue_job("noop", dataset=dataset, user=user, params={"steps": 4}, total=4)
    html = page_client(user).get(page(job)).content.decode()
    assert '<noscript><meta http-equiv="refresh"' in html
    assert "js/jobs.js" in html
    assert progress_of(html) == ("4", "0")
    assert 'data-job-state="queued"' in html
    assert "manage.py db_worker" in html  # says why it waits
    assert ">Reload</a>" in html


def test_a_done_job_page_links_the_result(user, dataset, version, run_jobs):
    ItemFactory.create_batch(2, dataset_version=version)
    job = enqueue_job(
        "version_duplicate", dataset=dataset, user=user, params={"version_id": str(version.pk)}
    )
    run_jobs()
    html = page_client(user).get(page(job)).content.decode()
    copy = Version.objects.get(pk=fresh(job).result["version_id"])
    assert "http-equiv" not in html  # finished: no more refreshing
    assert progress_of(html) == ("2", "2")
    link = reverse("seeme:version-detail", kwargs={"dataset_id": dataset.pk, "version_id": copy.pk})
    assert f'href="{link}">Open the result</a>' in html
    assert "Cancel job" not in html


def test_a_failed_job_page_shows_the_error(user, dataset, run_jobs):
    job = enqueue_job("noop", dataset=dataset, user=user, params={"fail": "the disk is full"})
    run_jobs()
    html = page_client(user).get(page(job)).content.decode()
    assert "The job failed." in html
    assert "<li>the disk is full</li>" in html
    errors_block = re.search(r"<div class=\"alert alert--error\"[^>]*>", html).group(0)
    assert "hidden" not in errors_block


def test_strangers_get_404_viewers_cannot_cancel(user, dataset):
    job = enqueue_job("noop", dataset=dataset, user=user)
    stranger = page_client(UserFactory())
    assert stranger.get(page(job)).status_code == 404
    jobs_page = reverse("seeme:dataset-jobs", kwargs={"dataset_id": dataset.pk})
    assert stranger.get(jobs_page).status_code == 404
    viewer = UserFactory()
    services.dataset_share(dataset=dataset, identifier=viewer.username, role=Role.VIEWER)
    viewer_client = page_client(viewer)
    html = viewer_client.get(page(job)).content.decode()
    assert "Cancel job" not in html
    cancel = reverse("seeme:job-cancel", kwargs={"job_id": job.pk})
    assert viewer_client.post(cancel).status_code == 403
    assert fresh(job).state == JobState.QUEUED


def test_cancel_from_the_page(user, dataset, run_jobs):
    job = enqueue_job("noop", dataset=dataset, user=user)
    client = page_client(user)
    assert "Cancel job" in client.get(page(job)).content.decode()
    response = client.post(reverse("seeme:job-cancel", kwargs={"job_id": job.pk}), follow=True)
    assert fresh(job).state == JobState.CANCELLED
    assert "The job is cancelled." in response.content.decode()


def test_dataset_jobs_page_lists_jobs_in_constant_queries(
    user, dataset, run_jobs, django_assert_max_num_queries
):
    url = reverse("seeme:dataset-jobs", kwargs={"dataset_id": dataset.pk})
    client = page_client(user)
    enqueue_job("noop", dataset=dataset, user=user, params={"fail": "nope"})
    run_jobs()
    client.get(url)  # session and the like
    with django_assert_max_num_queries(8):
        html = client.get(url).content.decode()
    assert html.count("<progress") == 1 and "nope" in html
    for _ in range(4):
        enqueue_job("noop", dataset=dataset, user=user)
    with django_assert_max_num_queries(8):
        html = client.get(url).content.decode()
    assert html.count("<progress") == 5


def test_duplicate_form_past_the_limit_starts_one_job(user, dataset, version, settings, run_jobs):
    settings.SEEME_SYNC_LIMIT = 1
    ItemFactory.create_batch(3, dataset_version=version)
    client = page_client(user)
    compare = reverse(
        "tools:version-compare", kwargs={"dataset_id": dataset.pk, "version_id": version.pk}
    )
    html = client.get(compare).content.decode()
    assert "data-submit-once" in html
    token = re.search(r'name="job_token" value="([0-9a-f]+)"', html).group(1)
    url = reverse(
        "tools:version-duplicate", kwargs={"dataset_id": dataset.pk, "version_id": version.pk}
    )
    first = client.post(url, {"job_token": token})
    again = client.post(url, {"job_token": token})  # a double click that got through
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Job.objects.count() == 1
    job = Job.objects.get()
    assert first["Location"] == page(job)
    run_jobs()
    assert fresh(job).state == JobState.DONE
    assert dataset.versions.count() == 2
    assert_stats_exact()


def test_duplicate_form_under_the_limit_works_as_before(user, dataset, version):
    url = reverse(
        "tools:version-duplicate", kwargs={"dataset_id": dataset.pk, "version_id": version.pk}
    )
    response = page_client(user).post(url, {"job_token": "x"})
    copy = dataset.versions.get(name="v2")
    assert response["Location"] == reverse(
        "seeme:version-detail", kwargs={"dataset_id": dataset.pk, "version_id": copy.pk}
    )
    assert not Job.objects.exists()


def test_assign_apply_past_the_limit_is_a_job(user, dataset, version, splits, settings, run_jobs):
    settings.SEEME_SYNC_LIMIT = 1
    ItemFactory.create_batch(4, dataset_version=version)
    url = reverse("tools:split-assign", kwargs={"dataset_id": dataset.pk, "version_id": version.pk})
    form = {
        "ratios": "train=0.5,valid=0.25,test=0.25",
        "scope": "all",
        "group_by": "none",
        "separator": "_",
        "seed": "1",
    }
    client = page_client(user)
    # Without a preview's token no job starts: Apply is the preview, past the limit too.
    refused = client.post(url, {**form, "action": "apply", "job_token": "t0"})
    assert refused.status_code == 200 and not Job.objects.exists()
    # The preview is a dry-run job; its page hands out the token of that plan.
    client.post(url, {**form, "action": "preview", "job_token": "p0"})
    run_jobs()
    preview_job = Job.objects.get()
    token = client.get(fresh(preview_job).result_url).context["preview"]["token"]
    changed = {**form, "seed": "2", "action": "apply", "preview_token": token, "job_token": "t2"}
    assert client.post(url, changed).status_code == 200  # another plan: refused
    response = client.post(
        url, {**form, "action": "apply", "preview_token": token, "job_token": "t1"}
    )
    assert response.status_code == 302
    job = Job.objects.exclude(pk=preview_job.pk).get()
    run_jobs()
    job = fresh(job)
    assert job.state == JobState.DONE, job.errors
    assert job.result["moved"] == preview_job.result["moved"]
    assert ItemSplit.objects.filter(split__version=version).count() == 4  # one split each
    assert_stats_exact()


def test_assign_preview_past_the_limit_is_a_job_whose_page_shows_the_table(
    user, dataset, version, splits, settings, run_jobs
):
    settings.SEEME_SYNC_LIMIT = 1
    ItemFactory.create_batch(4, dataset_version=version)
    url = reverse("tools:split-assign", kwargs={"dataset_id": dataset.pk, "version_id": version.pk})
    client = page_client(user)
    form = {
        "ratios": "train=0.5,valid=0.25,test=0.25",
        "scope": "all",
        "group_by": "none",
        "separator": "_",
        "seed": "42",
        "action": "preview",
        "job_token": "p1",
    }
    response = client.post(url, form)
    job = Job.objects.get()
    assert response["Location"] == page(job)
    run_jobs()
    job = fresh(job)
    assert job.state == JobState.DONE and job.result["dry_run"] is True
    assert not ItemSplit.objects.filter(split__version=version).exists()  # nothing written
    assert job.result_url == f"{url}?job={job.pk}"
    html = client.get(job.result_url).content.decode()
    assert 'id="preview"' in html and "Nothing has been written." in html
    assert 'value="apply"' in html  # the previewed options can be applied
    assert 'value="42"' in html  # ... they are the form's
    stranger = page_client(UserFactory())
    assert stranger.get(job.result_url).status_code == 404


def test_admin_lists_jobs_read_only(dataset, user):
    job = enqueue_job("noop", dataset=dataset, user=user)
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client = page_client(admin_user)
    html = client.get(reverse("admin:seeme_job_changelist")).content.decode()
    assert "noop" in html and str(dataset.name) in html
    assert reverse("admin:seeme_job_add") not in html
    detail = client.get(reverse("admin:seeme_job_change", args=[job.pk])).content.decode()
    assert page(job) in detail  # the link to the job page
    assert client.post(reverse("admin:seeme_job_delete", args=[job.pk])).status_code == 403
    assert Job.objects.filter(pk=job.pk).exists()
