"""Issue 13's visual and access fixes that a page test can see: numbers with thousands
separators and aria-labels that match them, the health page's readable findings, severity
and threshold form."""

import re

from django.urls import reverse

from labels.services import NewItem, items_bulk_create
from tests.factories import ItemFactory
from tests.pages.helpers import page_client


def ids(world):
    return {"dataset_id": world.dataset.pk, "version_id": world.version.pk}


def test_big_counts_have_separators_and_matching_aria_labels(world, user):
    train, cat = world.splits["train"], world.labels["cat"]
    items_bulk_create(
        version=world.version,
        user=None,
        items=[
            NewItem(name=f"bulk-{i}", split_ids=(train.pk,), annotations=((train.pk, cat.pk, ""),))
            for i in range(1234)
        ],
    )
    html = page_client(user).get(reverse("seeme:version-detail", kwargs=ids(world))).content
    html = html.decode()
    links = re.findall(r'<a href="[^"]*" aria-label="([^"]*)">([^<]*)</a>', html)
    assert links
    for name, visible in links:
        assert visible in name, (name, visible)  # axe: label-content-name-mismatch
    assert ("1,236 items labelled cat in train", "1,236") in links
    assert ("All 1,237 items in train", "1,237") in links
    assert "1236" not in html and "1237" not in html


def test_health_page_names_findings_shows_severity_and_takes_thresholds(world, user):
    valid = world.splits["valid"]
    ItemFactory(dataset_version=world.version, name="loose", splits=[valid])
    url = reverse("tools:version-health", kwargs=ids(world))
    client = page_client(user)
    page = client.get(url).content.decode()
    assert "Label missing from a split" in page
    table = page[page.index('id="findings"') :]
    names = re.findall(r'<th scope="row">([^<]*)</th>', table)
    assert names and all(" " in n and "_" not in n for n in names), names  # no raw codes
    assert 'class="tag severity severity--warning">Warning<' in page
    assert 'id="id_share_threshold"' in page and "Apply thresholds" in page
    # a loose threshold makes the share-gap findings go away, through the form's GET
    strict = client.get(url, {"share_threshold": "0"}).context["report"]
    loose = client.get(url, {"share_threshold": "1"}).context["report"]
    kinds = lambda report: [f.kind for f in report.findings]  # noqa: E731
    assert "share_imbalance" in kinds(strict)
    assert "share_imbalance" not in kinds(loose)
    bad = client.get(url, {"share_threshold": "7"}).content.decode()
    assert 'aria-invalid="true"' in bad and "not valid" in bad


def test_admin_statistics_show_separators(world):
    from tests.factories import UserFactory

    train, cat = world.splits["train"], world.labels["cat"]
    items_bulk_create(
        version=world.version,
        user=None,
        items=[
            NewItem(name=f"n-{i}", split_ids=(train.pk,), annotations=((train.pk, cat.pk, ""),))
            for i in range(1000)
        ],
    )
    staff = page_client(UserFactory(is_staff=True, is_superuser=True))
    html = staff.get("/admin/labels/labelstat/").content.decode()
    assert '<td class="field-items">1,002</td>' in html  # cat in train: a, b and the new ones
    assert "1002" not in html
