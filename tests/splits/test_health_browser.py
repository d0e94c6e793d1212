"""The split-health page of a version past the sync limit in headless Chromium (Playwright,
live server): "Check items" starts a scan, the job page follows it, and its result leads back
to the page, which then shows the scan's findings."""

import os
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect, sync_playwright

from labels import services as label_services
from seeme.jobs.models import Job
from tests.factories import PASSWORD, DatasetFactory, ItemFactory, LabelFactory, UserFactory
from tests.jobs.conftest import drain_queue

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


def test_check_items_runs_a_scan_whose_findings_the_page_then_shows(page, settings):
    settings.SEEME_SYNC_LIMIT = 3
    owner = UserFactory()
    dataset = DatasetFactory(owner=owner)
    version = dataset.versions.get()
    splits = {s.name: s for s in version.splits.all()}
    LabelFactory(version=version, name="cat")
    label_services.add_inferences(
        split=splits["train"],
        user=None,
        inferences=[{"name": f"cat-{i}", "prediction": "cat"} for i in range(3)],
    )
    ItemFactory(dataset_version=version, name="both.jpg", splits=[splits["train"], splits["test"]])
    sign_in(page, owner)
    page.goto(
        reverse("tools:version-health", kwargs={"dataset_id": dataset.pk, "version_id": version.pk})
    )
    expect(page.locator("#item-checks-state")).to_have_attribute("data-state", "none")
    expect(page.locator('tr[data-kind="missing_label"]')).to_have_count(1)
    expect(page.locator('tr[data-kind="multi_split_items"]')).to_have_count(0)
    page.get_by_role("button", name="Check items").click()
    expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]{36}/$"))
    job = Job.objects.get()
    assert page.url.endswith(reverse("seeme:job-detail", kwargs={"job_id": job.pk}))
    drain_queue()  # the worker
    result = page.get_by_role("link", name="Open the result")
    expect(result).to_be_visible()
    result.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Split health")
    expect(page.locator("#item-checks-state")).to_have_attribute("data-state", "unchanged")
    row = page.locator('tr[data-kind="multi_split_items"]')
    expect(row).to_contain_text("1 item(s) are in both 'train' and 'test'.")
    expect(row.get_by_role("link", name="both.jpg")).to_be_visible()
    expect(page.get_by_role("button", name="Re-check items")).to_be_visible()
