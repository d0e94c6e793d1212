"""The demo's pictures in a real browser (headless Chromium through Playwright): the item
browser shows decoded thumbnails in fixed boxes, the item page draws the region boxes over
the image, where the coordinates say."""

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from labels.models import Annotation
from seeme.models import Dataset
from tests.pages.test_browser import browser, follow, page, shoot, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server):
    call_command("seed_demo", items=30, stdout=io.StringIO())
    return Dataset.objects.get(name="Pets (demo)")


def test_item_browser_shows_thumbnails_and_the_item_page_the_boxes(page, demo):  # noqa: F811
    version = demo.versions.get()
    sign_in(page)
    ids = {"dataset_id": demo.pk, "version_id": version.pk}
    page.goto(reverse("seeme:item-list", kwargs=ids))
    thumbs = page.locator("#items img[src*='thumbnail=true']")
    expect(thumbs).to_have_count(24)  # one page
    first = thumbs.first
    expect(first).to_have_attribute("loading", "lazy")
    # Decoded, and in a square box reserved before it loaded (no layout shift).
    page.wait_for_function(
        "() => [...document.querySelectorAll('#items img')].slice(0, 4)"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    natural = first.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert max(natural) == 256
    box = first.bounding_box()
    assert box and abs(box["width"] - box["height"]) < 1.5
    shoot(page, "item-grid")

    region = (
        Annotation.objects.filter(split__version=version)
        .exclude(coordinates="")
        .select_related("label", "item")
        .first()
    )
    assert region is not None
    page.goto(reverse("seeme:item-detail", kwargs={**ids, "item_id": region.item_id}))
    image = page.locator("#item-file img")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('#item-file img').naturalWidth > 0")
    rect = page.locator(f"#item-file g.region[data-label-id='{region.label_id}'] rect").first
    expect(rect).to_be_visible()
    # Drawn in the label's colour, where the coordinates put it on the shown image.
    stroke = rect.evaluate("r => getComputedStyle(r).stroke")
    r, g, b = (int(region.label.color[i : i + 2], 16) for i in (1, 3, 5))
    assert stroke == f"rgb({r}, {g}, {b})"
    shown, drawn = image.bounding_box(), rect.bounding_box()
    x1, y1, x2, y2 = json.loads(region.coordinates)
    assert abs(drawn["x"] - (shown["x"] + x1 * shown["width"])) < 4
    assert abs(drawn["y"] - (shown["y"] + y1 * shown["height"])) < 4
    assert abs(drawn["width"] - (x2 - x1) * shown["width"]) < 6
    expect(page.locator(".item-media__tag", has_text=region.label.name).first).to_be_visible()
    shoot(page, "item-boxes")
