"""The annotator pages in a real browser: headless Chromium through Playwright against the
live server. Sign in with the demo login, walk datasets -> version -> split, compare every
number with the API's, click a label and the unlabelled row and see exactly their items.

With SEEME_SCREENSHOTS=1 the walk also saves docs/screenshots/*.png (off in CI so the
committed images are not rewritten).
"""

import os
import random
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect, sync_playwright

from labels import services as label_services
from seeme.models import ContentType, Role
from seeme.services import dataset_share
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("SEEME_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAPTOP = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop running in this thread; the test's own ORM
    # calls (fixtures, factories) are still plain synchronous code.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield playwright, chromium
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    _, chromium = browser
    context = chromium.new_context(viewport=LAPTOP, base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def demo(live_server):
    seed_screens()


@pytest.fixture
def api(browser, live_server, demo):
    """An HTTP client of the live API, with a key from POST /api/v1/login (demo login)."""
    playwright, _ = browser
    anonymous = playwright.request.new_context(base_url=live_server.url)
    login = anonymous.post("/api/v1/login", data={"username": "demo", "password": "demo-password"})
    assert login.ok, login.text()
    key = login.json()["apikey"]
    anonymous.dispose()
    client = playwright.request.new_context(
        base_url=live_server.url, extra_http_headers={"Authorization": f"Bearer {key}"}
    )
    yield client
    client.dispose()


def shoot(page: Page, name: str) -> None:
    if os.environ.get("SEEME_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def follow(page: Page, locator) -> None:
    """Click a link and wait until the next page has loaded (styles included)."""
    with page.expect_navigation():
        locator.click()
    page.wait_for_load_state("load")


def sign_in(page: Page) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill("demo")
    page.get_by_label("Password").fill("demo-password")
    follow(page, page.get_by_role("button", name="Sign in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Datasets")


TICKET_LABELS = [
    ("billing", "#4e79a7"),
    ("bug", "#e15759"),
    ("feature request", "#59a14f"),
    ("question", "#f28e2b"),
    ("spam", "#9c755f"),
]
TICKETS = [
    "I was charged twice for my subscription this month, please refund the second payment.",
    "The export button does nothing on Firefox; the console shows a 500 from /export.",
    "Could you add dark mode? Staring at the annotation screen all night hurts.",
    "How do I move items from the validation split to the training split?",
    "Congratulations, you won a free cruise! Click here to claim your prize now.",
    "The invoice address is wrong on the last three invoices, can you correct it?",
    "Uploading a 40 MB image fails with a timeout after exactly 30 seconds.",
    "It would be great to filter items by the user who annotated them.",
    "Is there a limit on the number of labels per dataset version?",
]


def seed_screens() -> None:
    """The demo (as `make run` loads it) plus two datasets shared with the demo user, so the
    pages have something to show."""
    call_command("seed_demo")
    colleague = UserFactory(username="grace")
    rng = random.Random(3)
    tickets = label_services.dataset_create(
        owner=colleague,
        name="Support tickets",
        content_type=ContentType.TEXT,
        description="Customer e-mails, labelled by topic for the triage model.",
        default_splits=True,
        multi_label=False,
    )
    version = tickets.versions.get()
    splits = list(version.splits.order_by("created_at"))
    labels = [
        label_services.label_create(version=version, user=colleague, name=n, color=c)
        for n, c in TICKET_LABELS
    ]
    for i in range(60):
        split = splits[0] if i % 5 < 3 else splits[1] if i % 5 == 3 else splits[2]
        item = label_services.item_create(
            version=version,
            user=colleague,
            name=f"ticket-{1040 + i}.txt",
            extension="txt",
            text=TICKETS[i % len(TICKETS)],
            split_ids=[split.pk],
        )
        if rng.random() < 0.8:
            label = labels[i % len(TICKETS) % len(labels)]
            label_services.annotation_create(
                version=version,
                user=colleague,
                label_id=label.pk,
                item_id=item.pk,
                split_id=split.pk,
            )
    dataset_share(dataset=tickets, identifier="demo", role=Role.ANNOTATOR)
    signs = label_services.dataset_create(
        owner=colleague,
        name="Street signs",
        description="Dash-cam frames with traffic signs.",
        default_splits=True,
    )
    dataset_share(dataset=signs, identifier="demo", role=Role.VIEWER)


def matrix_numbers(page: Page) -> dict:
    """{(row, split_id, kind): int} of the version page's matrix."""
    cells = page.locator("#matrix tr[data-row] [data-split-id][data-kind]")
    numbers = {}
    for cell in cells.all():
        kind = cell.get_attribute("data-kind")
        if kind == "share":
            continue
        row = cell.locator("xpath=ancestor::tr[1]").get_attribute("data-row")
        text = cell.inner_text().strip().replace(",", "")
        numbers[(row, cell.get_attribute("data-split-id"), kind)] = (
            None if text == "—" else int(text)
        )
    return numbers


def shown_item_ids(page: Page) -> set[str]:
    """Every item id the item browser shows, following its pages."""
    ids = set()
    while True:
        ids |= {li.get_attribute("data-item-id") for li in page.locator("#items > li").all()}
        next_page = page.get_by_role("link", name="Next →")
        if not next_page.count():
            return ids
        follow(page, next_page)


def api_item_ids(api, base: str, **params) -> set[str]:
    response = api.get(f"{base}/items", params={**params, "pageSize": 1000})
    assert response.ok
    return {row["id"] for row in response.json()}


def test_walk_from_sign_in_to_items_with_the_apis_numbers(page, api):
    page.goto("/login/")
    shoot(page, "login")
    sign_in(page)
    shoot(page, "datasets")

    follow(page, page.get_by_role("link", name="Pets (demo)"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Pets (demo)")
    shoot(page, "version")
    dataset_id, version_id = page.url.rstrip("/").split("/")[-3::2]
    base = f"/api/v1/datasets/{dataset_id}/versions/{version_id}"
    splits = api.get(f"{base}/splits").json()
    labels = {label["id"]: label for label in api.get(f"{base}/labels").json()}
    assert len(splits) == 3 and len(labels) == 4

    # Every number of the matrix is the API's.
    shown = matrix_numbers(page)
    for split in splits:
        for row in api.get(f"{base}/labels/splits/{split['id']}").json():
            key = row["label_id"] or "unlabelled"
            assert shown[(key, split["id"], "items")] == row["item_count"]
            expected = None if key == "unlabelled" else row["annotation_count"]
            assert shown[(key, split["id"], "annotations")] == expected
        total = api.get(f"{base}/labels/stats/splits/{split['id']}").json()
        assert shown[("total", split["id"], "items")] == total["item_count"]
        assert shown[("total", split["id"], "annotations")] == total["annotation_count"]
    # The chart has a bar a label and split, in the label's colour, with a title.
    train = splits[0]
    for label in labels.values():
        bar = page.locator(f'rect[data-split="train"][data-label="{label["name"]}"]')
        expect(bar).to_have_attribute("fill", label["color"])
        expect(bar.locator("title")).to_contain_text(f"train, {label['name']}:")

    # The CSV download is the API's CSV.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    csv_page = Path(download.value.path()).read_bytes()
    assert csv_page == api.get(f"{base}/labels/stats.csv").body()

    follow(page, page.locator(f'a.tile[data-split-id="{train["id"]}"]'))
    expect(page.get_by_role("heading", level=1)).to_have_text("train")
    shoot(page, "split")
    stats = {
        row["label_id"] or "unlabelled": row
        for row in api.get(f"{base}/labels/splits/{train['id']}").json()
    }
    total = api.get(f"{base}/labels/stats/splits/{train['id']}").json()
    expect(page.locator('[data-total="items"]')).to_have_text(str(total["item_count"]))
    expect(page.locator('[data-total="annotations"]')).to_have_text(str(total["annotation_count"]))
    for key, row in stats.items():
        li = page.locator(f'#label-bars li[data-label-id="{key}"]')
        expect(li.locator('[data-count="items"]')).to_have_text(str(row["item_count"]))
        if key != "unlabelled":
            expect(li.locator('[data-count="annotations"]')).to_have_text(
                str(row["annotation_count"])
            )

    # A label's row lists exactly its items, each wearing the label's chip.
    cat = next(label for label in labels.values() if label["name"] == "cat")
    follow(page, page.locator(f'#label-bars li[data-label-id="{cat["id"]}"] a'))
    expect(page.locator("#result-count")).to_contain_text(f"{stats[cat['id']]['item_count']} item")
    shoot(page, "label-items")
    for card in page.locator("#items > li").all():
        expect(card.locator(f'.chip[data-label-id="{cat["id"]}"]')).to_be_visible()
    expected = api_item_ids(api, base, splitId=train["id"], labelId=cat["id"])
    assert len(expected) == stats[cat["id"]]["item_count"]
    assert shown_item_ids(page) == expected

    page.go_back()
    page.wait_for_load_state("load")
    follow(page, page.locator('#label-bars li[data-label-id="unlabelled"] a'))
    expected = api_item_ids(api, base, splitId=train["id"], onlyUnlabelled="true")
    assert len(expected) == stats["unlabelled"]["item_count"] > 0
    assert shown_item_ids(page) == expected
    expect(page.locator('#items .chip[data-label-id="unlabelled"]')).to_have_count(len(expected))

    # The item page, and the way back to the filtered list.
    first = page.locator("#items > li").first
    item_id = first.get_attribute("data-item-id")
    follow(page, first.get_by_role("link"))
    expect(page.locator(f'#item-splits [data-split-id="{train["id"]}"]')).to_contain_text(
        "Unlabelled in this split"
    )
    follow(page, page.get_by_role("link", name="← Back to the items"))
    assert "onlyUnlabelled=true" in page.url
    assert item_id in {li.get_attribute("data-item-id") for li in page.locator("#items > li").all()}


def test_text_dataset_pages_keyboard_and_a_narrow_window(page, demo):
    sign_in(page)
    # The search box, by keyboard only.
    page.get_by_label("Search datasets by name").fill("ticket")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#datasets tbody tr")).to_have_count(1)
    follow(page, page.get_by_role("link", name="Support tickets"))

    # The skip link is the first stop of the keyboard and moves focus to the content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0  # shown when focused
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    follow(page, page.get_by_role("link", name="Browse items"))
    page.get_by_label("Label", exact=True).select_option(label="bug")
    page.get_by_label("Split", exact=True).select_option(label="train")
    follow(page, page.get_by_role("button", name="Apply"))
    cards = page.locator("#items > li")
    expect(cards.first).to_be_visible()
    for card in cards.all():
        expect(card.locator(".chip", has_text="bug")).to_be_visible()
        expect(card.locator(".tag", has_text="train")).to_be_visible()
    expect(cards.first.locator(".item-card__snippet")).to_contain_text("export button")
    shoot(page, "item-browser")
    follow(page, cards.first.get_by_role("link"))
    expect(page.get_by_role("heading", name="Text")).to_be_visible()
    shoot(page, "item")

    # A narrow window: no sideways scrolling of the page itself (the matrix scrolls alone).
    follow(page, page.get_by_role("link", name="v1", exact=True))
    page.set_viewport_size(NARROW)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], width
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    shoot(page, "version-narrow")
    follow(page, page.locator("a.tile").first)
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    shoot(page, "split-narrow")
    follow(page, page.get_by_role("link", name="Datasets", exact=True).first)
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    expect(page.locator("#datasets tbody tr")).to_have_count(3)
    shoot(page, "datasets-narrow")
