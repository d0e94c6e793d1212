"""The Content-Security-Policy in a real browser: walking the pages, the admin and the API
docs triggers no CSP violation, and the API docs still render their operations (their
start-up script is a file now, not inline)."""

import re

import pytest
from playwright.sync_api import expect

from tests.pages.test_browser import browser, demo, follow, page, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


def test_pages_admin_and_api_docs_break_no_csp_rule(page, demo):  # noqa: F811
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    sign_in(page)
    follow(page, page.get_by_role("link", name=re.compile("Demo|demo|Pets|pets")).first)
    version_url = page.url
    for link in ("Items", "Health"):
        page.goto(version_url)
        locator = page.get_by_role("link", name=re.compile(link, re.I)).first
        if locator.count():
            follow(page, locator)
    # The item page loads htmx and the labelling script: neither may inject inline styles.
    page.goto(version_url.rstrip("/") + "/items/")
    follow(page, page.locator("a[href*='/items/'][href$='/']").filter(has_not_text="Items").first)
    page.wait_for_load_state("networkidle")
    page.goto("/admin/")
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    page.goto("/admin/seeme/dataset/")
    page.goto("/api/docs/")
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    assert violations == [], violations
