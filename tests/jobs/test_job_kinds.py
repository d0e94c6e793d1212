"""What becomes a job: past SEEME_SYNC_LIMIT items the API answers 202 with the job; the
job does what the request would have done, with exact statistics after every kind."""

import hashlib
import uuid

import pytest
from django.db import connection
from django.urls import reverse

from labels import services as label_services
from labels.services.versions import version_duplicate
from seeme.db import derived_uuid
from seeme.jobs.models import Job, JobState
from seeme.jobs.services import enqueue_job
from seeme.models import Item, Version
from splits.models import ItemSplit
from tests.conftest import assert_stats_exact, planner_knows_version
from tests.factories import ItemFactory, LabelFactory
from tests.jobs.conftest import fresh
from tests.labels.test_versions_diff import content

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(version, splits):
    LabelFactory(version=version, name="cat")
    LabelFactory(version=version, name="dog")
    label_services.add_inferences(
        split=splits["train"],
        user=None,
        inferences=[{"name": f"cat-{i}", "prediction": "cat"} for i in range(5)]
        + [{"name": f"dog-{i}", "prediction": "dog"} for i in range(3)],
    )
    ItemFactory.create_batch(3, dataset_version=version)  # in no split
    ItemFactory(dataset_version=version, name="both", splits=[splits["valid"], splits["test"]])
    return version


def _url(name, version, **kw):
    return reverse(name, kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, **kw})


