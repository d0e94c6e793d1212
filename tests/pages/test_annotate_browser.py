"""Labelling in a real browser (issue 13): an annotator labels 20 unlabelled items of a
split with the keyboard only, with JavaScript on (htmx, digit keys) and off (plain forms,
the browser's access keys), and the version page then shows exactly those counts; a viewer
sees no editing controls and is refused by the endpoints."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect, sync_playwright

from seeme.models import Role
from tests.conftest import assert_stats_exact
from tests.factories import (
    PASSWORD,
    DatasetFactory,
    ItemFactory,
    LabelFactory,
    UserFactory,
    share,
)
from tests.pages.test_browser import CHROMIUM, CHROMIUM_ARGS, LAPTOP, matrix_numbers

pytestmark = pytest.mark.browser

ITEMS = 20


@pytest.fixture(scope="module")
def chromium():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


def new_page(chromium, live_server, *, javascript: bool, bypass_csp: bool = False) -> Page:
    """``bypass_csp`` lets a test inject its own tools (axe-core) into our pages; the policy
    itself is tested by tests/security/test_csp_browser.py."""
    context = chromium.new_context(
        viewport=LAPTOP,
        base_url=live_server.url,
        java_script_enabled=javascript,
        bypass_csp=bypass_csp,
    )
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def world(db):
    owner = UserFactory()
    dataset = DatasetFactory(owner=owner, name="animals")
    version = dataset.versions.get()
    splits = {s.name: s for s in version.splits.all()}
    labels = {
        "cat": LabelFactory(version=version, name="cat"),
        "dog": LabelFactory(version=version, name="dog", shortcut="d"),
    }
    items = [
        ItemFactory(dataset_version=version, name=f"img-{i:02d}.jpg", splits=[splits["train"]])
        for i in range(ITEMS)
    ]
    ItemFactory(dataset_version=version, name="other.jpg", splits=[splits["valid"]])
    annotator, viewer = UserFactory(), UserFactory()
    share(dataset, annotator, Role.ANNOTATOR)
    share(dataset, viewer, Role.VIEWER)
    return {
        "dataset": dataset,
        "version": version,
        "splits": splits,
        "labels": labels,
        "items": items,
        "annotator": annotator,
        "viewer": viewer,
    }


def sign_in(page: Page, user) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_label("Password").press("Enter")


def first_unlabelled(page: Page, world) -> None:
    """Open the item browser filtered to train's unlabelled items, then its first item."""
    version, train = world["version"], world["splits"]["train"]
    browser = reverse(
        "seeme:item-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
    )
    page.goto(f"{browser}?splitId={train.pk}&onlyUnlabelled=true")
    expect(page.locator("#result-count")).to_contain_text(f"{ITEMS} items")
    with page.expect_navigation():
        page.locator("#items > li").first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("img-00.jpg")


def plan() -> list[str]:
    """Which label each of the 20 items gets: 13 cats, 7 dogs."""
    return ["cat" if i % 3 else "dog" for i in range(ITEMS)]


def check_version_page(page: Page, world) -> None:
    version, train, labels = world["version"], world["splits"]["train"], world["labels"]
    page.goto(
        reverse(
            "seeme:version-detail",
            kwargs={"dataset_id": version.dataset_id, "version_id": version.pk},
        )
    )
    numbers = matrix_numbers(page)
    wanted = plan()
    split = str(train.pk)
    assert numbers[(str(labels["cat"].pk), split, "items")] == wanted.count("cat")
    assert numbers[(str(labels["dog"].pk), split, "items")] == wanted.count("dog")
    assert numbers[("unlabelled", split, "items")] == 0
    assert numbers[("total", split, "items")] == ITEMS
    assert_stats_exact()
    by_name = {
        item.name: sorted(item.annotations.values_list("label__name", flat=True))
        for item in world["items"]
    }
    assert by_name == {f"img-{i:02d}.jpg": [label] for i, label in enumerate(plan())}


def label_all(page: Page, press, *, javascript: bool) -> None:
    """Label the open item and the ones after it, one key each, waiting for each page. The
    last one stays open and says so (in place with htmx, after a redirect without)."""
    for i, label in enumerate(plan()):
        expect(page.get_by_role("heading", level=1)).to_have_text(f"img-{i:02d}.jpg")
        if i < ITEMS - 1 or not javascript:
            with page.expect_navigation():
                press(label)
        else:
            press(label)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"img-{ITEMS - 1:02d}.jpg")
    expect(page.locator("main")).to_contain_text("That was the last unlabelled item")


