"""The jobs API: state and progress, cancel, the per-dataset list, and who may see what."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from seeme import services
from seeme.jobs.models import Job, JobState
from seeme.jobs.services import enqueue_job
from seeme.models import Role
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def job_url(job) -> str:
    return reverse("job-detail", kwargs={"pk": job.pk})


def test_job_json_has_the_contract_fields(api, user, dataset, run_jobs):
    job = enqueue_job("noop", dataset=dataset, user=user, params={"steps": 4})
    body = api.get(job_url(job)).json()
    assert body["state"] == "queued" and body["done"] == 0
    run_jobs()
    body = api.get(job_url(job)).json()
    for field in ("id", "kind", "state", "done", "total", "message", "result", "errors"):
        assert field in body
    for field in ("created_at", "started_at", "finished_at"):
        assert body[field]
    assert body["kind"] == "noop"
    assert (body["state"], body["done"], body["total"]) == ("done", 4, 4)
    assert body["result"] == {"steps": 4}
    assert body["dataset_id"] == str(dataset.pk)


def test_a_failed_jobs_error_is_in_the_api(api, user, dataset, run_jobs):
    job = enqueue_job("noop", dataset=dataset, user=user, params={"fail": "disk on fire"})
    run_jobs()
    body = api.get(job_url(job)).json()
    assert body["state"] == "failed"
    assert body["errors"][0]["message"] == "disk on fire"


def test_strangers_get_404_and_sharees_see_the_job(user, dataset):
    job = enqueue_job("noop", dataset=dataset, user=user)
    stranger = client_for(UserFactory())
    assert stranger.get(job_url(job)).status_code == 404
    assert stranger.post(reverse("job-cancel", kwargs={"pk": job.pk})).status_code == 404
    list_url = reverse("dataset-jobs", kwargs={"dataset_id": dataset.pk})
    assert stranger.get(list_url).status_code == 404
    viewer = UserFactory()
    services.dataset_share(dataset=dataset, identifier=viewer.username, role=Role.VIEWER)
    viewer_api = client_for(viewer)
    assert viewer_api.get(job_url(job)).status_code == 200
    assert [j["id"] for j in viewer_api.get(list_url).json()] == [str(job.pk)]
    # a viewer may watch, not cancel
    assert viewer_api.post(reverse("job-cancel", kwargs={"pk": job.pk})).status_code == 403
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED


def test_unknown_or_malformed_job_ids_are_404(api):
    assert api.get(reverse("job-detail", kwargs={"pk": uuid.uuid4()})).status_code == 404
    assert api.get("/api/v1/jobs/not-a-uuid").status_code == 404
    assert anon_status("/api/v1/jobs/" + str(uuid.uuid4())) in (401, 403)


def anon_status(url: str) -> int:
    from rest_framework.test import APIClient

    return APIClient().get(url).status_code


def test_cancel_through_the_api(api, user, dataset, run_jobs):
    job = enqueue_job("noop", dataset=dataset, user=user, params={"steps": 2})
    response = api.post(reverse("job-cancel", kwargs={"pk": job.pk}))
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    run_jobs()
    assert api.get(job_url(job)).json()["state"] == "cancelled"
    done = enqueue_job("noop", dataset=dataset, user=user)
    run_jobs()
    response = api.post(reverse("job-cancel", kwargs={"pk": done.pk}))
    assert response.status_code == 409
    assert "already done" in response.json()["message"]


def test_reading_a_dead_job_shows_it_retried_not_running(api, user, dataset):
    job = enqueue_job("noop", dataset=dataset, user=user)
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, attempts=1, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert api.get(job_url(job)).json()["state"] == "queued"


def test_dataset_jobs_list_newest_first_with_constant_queries(
    api, user, dataset, django_assert_max_num_queries
):
    url = reverse("dataset-jobs", kwargs={"dataset_id": dataset.pk})
    first = enqueue_job("noop", dataset=dataset, user=user)
    with django_assert_max_num_queries(6):
        one = api.get(url).json()
    assert [j["id"] for j in one] == [str(first.pk)]
    for _ in range(5):
        enqueue_job("noop", dataset=dataset, user=user)
    with django_assert_max_num_queries(6):
        many = api.get(url).json()
    assert len(many) == 6 and many[-1]["id"] == str(first.pk)
