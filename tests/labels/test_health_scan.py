"""Split health past the sync limit: the item-level checks (items in several splits,
duplicates across splits) come from the last background scan, the label findings stay live,
and the page's queries do not grow with the version's items."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labels import services as label_services
from labels.health_scan import HEALTH_SCAN, SCAN_ITEM_LIMIT
from labels.jobs import health_scan_enqueue
from labels.reports import split_health
from seeme.jobs.models import Job, JobState
from seeme.models import Role
from tests.conftest import client_for
from tests.factories import ItemFactory, LabelFactory, UserFactory, share
from tests.jobs.conftest import drain_queue

ITEM_KINDS = ("multi_split_items", "duplicates")


def leaky(version, splits, tag=""):
    """Items in two splits and duplicates across splits, plus labelled items."""
    LabelFactory(version=version, name=f"cat{tag}")
    label_services.add_inferences(
        split=splits["train"],
        user=None,
        inferences=[{"name": f"cat{tag}-{i}", "prediction": f"cat{tag}"} for i in range(3)],
    )
    both = [
        ItemFactory(dataset_version=version, splits=[splits["train"], splits["test"]])
        for _ in range(2)
    ]
    ItemFactory(dataset_version=version, text=f"same{tag}", splits=[splits["train"]])
    ItemFactory(dataset_version=version, text=f"same{tag}", splits=[splits["valid"]])
    return both


def item_level(report):
    return [
        (f.kind, [s.name for s in f.splits], f.item_count, f.value, sorted(f.item_ids), f.message)
        for f in report.findings
        if f.kind in ITEM_KINDS
    ]


def scan(version, user=None):
    job = health_scan_enqueue(version=version, user=user or version.dataset.owner)
    drain_queue()
    job.refresh_from_db()
    assert job.state == JobState.DONE, job.errors
    return job


def page_url(name, version):
    return reverse(name, kwargs={"dataset_id": version.dataset_id, "version_id": version.pk})


def test_under_the_limit_the_checks_run_live(version, splits):
    leaky(version, splits)
    report = split_health(version=version, scan_over=100)
    assert report.item_checks.live and report.item_checks.memberships == 9
    assert item_level(report) == item_level(split_health(version=version))
    assert {k for k, *_ in item_level(report)} == set(ITEM_KINDS)


def test_past_the_limit_the_last_scan_gives_the_same_findings(version, splits):
    leaky(version, splits)
    live = split_health(version=version)
    before = split_health(version=version, scan_over=3)
    assert not before.item_checks.live and before.item_checks.scan is None
    assert before.item_checks.changed is None and item_level(before) == []
    # The label findings do not wait for a scan.
    assert [f.kind for f in before.findings] == [
        f.kind for f in live.findings if f.kind not in ITEM_KINDS
    ]
    job = scan(version)
    after = split_health(version=version, scan_over=3)
    assert after.item_checks.scan == job and after.item_checks.changed is False
    assert after.item_checks.computed_at is not None
    assert item_level(after) == item_level(live)
    assert [f.kind for f in after.findings] == [f.kind for f in live.findings]
    limited = split_health(version=version, scan_over=3, item_limit=1)
    assert [len(f[4]) for f in item_level(limited)] == [1, 1]
    assert job.result["item_limit"] == SCAN_ITEM_LIMIT


def test_a_write_after_the_scan_shows_as_a_change(version, splits):
    both = leaky(version, splits)
    scan(version)
    assert split_health(version=version, scan_over=3).item_checks.changed is False
    label_services.item_remove_from_split(item=both[0], split=splits["test"])
    report = split_health(version=version, scan_over=3)
    assert report.item_checks.changed is True
    # Still the scan's numbers (2 items in both), said to be out of date; a new scan agrees
    # with a live check again.
    assert next(f for f in report.findings if f.kind == "multi_split_items").item_count == 2
    scan(version)
    fresh = split_health(version=version, scan_over=3)
    assert fresh.item_checks.changed is False
    assert item_level(fresh) == item_level(split_health(version=version))


def test_a_deleted_split_drops_its_findings_and_renames_follow(version, splits):
    leaky(version, splits)
    scan(version)
    splits["train"].name = "training"
    splits["train"].save(update_fields=["name"])
    renamed = split_health(version=version, scan_over=3)
    assert all("training" in f[5] for f in item_level(renamed))
    label_services.split_delete(split=splits["valid"])
    report = split_health(version=version, scan_over=3)
    assert report.item_checks.changed is True
    assert [f[1] for f in item_level(report)] == [["training", "test"]]


def test_a_second_start_while_one_runs_is_the_same_scan(version, splits):
    leaky(version, splits)
    first = health_scan_enqueue(version=version, user=version.dataset.owner)
    again = health_scan_enqueue(version=version, user=version.dataset.owner)
    assert again == first
    assert split_health(version=version, scan_over=3).item_checks.pending == first
    drain_queue()
    assert split_health(version=version, scan_over=3).item_checks.pending is None
    assert health_scan_enqueue(version=version, user=version.dataset.owner) != first


def test_another_versions_scan_is_not_used(version, splits, dataset):
    from labels.services.versions import version_duplicate

    leaky(version, splits)
    copy = version_duplicate(version=version, user=dataset.owner, name="v2")
    scan(version)
    report = split_health(version=copy, scan_over=3)
    assert report.item_checks.scan is None and item_level(report) == []


# -- the page ---------------------------------------------------------------------------


def test_page_past_the_limit_offers_a_scan_then_shows_it(user, version, splits, settings):
    settings.SEEME_SYNC_LIMIT = 3
    leaky(version, splits)
    client = Client()
    client.force_login(user)
    page = client.get(page_url("tools:version-health", version))
    assert page.status_code == 200
    assert b'data-state="none"' in page.content and b"Check items</button>" in page.content
    assert b'data-kind="multi_split_items"' not in page.content
    assert b'data-kind="missing_label"' in page.content  # label findings at once
    assert not Job.objects.exists()  # a GET starts nothing
    started = client.post(page_url("tools:version-health-scan", version), {"job_token": "t1"})
    job = Job.objects.get(kind=HEALTH_SCAN)
    assert started.status_code == 302
    assert started["Location"] == reverse("seeme:job-detail", kwargs={"job_id": job.pk})
    running = client.get(page_url("tools:version-health", version))
    assert b"follow its progress" in running.content and b"Check items</button>" not in (
        running.content
    )
    drain_queue()
    job.refresh_from_db()
    assert job.result_url == page_url("tools:version-health", version)
    done = client.get(page_url("tools:version-health", version))
    assert b'data-state="unchanged"' in done.content and b"Re-check items" in done.content
    assert b'data-kind="multi_split_items"' in done.content
    assert b'data-kind="duplicates"' in done.content
    csv_page = client.get(page_url("tools:version-health-csv", version))
    assert b"multi_split_items" in csv_page.content and b"duplicates" in csv_page.content


def test_scan_page_access(user, version, splits, settings):
    settings.SEEME_SYNC_LIMIT = 3
    leaky(version, splits)
    stranger, viewer = Client(), Client()
    stranger.force_login(UserFactory())
    member = UserFactory()
    share(version.dataset, member, Role.VIEWER)
    viewer.force_login(member)
    assert stranger.post(page_url("tools:version-health-scan", version)).status_code == 404
    assert not Job.objects.exists()
    assert viewer.get(page_url("tools:version-health-scan", version)).status_code == 405
    # The scan only reads: a viewer may start one.
    assert viewer.post(page_url("tools:version-health-scan", version)).status_code == 302
    assert Job.objects.get().created_by == member


def _page_queries(client, version) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(page_url("tools:version-health", version)).status_code == 200
    return len(captured)


def test_page_queries_past_the_limit_do_not_grow_with_items(user, version, splits, settings):
    settings.SEEME_SYNC_LIMIT = 3
    client = Client()
    client.force_login(user)
    leaky(version, splits)
    scan(version)
    small = _page_queries(client, version)
    for tag in range(1, 11):
        leaky(version, splits, tag=str(tag))
    scan(version)
    report = split_health(version=version, scan_over=3)
    assert report.item_checks.memberships > 40
    assert {f.item_count for f in report.findings if f.kind == "multi_split_items"} == {22}
    assert _page_queries(client, version) == small


# -- the API ----------------------------------------------------------------------------


def api_url(name, version):
    return reverse(name, kwargs={"dataset_id": version.dataset_id, "version_id": version.pk})


def test_api_health_says_where_item_findings_come_from(api, version, splits, settings):
    leaky(version, splits)
    live = api.get(api_url("version-health", version)).json()
    assert live["item_checks"]["mode"] == "live"
    assert live["item_checks"]["computed_at"] is None
    settings.SEEME_SYNC_LIMIT = 3
    waiting = api.get(api_url("version-health", version)).json()
    assert waiting["item_checks"] == {
        "mode": "scan",
        "memberships": 9,
        "sync_limit": 3,
        "computed_at": None,
        "changed_since": None,
        "scan_job_id": None,
        "pending_job_id": None,
    }
    assert {f["kind"] for f in waiting["findings"]} & set(ITEM_KINDS) == set()
    started = api.post(api_url("version-health-scan", version))
    assert started.status_code == 202
    job_id = started.json()["id"]
    assert started["Location"].endswith(f"/jobs/{job_id}")
    pending = api.get(api_url("version-health", version)).json()
    assert pending["item_checks"]["pending_job_id"] == job_id
    drain_queue()
    scanned = api.get(api_url("version-health", version)).json()
    assert scanned["item_checks"]["scan_job_id"] == job_id
    assert scanned["item_checks"]["changed_since"] is False
    # The same findings, in the same shape, as a live report.
    assert scanned["findings"] == live["findings"]


def test_api_scan_access(api, version, splits):
    leaky(version, splits)
    stranger = client_for(UserFactory())
    assert stranger.post(api_url("version-health-scan", version)).status_code == 404
    viewer = UserFactory()
    share(version.dataset, viewer, Role.VIEWER)
    assert client_for(viewer).post(api_url("version-health-scan", version)).status_code == 202
    assert client_for(viewer).get(api_url("version-health-scan", version)).status_code == 405


@pytest.mark.parametrize("state", [JobState.FAILED, JobState.CANCELLED])
def test_an_unfinished_scan_leaves_the_last_good_one(version, splits, state):
    leaky(version, splits)
    good = scan(version)
    Job.objects.create(
        kind=HEALTH_SCAN,
        dataset=version.dataset,
        params={"version_id": str(version.pk)},
        state=state,
    )
    report = split_health(version=version, scan_over=3)
    assert report.item_checks.scan == good and report.item_checks.pending is None


def _api_queries(client, version) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(api_url("version-health", version)).status_code == 200
    return len(captured)


def test_api_queries_past_the_limit_do_not_grow_with_items(api, version, splits, settings):
    settings.SEEME_SYNC_LIMIT = 3
    leaky(version, splits)
    scan(version)
    _api_queries(api, version)  # (the first request of a client also records its key's use)
    small = _api_queries(api, version)
    for tag in range(1, 11):
        leaky(version, splits, tag=str(tag))
    scan(version)
    assert split_health(version=version, scan_over=3).item_checks.memberships > 40
    assert _api_queries(api, version) == small
