"""The job page and a job-starting form in headless Chromium (Playwright), live server."""

import os
import time

import pytest
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from seeme.jobs.models import Job, JobState
from seeme.jobs.services import enqueue_job
from tests.factories import PASSWORD, DatasetFactory, ItemFactory, UserFactory

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("SEEME_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_in(page, user) -> None:
    page.goto(reverse("login"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Datasets")


def write_job(job: Job, **fields) -> None:
    """Write ``fields`` into the job's row, as its worker would, while the page polls it.

    On SQLite the live server's thread uses the test's own in-memory database connection;
    a write that meets one of its reads still stepping fails at once ("database table is
    locked"), with no busy timeout to wait it out as a worker's file database has. So wait
    here, briefly, as that timeout would."""
    for attempt in range(100):
        try:
            Job.objects.filter(pk=job.pk).update(**fields)
            return
        except OperationalError as error:
            if "locked" not in str(error) or attempt == 99:
                raise
            time.sleep(0.02)


def test_the_progress_bar_follows_the_job_without_reloading(page):
    owner = UserFactory()
    dataset = DatasetFactory(owner=owner)
    job = enqueue_job("noop", dataset=dataset, user=owner, total=10)
    sign_in(page, owner)
    page.goto(reverse("seeme:job-detail", kwargs={"job_id": job.pk}))
    page.evaluate("window.__samePage = true")
    bar = page.locator("#job-progress")
    expect(bar).to_have_attribute("value", "0")
    # What a worker writes while it runs, then when it is done.
    write_job(job, state=JobState.RUNNING, done=4, message="Step 4")
    expect(page.locator('[data-job-field="message"]')).to_have_text("Step 4")
    assert bar.evaluate("el => el.value") == 4
    write_job(
        job,
        state=JobState.DONE,
        done=10,
        finished_at=timezone.now(),
        result_url=reverse("seeme:dataset-jobs", kwargs={"dataset_id": dataset.pk}),
    )
    expect(page.get_by_role("link", name="Open the result")).to_be_visible()
    assert bar.evaluate("el => el.value") == 10
    expect(page.locator('[data-job-field="state"]')).to_have_text("done")
    assert page.evaluate("window.__samePage") is True  # followed by script, not reloads


def test_a_failed_job_shows_its_error_live(page):
    owner = UserFactory()
    dataset = DatasetFactory(owner=owner)
    job = enqueue_job("noop", dataset=dataset, user=owner)
    sign_in(page, owner)
    page.goto(reverse("seeme:job-detail", kwargs={"job_id": job.pk}))
    write_job(
        job, state=JobState.FAILED, errors=[{"message": "out of disk"}], finished_at=timezone.now()
    )
    expect(page.get_by_role("alert")).to_contain_text("out of disk")


def test_the_duplicate_button_cannot_be_sent_twice(page, settings):
    settings.SEEME_SYNC_LIMIT = 1
    owner = UserFactory()
    dataset = DatasetFactory(owner=owner)
    version = dataset.versions.get()
    ItemFactory.create_batch(3, dataset_version=version)
    sign_in(page, owner)
    page.goto(
        reverse(
            "tools:version-compare", kwargs={"dataset_id": dataset.pk, "version_id": version.pk}
        )
    )
    # The answer keeps the page (204) as a slow server would, while the user clicks again.
    sent = []
    page.route(
        "**/duplicate/",
        lambda route: (sent.append(route.request.method), route.fulfill(status=204)),
    )
    button = page.get_by_role("button", name="Duplicate v1")
    button.click()
    expect(button).to_be_disabled()
    page.evaluate(
        """() => document.querySelector('form[action$="/duplicate/"]')
                     .requestSubmit()"""
    )
    page.wait_for_timeout(300)
    assert sent == ["POST"]
    assert not Job.objects.exists()  # (nothing reached the server here)