def test_under_the_limit_duplicate_answers_the_version_as_before(api, world, settings):
    settings.SEEME_SYNC_LIMIT = 1000
    response = api.post(_url("version-duplicate", world), {}, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "v2"
    assert not Job.objects.exists()


def test_past_the_limit_duplicate_is_a_job(api, user, world, settings, run_jobs):
    settings.SEEME_SYNC_LIMIT = 5
    before = content(world)
    response = api.post(_url("version-duplicate", world), {"name": "big copy"}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["kind"] == "version_duplicate" and body["state"] == "queued"
    assert body["total"] == Item.objects.filter(dataset_version=world).count()
    assert response["Location"] == reverse("job-detail", kwargs={"pk": body["id"]})
    assert not Version.objects.filter(name="big copy").exists()  # not in the request
    run_jobs()
    job = api.get(response["Location"]).json()
    assert job["state"] == "done", job
    assert job["done"] == job["total"] > 0
    copy = Version.objects.get(pk=job["result"]["version_id"])
    assert copy.name == "big copy"
    assert job["result_url"] == f"/datasets/{copy.dataset_id}/versions/{copy.pk}/"
    assert content(copy) == before
    assert_stats_exact()


def test_past_the_limit_a_taken_name_is_refused_before_queueing(api, world, settings):
    settings.SEEME_SYNC_LIMIT = 5
    response = api.post(_url("version-duplicate", world), {"name": "v1"}, format="json")
    assert response.status_code == 409
    assert not Job.objects.exists()


def test_the_same_idempotency_key_starts_one_job(api, world, settings):
    settings.SEEME_SYNC_LIMIT = 5
    url = _url("version-duplicate", world)
    first = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    again = api.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Job.objects.count() == 1


def test_copy_ids_are_derived_in_the_database(user, world):
    copy = version_duplicate(version=world, user=user)
    originals = Item.objects.filter(dataset_version=world).values_list("pk", flat=True)
    expected = {derived_uuid(copy.pk, "item", pk) for pk in originals}
    # 64 bits naming (copy, "item"), then the original's last 64: those differ between ids
    # made in one millisecond, which share their first 64 (the items of ``world``).
    prefix = hashlib.md5(f"{copy.pk}:item".encode()).hexdigest()[:16]
    assert expected == {uuid.UUID(prefix + pk.hex[16:]) for pk in originals}
    assert len(expected) == len(originals)
    assert set(Item.objects.filter(dataset_version=copy).values_list("pk", flat=True)) == expected
    copied = ItemSplit.objects.filter(split__version=copy).values_list("item_id", flat=True)
    assert set(copied) <= expected


def test_past_the_limit_assign_is_a_job(api, world, settings, run_jobs):
    settings.SEEME_SYNC_LIMIT = 5
    body = {"ratios": {"train": 0.5, "valid": 0.25, "test": 0.25}, "scope": "all", "seed": 1}
    response = api.post(_url("split-assign", world), body, format="json")
    assert response.status_code == 202
    run_jobs()
    job = fresh(Job.objects.get(pk=response.json()["id"]))
    assert job.state == JobState.DONE, job.errors
    # every item is now in exactly one split, like the synchronous answer promises
    assert (
        ItemSplit.objects.filter(split__version=world).count()
        == Item.objects.filter(dataset_version=world).count()
    )
    assert "after" in job.result or "splits" in job.result
    assert_stats_exact()


def test_past_the_limit_move_is_a_job(api, world, splits, settings, run_jobs):
    settings.SEEME_SYNC_LIMIT = 3
    test_split = splits["test"]
    url = _url("split-move", world, split_id=test_split.pk)
    response = api.post(url, {"filters": {"splitId": str(splits["train"].pk)}}, format="json")
    assert response.status_code == 202
    run_jobs()
    job = fresh(Job.objects.get(pk=response.json()["id"]))
    assert job.state == JobState.DONE, job.errors
    assert job.result["moved"] == 8
    assert not ItemSplit.objects.filter(split=splits["train"]).exists()
    assert_stats_exact()


def test_a_bad_move_filter_is_400_before_any_job(api, world, splits, settings):
    settings.SEEME_SYNC_LIMIT = 3
    url = _url("split-move", world, split_id=splits["test"].pk)
    response = api.post(url, {"filters": {"colour": "red"}}, format="json")
    assert response.status_code == 400
    assert not Job.objects.exists()


def test_reconcile_job_repairs_drift(user, dataset, world, splits, run_jobs):
    from labels.models import LabelStat

    LabelStat.objects.filter(split=splits["train"], kind=LabelStat.Kind.TOTAL).update(
        annotation_count=999
    )
    job = enqueue_job("reconcile", dataset=dataset, user=user)
    run_jobs()
    job = fresh(job)
    assert job.state == JobState.DONE
    assert job.result["drifted_rows"] == 1
    assert_stats_exact()


def test_a_job_whose_version_vanished_fails_with_a_reason(user, dataset, world, run_jobs):
    job = enqueue_job(
        "version_duplicate", dataset=dataset, user=user, params={"version_id": str(user.pk)}
    )
    run_jobs()
    job = fresh(job)
    assert job.state == JobState.FAILED
    assert job.errors[0]["message"] == "The version no longer exists."


def test_duplicate_progress_only_grows_and_ends_at_total(user, world):
    seen = []
    version_duplicate(version=world, user=user, progress=lambda d, t, m: seen.append((d, t)))
    items = Item.objects.filter(dataset_version=world).count()
    assert [t for _, t in seen] == [items] * len(seen)
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[0] == 0 and done[-1] == items
    assert len(set(done)) >= 3  # it moved in steps, not just 0 then all


def _generate_job(user, *extra):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "generate_dataset",
        *("--items", "300", "--labels", "4", "--chunk", "100", "--owner", user.username),
        *("--seed", "7", "--job", *extra),
        stdout=out,
    )
    assert "load in job" in out.getvalue()
    return Job.objects.get(kind="generate_dataset")


def test_generate_dataset_job_loads_in_chunks_with_exact_stats(user, run_jobs):
    job = _generate_job(user)
    version = Version.objects.get(pk=job.params["version_id"])
    assert Item.objects.filter(dataset_version=version).count() == 0  # not in the command
    assert job.total == 300 and job.state == JobState.QUEUED
    run_jobs()
    job = fresh(job)
    assert (job.state, job.done, job.total) == (JobState.DONE, 300, 300), job.errors
    assert Item.objects.filter(dataset_version=version).count() == 300
    assert_stats_exact()


def test_a_retried_generate_job_resumes_after_the_committed_chunks(user, run_jobs):
    from labels.generate import generate_chunk

    job = _generate_job(user)
    version = Version.objects.get(pk=job.params["version_id"])
    # Attempt 1 committed its first chunk and its checkpoint, then its worker died.
    generate_chunk(
        version=version,
        owner=user,
        split_ids=[uuid.UUID(i) for i in job.params["split_ids"]],
        split_cum=job.params["split_cum"],
        label_ids=[uuid.UUID(i) for i in job.params["label_ids"]],
        opts=job.params["opts"],
        start=0,
        size=100,
        base=job.created_at,
    )
    Job.objects.filter(pk=job.pk).update(done=100)
    run_jobs()
    assert fresh(job).state == JobState.DONE
    names = list(Item.objects.filter(dataset_version=version).values_list("name", flat=True))
    assert len(names) == len(set(names)) == 300  # nothing loaded twice
    assert sorted(names)[0] == "img-0000000.jpg" and sorted(names)[-1] == "img-0000299.jpg"
    assert_stats_exact()


def test_reconcile_command_as_a_job(user, dataset, splits, run_jobs):
    from io import StringIO

    from django.core.management import call_command

    from labels.models import LabelStat

    LabelStat.objects.filter(split=splits["valid"], kind=LabelStat.Kind.TOTAL).update(
        annotation_count=5
    )
    out = StringIO()
    call_command("reconcile_label_stats", "--dataset", str(dataset.pk), "--job", stdout=out)
    job = Job.objects.get(kind="reconcile")
    assert f"job {job.pk}" in out.getvalue() and job.dataset_id == dataset.pk
    run_jobs()
    job = fresh(job)
    assert job.state == JobState.DONE and job.result["drifted_rows"] == 1
    assert_stats_exact()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_duplicate_job_leaves_the_planner_knowing_the_copy(api, world, settings, run_jobs):
    """Without ANALYZE the planner takes a brand-new version for one row and plans a name
    search of a 1M-item copy as a walk through all of it (seeme.db.analyze)."""
    settings.SEEME_SYNC_LIMIT = 5
    response = api.post(_url("version-duplicate", world), {"name": "planned"}, format="json")
    assert response.status_code == 202
    run_jobs()
    assert planner_knows_version(Version.objects.get(name="planned").pk)
