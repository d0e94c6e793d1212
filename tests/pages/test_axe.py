"""axe-core (npm ``axe-core``, its built ``axe.min.js`` copied to tests/pages/assets; used by
the tests only) on every page, including the admin pages we customised: 0 violations."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from seeme.models import Role
from seeme.services import item_state_set
from tests.factories import PASSWORD, ItemFactory, UserFactory, share
from tests.pages.helpers import build_world
from tests.pages.test_annotate_browser import chromium, new_page  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "assets" / "axe.min.js"


def violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' '))"
        ".join(' | ')}`)"
    )
    return list(found)


def sign_in(page: Page, user) -> None:
    page.goto("/login/")
    assert violations(page) == [], "login"
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_label("Password").press("Enter")


@pytest.fixture
def site(db):
    owner = UserFactory(is_staff=True, is_superuser=True)
    world = build_world(owner)
    big = world.splits["train"]
    ItemFactory.create_batch(30, dataset_version=world.version, splits=[big])
    item_state_set(item=world.items["a.jpg"], state="reviewed", user=owner)
    share(world.dataset, UserFactory(), Role.VIEWER)
    return owner, world


def pages(world) -> dict[str, str]:
    v = {"dataset_id": world.dataset.pk, "version_id": world.version.pk}
    item = world.items["b.jpg"]
    return {
        "datasets": reverse("seeme:dataset-list"),
        "dataset": reverse("seeme:dataset-detail", kwargs={"dataset_id": world.dataset.pk}),
        "version": reverse("seeme:version-detail", kwargs=v),
        "items": reverse("seeme:item-list", kwargs=v),
        "items page 2": reverse("seeme:item-list", kwargs=v) + "?page=2&sort=-name",
        "item": reverse("seeme:item-detail", kwargs={**v, "item_id": item.pk}),
        "split": reverse("splits:split-detail", kwargs={**v, "split_id": world.splits["train"].pk}),
        "health": reverse("tools:version-health", kwargs=v),
        "health bad": reverse("tools:version-health", kwargs=v) + "?share_threshold=9",
        "compare": reverse("tools:version-compare", kwargs=v),
        "assign": reverse("tools:split-assign", kwargs=v),
        "admin": "/admin/",
        "admin datasets": "/admin/seeme/dataset/",
        "admin dataset": f"/admin/seeme/dataset/{world.dataset.pk}/change/",
        "admin version": f"/admin/seeme/version/{world.version.pk}/change/",
        "admin versions": "/admin/seeme/version/",
        "admin item": f"/admin/seeme/item/{item.pk}/change/",
        "admin items": "/admin/seeme/item/",
        "admin labels": "/admin/labels/label/",
        "admin annotations": "/admin/labels/annotation/",
        "admin stats": "/admin/labels/labelstat/",
        "admin splits": "/admin/splits/datasetsplit/",
        "admin users": "/admin/seeme/user/",
    }


def test_every_page_has_no_axe_violations(chromium, live_server, site):  # noqa: F811
    owner, world = site
    page = new_page(chromium, live_server, javascript=True, bypass_csp=True)
    sign_in(page, owner)
    found = {}
    for name, url in pages(world).items():
        answer = page.goto(url)
        assert answer is not None and answer.status == 200, (name, url)
        problems = violations(page)
        if problems:
            found[name] = problems
    # the assign page with its preview table
    page.goto(pages(world)["assign"])
    with page.expect_navigation():
        page.get_by_role("button", name="Preview (dry run)").click()
    expect(page.locator("#preview")).to_be_visible()
    if problems := violations(page):
        found["assign preview"] = problems
    # the admin action's intermediate page (assign splits to the selected versions)
    page.goto("/admin/seeme/version/")
    page.locator("input.action-select").first.check()
    page.locator("select[name=action]").select_option("assign_splits")
    with page.expect_navigation():
        page.locator("button[name=index]").click()
    if problems := violations(page):
        found["admin assign action"] = problems
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())
    page.context.close()


def test_viewer_pages_have_no_axe_violations(chromium, live_server, site):  # noqa: F811
    _, world = site
    viewer = UserFactory()
    share(world.dataset, viewer, Role.VIEWER)
    # axe itself is an injected script
    page = new_page(chromium, live_server, javascript=True, bypass_csp=True)
    sign_in(page, viewer)
    found = {}
    for name in ("datasets", "version", "items", "item", "split", "health", "compare"):
        page.goto(pages(world)[name])
        if problems := violations(page):
            found[name] = problems
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())
    page.context.close()