def test_annotator_labels_twenty_items_with_the_keyboard(chromium, live_server, world):
    page = new_page(chromium, live_server, javascript=True)
    sign_in(page, world["annotator"])
    first_unlabelled(page, world)
    # digit 1 = cat (first label); dog by its own shortcut "d"
    label_all(
        page, lambda label: page.keyboard.press("1" if label == "cat" else "d"), javascript=True
    )
    expect(page.locator("#label-controls .counts-table")).to_contain_text("Unlabelled")
    unlabelled_row = page.locator('#label-controls tr[data-label-id="unlabelled"] td')
    expect(unlabelled_row).to_have_text("0")
    check_version_page(page, world)
    page.context.close()


def test_annotator_labels_twenty_items_without_javascript(chromium, live_server, world):
    page = new_page(chromium, live_server, javascript=False)
    sign_in(page, world["annotator"])
    first_unlabelled(page, world)

    # no script at all: the first label button has the focus (autofocus); Enter posts the
    # plain form, Tab moves to the next label first
    def press(label):
        if label == "dog":
            page.keyboard.press("Tab")
            expect(page.locator("button.label-button:focus")).to_contain_text("dog")
        page.keyboard.press("Enter")

    label_all(page, press, javascript=False)
    check_version_page(page, world)
    page.context.close()


def test_viewer_sees_no_editing_controls_and_is_refused(chromium, live_server, world):
    page = new_page(chromium, live_server, javascript=True)
    sign_in(page, world["viewer"])
    version, item = world["version"], world["items"][0]
    kwargs = {"dataset_id": version.dataset_id, "version_id": version.pk}
    page.goto(reverse("seeme:item-detail", kwargs={**kwargs, "item_id": item.pk}))
    expect(page.get_by_role("heading", level=1)).to_have_text(item.name)
    assert page.locator("button.label-button").count() == 0
    assert page.get_by_role("button", name="Move").count() == 0
    assert page.get_by_role("button", name="Set state").count() == 0
    page.goto(reverse("seeme:item-list", kwargs=kwargs))
    assert page.locator("#bulk-form").count() == 0
    assert page.locator('input[name="item"]').count() == 0
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    url = reverse("labels:item-label", kwargs={**kwargs, "item_id": item.pk})
    answer = page.request.post(
        url,
        form={"label": str(world["labels"]["cat"].pk)},
        headers={"X-CSRFToken": cookies.get("csrftoken", ""), "Referer": live_server.url + "/"},
    )
    assert answer.status == 403
    assert not re.search(r"csrf", answer.text(), re.I)
    assert item.annotations.count() == 0
    page.context.close()


def test_phone_matrix_keeps_the_label_column_visible_and_chart_has_a_cue(
    chromium, live_server, world
):
    """Issue 13: on a phone the matrix's header covered the label column when it scrolled
    sideways, and the chart was cut off without a cue."""
    version = world["version"]
    for i in range(6):
        LabelFactory(version=version, name=f"label number {i}")
    page = new_page(chromium, live_server, javascript=True)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, world["annotator"])
    page.goto(
        reverse(
            "seeme:version-detail",
            kwargs={"dataset_id": version.dataset_id, "version_id": version.pk},
        )
    )
    expect(page.locator(".chart__cue")).to_be_visible()
    scroller = page.locator(".chart__scroll")
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")  # there is more to see
    region = page.locator(".table-scroll").first
    page.locator("#matrix thead").evaluate("e => e.scrollIntoView({block: 'start'})")
    region.evaluate("e => { e.scrollLeft = 400; }")
    assert region.evaluate("e => e.scrollLeft") > 0
    page.wait_for_timeout(100)
    second_header_row = page.locator("#matrix thead tr").nth(1).locator("th").first
    for name in ("Label", "cat", "dog", "unlabelled", "Total"):
        cell = (
            page.locator("#matrix thead th").first
            if name == "Label"
            else page.locator("#matrix th[scope=row]", has_text=name).first
        )
        # bring the row into the window vertically (the region keeps its sideways scroll)
        cell.evaluate("e => window.scrollBy(0, e.getBoundingClientRect().top - 200)")
        box = cell.bounding_box()
        x, y = box["x"] + 8, box["y"] + box["height"] / 2
        if name == "Label":  # the corner spans both header rows: probe the lower one
            row = second_header_row.bounding_box()
            y = row["y"] + row["height"] / 2
        on_top = page.evaluate(
            "([x, y]) => { const e = document.elementFromPoint(x, y); "
            "return e ? (e.closest('th') ? e.closest('th').innerText : e.tagName) : null; }",
            [x, y],
        )
        assert on_top is not None and name.lower() in on_top.lower(), (name, on_top)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size(LAPTOP)
    expect(page.locator(".chart__cue")).to_be_hidden()  # the cue is for narrow windows
    page.context.close()
