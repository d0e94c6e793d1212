"""The annotator pages: access rules, numbers equal to the persisted statistics, filters,
CSV export (page and API) and a fixed number of queries whatever the number of rows."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labels.models import Label, LabelStat
from seeme.models import Role
from tests.conftest import client_for
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    ItemFactory,
    LabelFactory,
    SplitFactory,
    UserFactory,
    VersionFactory,
    share,
)
from tests.pages.helpers import as_int, build_world, matrix_cells, page_client, stat_numbers

PAGES = ["dataset", "version", "split", "items", "item", "csv"]


def urls(world) -> dict[str, str]:
    ids = {"dataset_id": world.dataset.pk, "version_id": world.version.pk}
    return {
        "dataset": reverse("seeme:dataset-detail", kwargs={"dataset_id": world.dataset.pk}),
        "version": reverse("seeme:version-detail", kwargs=ids),
        "split": reverse(
            "splits:split-detail", kwargs={**ids, "split_id": world.splits["train"].pk}
        ),
        "items": reverse("seeme:item-list", kwargs=ids),
        "item": reverse("seeme:item-detail", kwargs={**ids, "item_id": world.items["b.jpg"].pk}),
        "csv": reverse("labels:stats-csv", kwargs=ids),
    }


def api_csv_url(world) -> str:
    return reverse(
        "label-stats-csv", kwargs={"dataset_id": world.dataset.pk, "version_id": world.version.pk}
    )


# -- access -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["datasets", *PAGES])
def test_anonymous_is_sent_to_the_login_page(world, page):
    url = reverse("seeme:dataset-list") if page == "datasets" else urls(world)[page]
    response = page_client(None).get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", Role.EDITOR, Role.ANNOTATOR, Role.VIEWER])
def test_owner_and_every_share_role_see_every_page(world, other_user, role):
    viewer = world.dataset.owner if role == "owner" else other_user
    if role != "owner":
        share(world.dataset, other_user, role)
    client = page_client(viewer)
    for page, url in urls(world).items():
        response = client.get(url)
        expected = 302 if page == "dataset" else 200
        assert response.status_code == expected, (page, response.status_code)
    listing = client.get(reverse("seeme:dataset-list")).content.decode()
    assert world.dataset.name in listing
    assert f'badge--{role}">{role}<' in listing


@pytest.mark.django_db
def test_a_stranger_gets_404_everywhere_and_an_empty_list(world, other_user):
    client = page_client(other_user)
    for page, url in urls(world).items():
        assert client.get(url).status_code == 404, page
    listing = client.get(reverse("seeme:dataset-list"))
    assert listing.status_code == 200
    assert world.dataset.name not in listing.content.decode()
    assert "No datasets yet" in listing.content.decode()


@pytest.mark.django_db
def test_ids_of_another_parent_are_404(world, user):
    other = build_world(user, name="other")
    client = page_client(user)
    mine = {"dataset_id": world.dataset.pk, "version_id": world.version.pk}
    crossed = [
        reverse(
            "seeme:version-detail",
            kwargs={"dataset_id": other.dataset.pk, "version_id": world.version.pk},
        ),
        reverse("splits:split-detail", kwargs={**mine, "split_id": other.splits["train"].pk}),
        reverse("seeme:item-detail", kwargs={**mine, "item_id": other.items["a.jpg"].pk}),
        reverse(
            "labels:stats-csv",
            kwargs={"dataset_id": other.dataset.pk, "version_id": world.version.pk},
        ),
    ]
    for url in crossed:
        assert client.get(url).status_code == 404, url
    base = urls(world)["version"]
    assert client.get(base.replace(str(world.version.pk), "not-a-uuid")).status_code == 404


@pytest.mark.django_db
def test_pages_only_answer_reads(world, user):
    client = page_client(user)
    for page, url in urls(world).items():
        assert client.post(url).status_code == 405, page


@pytest.mark.django_db
def test_an_expired_form_gets_a_page_of_the_site(user):
    from tests.factories import PASSWORD

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 403
    assert b"Please try again" in response.content and b"css/seeme.css" in response.content


@pytest.mark.django_db
def test_a_404_page_looks_like_the_site(world, other_user):
    response = page_client(other_user).get(urls(world)["version"])
    body = response.content.decode()
    assert response.status_code == 404
    assert "css/seeme.css" in body and "Not found" in body
    assert world.dataset.name not in body


# -- sign in / out ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_and_out(user):
    from tests.factories import PASSWORD

    client = page_client(None)
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'name="password"' in page.content
    wrong = client.post(reverse("login"), {"username": user.username, "password": "nope"})
    assert wrong.status_code == 200
    assert b"enter a correct username and password" in wrong.content
    signed_in = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert signed_in["Location"] == reverse("seeme:dataset-list")
    home = client.get(reverse("seeme:dataset-list"))
    assert home.status_code == 200 and user.username in home.content.decode()
    assert client.get(reverse("logout")).status_code == 405  # Django 5: POST only
    signed_out = client.post(reverse("logout"), follow=True)
    assert signed_out.redirect_chain[-1][0] == reverse("login")
    assert b"You are signed out." in signed_out.content
    assert client.get(reverse("seeme:dataset-list")).status_code == 302


@pytest.mark.django_db
def test_the_demo_login_works_on_the_login_page(settings):
    from django.core.management import call_command

    call_command("seed_demo", items=4, stdout=io.StringIO())
    client = page_client(None)
    response = client.post(
        reverse("login"), {"username": "demo", "password": "demo-password"}, follow=True
    )
    assert response.status_code == 200
    assert b"Pets (demo)" in response.content
    settings.DEBUG = True
    assert b"demo-password" in page_client(None).get(reverse("login")).content
    settings.DEBUG = False
    assert b"demo-password" not in page_client(None).get(reverse("login")).content


# -- datasets ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_datasets_page_lists_counts_newest_first_and_searches(world, user, other_user):
    older = world.dataset
    newer = DatasetFactory(owner=other_user, name="birds of prey")
    share(newer, user, Role.ANNOTATOR)
    LabelFactory(version=newer.versions.get(), name="hawk")
    DatasetFactory(owner=other_user, name="not shared")
    client = page_client(user)
    body = client.get(reverse("seeme:dataset-list")).content.decode()
    assert body.index("birds of prey") < body.index(older.name)
    assert "not shared" not in body
    rows = re.findall(r'<tr data-dataset-id="([^"]+)">(.*?)</tr>', body, re.S)
    counts = {
        dataset_id: (
            re.search(r'data-count="items">([^<]*)<', row).group(1),
            re.search(r'data-count="labels">([^<]*)<', row).group(1),
        )
        for dataset_id, row in rows
    }
    assert counts == {str(newer.pk): ("0", "1"), str(older.pk): ("4", "2")}
    found = client.get(reverse("seeme:dataset-list"), {"q": "BIRDS"}).content.decode()
    assert "birds of prey" in found and older.name not in found
    nothing = client.get(reverse("seeme:dataset-list"), {"q": "zebra"}).content.decode()
    assert "No dataset matches" in nothing


@pytest.mark.django_db
def test_dataset_address_redirects_to_its_latest_version(world, user):
    latest = VersionFactory(dataset=world.dataset, name="v2")
    response = page_client(user).get(urls(world)["dataset"])
    assert response["Location"] == reverse(
        "seeme:version-detail", kwargs={"dataset_id": world.dataset.pk, "version_id": latest.pk}
    )


# -- version page -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_version_matrix_shows_the_persisted_statistics(world, user):
    body = page_client(user).get(urls(world)["version"]).content.decode()
    cells = matrix_cells(body)
    stored = stat_numbers(world.version)
    assert len(stored) == 3 * (2 + 2)  # three splits x (two labels, unlabelled, total)
    for (row, split_id), (items, annotations) in stored.items():
        assert as_int(cells[(row, split_id, "items")]) == items, (row, split_id)
        if row != "unlabelled":
            assert as_int(cells[(row, split_id, "annotations")]) == annotations
    train = str(world.splits["train"].pk)
    cat = str(world.labels["cat"].pk)
    # a and b have cat among the 3 items of train; b carries two cat annotations.
    assert cells[(cat, train, "items")] == "2"
    assert cells[(cat, train, "annotations")] == "3"
    assert cells[(cat, train, "share")] == "66.7%"
    assert cells[("unlabelled", train, "share")] == "33.3%"
    assert cells[("total", train, "share")] == "100.0%"
    empty_test = str(world.splits["test"].pk)
    assert cells[(cat, empty_test, "share")] == "—"


@pytest.mark.django_db
def test_version_page_does_not_recount(world, user):
    """The page shows the LabelStat rows as stored (a hand edit shows up as is)."""
    train = world.splits["train"]
    LabelStat.objects.filter(split=train, label=world.labels["dog"]).update(
        item_count=41, count=41, annotation_count=42
    )
    cells = matrix_cells(page_client(user).get(urls(world)["version"]).content.decode())
    dog = str(world.labels["dog"].pk)
    assert cells[(dog, str(train.pk), "items")] == "41"
    assert cells[(dog, str(train.pk), "annotations")] == "42"


@pytest.mark.django_db
def test_version_chart_legend_switch_and_links(world, user):
    v2 = VersionFactory(dataset=world.dataset, name="v2")
    body = page_client(user).get(urls(world)["version"]).content.decode()
    svg = body[body.index('<figure class="chart">') : body.index("</figure>")]
    assert '<title id="chart-title">' in svg
    assert 'fill="#4e79a7"' in svg and 'fill="#f28e2b"' in svg and "url(#hatch)" in svg
    assert "<title>train, cat: 2 items (66.7%), 3 annotations</title>" in svg
    assert "<title>train, unlabelled: 1 items (33.3%)</title>" in svg
    # three splits x (two labels + unlabelled) bars
    assert svg.count('role="listitem"') == 9
    legend = body[body.index('class="legend"') :]
    assert legend.index(">cat<") < legend.index(">dog<") < legend.index(">unlabelled<")
    ids = {"dataset_id": world.dataset.pk, "version_id": world.version.pk}
    assert f'href="{reverse("seeme:version-detail", kwargs={**ids, "version_id": v2.pk})}"' in body
    assert 'aria-current="page">v1<' in body
    assert f'href="{reverse("labels:stats-csv", kwargs=ids)}"' in body
    items = reverse("seeme:item-list", kwargs=ids)
    train = world.splits["train"].pk
    assert f"{items}?splitId={train}&amp;labelId={world.labels['cat'].pk}" in body
    assert f"{items}?splitId={train}&amp;onlyUnlabelled=true" in body


@pytest.mark.django_db
def test_label_colours_cannot_break_out_of_style_attributes(world, user):
    """The API validates colours; the page does not rely on it (admin, old rows)."""
    Label.objects.filter(pk=world.labels["cat"].pk).update(color='x;}"<b>')
    body = page_client(user).get(urls(world)["version"]).content.decode()
    assert "x;}" not in body
    assert 'style="--swatch: #6b7280"' in body


@pytest.mark.django_db
def test_a_version_without_splits_says_so(world, user):
    empty = VersionFactory(dataset=world.dataset, name="empty")
    url = reverse(
        "seeme:version-detail", kwargs={"dataset_id": world.dataset.pk, "version_id": empty.pk}
    )
    response = page_client(user).get(url)
    assert response.status_code == 200
    assert b"This version has no splits" in response.content


# -- split page -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_split_page_bars_show_both_counts_and_link_to_the_items(world, user):
    train = world.splits["train"]
    body = page_client(user).get(urls(world)["split"]).content.decode()
    items_url = reverse(
        "seeme:item-list", kwargs={"dataset_id": world.dataset.pk, "version_id": world.version.pk}
    )
    rows = dict(
        re.findall(
            r'<li (?:class="bars__unlabelled" )?data-label-id="([^"]+)">(.*?)</li>', body, re.S
        )
    )
    for stat in LabelStat.objects.filter(split=train).exclude(kind=LabelStat.Kind.TOTAL):
        key = str(stat.label_id) if stat.label_id else "unlabelled"
        row = rows[key]
        assert re.search(r'data-count="items">(\d+)<', row).group(1) == str(stat.item_count)
        if stat.label_id:
            shown = re.search(r'data-count="annotations">(\d+)<', row).group(1)
            assert shown == str(stat.annotation_count)
            assert f'href="{items_url}?splitId={train.pk}&amp;labelId={stat.label_id}"' in row
        else:
            assert f'href="{items_url}?splitId={train.pk}&amp;onlyUnlabelled=true"' in row
    total = LabelStat.objects.get(split=train, kind=LabelStat.Kind.TOTAL)
    assert f'data-total="items">{total.item_count}<' in body
    assert f'data-total="annotations">{total.annotation_count}<' in body
    assert "width: 66.67%" in rows[str(world.labels["cat"].pk)]


# -- item browser and item page ---------------------------------------------------------------


def shown_items(response) -> set[str]:
    return set(re.findall(r'<li data-item-id="([^"]+)">', response.content.decode()))


@pytest.mark.django_db
def test_item_browser_filters_like_the_api(world, user):
    client = page_client(user)
    url = urls(world)["items"]
    train, valid = world.splits["train"].pk, world.splits["valid"].pk
    cat, dog = world.labels["cat"].pk, world.labels["dog"].pk
    ids = {name: str(item.pk) for name, item in world.items.items()}
    api = client_for(user)
    api_url = reverse(
        "item-list", kwargs={"dataset_id": world.dataset.pk, "version_id": world.version.pk}
    )
    cases = [
        ({}, {"a.jpg", "b.jpg", "c.jpg", "d.jpg"}),
        ({"splitId": train, "labelId": cat}, {"a.jpg", "b.jpg"}),
        ({"splitId": train, "labelId": dog}, {"b.jpg"}),
        ({"splitId": valid, "labelId": dog}, {"d.jpg"}),
        ({"splitId": train, "onlyUnlabelled": "true"}, {"c.jpg"}),
        ({"onlyUnlabelled": "false"}, {"a.jpg", "b.jpg", "d.jpg"}),
        ({"name": "B.J"}, {"b.jpg"}),
    ]
    for params, expected in cases:
        assert shown_items(client.get(url, params)) == {ids[n] for n in expected}, params
        from_api = {row["id"] for row in api.get(api_url, {**params, "pageSize": 100}).json()}
        assert from_api == {ids[n] for n in expected}, params


@pytest.mark.django_db
def test_item_browser_cards_have_snippets_chips_and_splits(world, user):
    url = urls(world)["items"]
    body = page_client(user).get(url, {"splitId": world.splits["train"].pk}).content.decode()
    card = re.search(
        rf'data-item-id="{world.items["b.jpg"].pk}">(.*?)</article>', body, re.S
    ).group(1)
    assert "The text of b.jpg" in card
    assert f'data-label-id="{world.labels["cat"].pk}">cat <span class="chip__count">×2' in card
    assert f'data-label-id="{world.labels["dog"].pk}">dog' in card
    assert '<span class="tag" title="Split">train</span>' in card
    bare = re.search(rf'data-item-id="{world.items["c.jpg"].pk}">(.*?)</article>', body, re.S)
    assert 'data-label-id="unlabelled"' in bare.group(1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"splitId": "nope"},
        {"labelId": "1"},
        {"onlyUnlabelled": "maybe"},
        {"page": "x"},
        {"page": "99999"},
        {"name": "\x00"},
    ],
)
def test_item_browser_never_fails_on_bad_input(world, user, params):
    response = page_client(user).get(urls(world)["items"], params)
    if any("\x00" in value for value in params.values()):
        # Refused before the view (seeme.middleware): a 400 page that names the character.
        assert response.status_code == 400 and b"NUL character" in response.content
        return
    assert response.status_code == 200
    if set(params) & {"splitId", "labelId", "onlyUnlabelled"}:
        assert b"These filters are not valid" in response.content
        assert shown_items(response) == set()


@pytest.mark.django_db
def test_item_browser_paginates(world, user):
    for n in range(30):
        ItemFactory(dataset_version=world.version, name=f"extra-{n:02d}")
    client = page_client(user)
    first = client.get(urls(world)["items"], {"name": "extra"})
    second = client.get(urls(world)["items"], {"name": "extra", "page": 2})
    assert len(shown_items(first)) == 24 and len(shown_items(second)) == 6
    assert not shown_items(first) & shown_items(second)
    assert b"Page 1 of 2" in first.content
    # Next is a keyset link (labels.views.paging); ?page=2 (old links) still works.
    next_link = re.search(r'href="\?([^"]+)" rel="next"', first.content.decode()).group(1)
    assert next_link.startswith("name=extra&amp;after=")
    following = client.get(urls(world)["items"] + "?" + next_link.replace("&amp;", "&"))
    assert shown_items(following) == shown_items(second)


@pytest.mark.django_db
def test_item_browser_counts_exactly_only_up_to_a_bound(world, user, monkeypatch):
    """Past the bound the page never counts the whole version: the unfiltered list takes
    its size from the split totals (about), a filtered one says "more than" the bound."""
    client = page_client(user)
    exact = client.get(urls(world)["items"])
    assert re.search(r"<strong>4</strong> items", exact.content.decode())
    monkeypatch.setattr("labels.selectors.counts.EXACT_COUNT_LIMIT", 2)
    ItemFactory(dataset_version=world.version, name="e.jpg", splits=[world.splits["train"]])
    with CaptureQueriesContext(connection) as queries:
        about = client.get(urls(world)["items"]).content.decode()
    assert re.search(r"about <strong>5</strong> items", about)  # 4 in train + 1 in valid
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 3" in sql for sql in counts), counts  # bounded: 2 + 1
    more = client.get(urls(world)["items"], {"name": "jpg"}).content.decode()
    assert re.search(r"more than <strong>2</strong> items", more)


@pytest.mark.django_db
def test_item_page_shows_splits_and_annotations(world, user):
    url = urls(world)["item"] + f"?splitId={world.splits['train'].pk}&evil=1"
    body = page_client(user).get(url).content.decode()
    assert "<h1>b.jpg</h1>" in body
    assert "The text of b.jpg" in body
    section = body[body.index(f'data-split-id="{world.splits["train"].pk}"') :]
    assert section.count(f'data-label-id="{world.labels["cat"].pk}"') == 2
    assert section.count(f'data-label-id="{world.labels["dog"].pk}"') == 1
    assert "<code>[1, 2, 3, 4]</code>" in section and "whole item" in section
    assert f'items/?splitId={world.splits["train"].pk}"' in body  # back to the filtered list
    assert "evil" not in body


# -- CSV --------------------------------------------------------------------------------------


def parse_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


@pytest.mark.django_db
def test_csv_download_is_the_matrix(world, user):
    response = page_client(user).get(urls(world)["csv"])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="pets-v1-label-stats.csv"'
    rows = parse_csv(response.content)
    assert rows[0] == [
        "split",
        "split_id",
        "row",
        "label",
        "label_id",
        "label_index",
        "item_count",
        "annotation_count",
        "share_of_split_items_percent",
    ]
    body = rows[1:]
    assert len(body) == 3 * 4
    assert [r[0] for r in body[:4]] == ["train"] * 4
    assert [r[2] for r in body[:4]] == ["label", "label", "unlabelled", "total"]
    assert body[0] == [
        "train",
        str(world.splits["train"].pk),
        "label",
        "cat",
        str(world.labels["cat"].pk),
        "0",
        "2",
        "3",
        "66.67",
    ]
    assert body[3][5:] == ["", "3", "4", "100.00"]
    stored = stat_numbers(world.version)
    for row in body:
        key = row[4] or row[2]
        assert (int(row[6]), int(row[7])) == stored[(key, row[1])]
    assert body[-1][0] == "test" and body[-1][8] == ""  # an empty split has no shares


@pytest.mark.django_db
def test_api_csv_equals_the_page_csv(world, user, other_user):
    page = page_client(user).get(urls(world)["csv"])
    api = client_for(user).get(api_csv_url(world))
    assert api.status_code == 200
    assert api["Content-Type"] == "text/csv; charset=utf-8"
    assert api.content == page.content
    asked = client_for(user).get(api_csv_url(world), HTTP_ACCEPT="text/csv")
    assert asked.status_code == 200 and asked.content == page.content
    share(world.dataset, other_user, Role.VIEWER)
    assert client_for(other_user).get(api_csv_url(world)).content == page.content


@pytest.mark.django_db
def test_api_csv_errors(world, user, other_user, anon):
    stranger = client_for(other_user).get(api_csv_url(world))
    assert stranger.status_code == 404 and stranger.json() == {"message": "Not found."}
    assert anon.get(api_csv_url(world)).status_code == 401
    bad = reverse(
        "label-stats-csv", kwargs={"dataset_id": world.dataset.pk, "version_id": "not-a-uuid"}
    )
    assert client_for(user).get(bad).status_code == 404
    as_csv = client_for(other_user).get(api_csv_url(world), HTTP_ACCEPT="text/csv")
    assert as_csv.status_code == 404 and as_csv.content == b"message\r\nNot found.\r\n"


@pytest.mark.django_db
def test_csv_quotes_names_a_spreadsheet_would_run(world, user):
    LabelFactory(version=world.version, name="=HYPERLINK(1)")
    rows = parse_csv(page_client(user).get(urls(world)["csv"]).content)
    assert "'=HYPERLINK(1)" in [r[3] for r in rows]
    assert "=HYPERLINK(1)" not in [r[3] for r in rows]


# -- query counts -----------------------------------------------------------------------------


def sized_world(owner, n: int):
    """A world with n labels, n extra splits, n items per split (all annotated but one), n
    versions and n datasets: every page has n-ish rows."""
    world = build_world(owner)
    for i in range(n):
        SplitFactory(version=world.version, name=f"extra-{i}")
        LabelFactory(version=world.version, name=f"label-{i}")
        VersionFactory(dataset=world.dataset, name=f"old-{i}")
        DatasetFactory(owner=owner, name=f"more-{i}")
    splits = list(world.version.splits.all())
    labels = list(world.version.labels.all())
    for split in splits:
        for i in range(n):
            item = ItemFactory(dataset_version=world.version, splits=[split], text="x" * 300)
            if i:
                AnnotationFactory(item=item, split=split, label=labels[i % len(labels)])
    return world


# Session and user: 2; then the page's own queries.
EXPECTED_QUERIES = {
    "datasets": 2 + 2,  # count, page
    "version": 2 + 5,  # version, versions, splits, labels, stats
    "split": 2 + 4,  # version, splits, total row, stat rows
    # version, splits, labels, count, page, annotations, memberships, item states
    "items": 2 + 8,
    # version, item, splits, labels, memberships, annotations, item state, previous, next,
    # next unlabelled, the labelled split's stat rows
    "item": 2 + 11,
    "csv": 2 + 4,  # version, splits, labels, stats
}


@pytest.mark.django_db
@pytest.mark.parametrize("n", [1, 5])
def test_each_page_runs_a_fixed_number_of_queries(user, django_assert_num_queries, n):
    """Same counts with 1 and with 5 extra labels, splits, versions, datasets and items a
    split: no query per row."""
    world = sized_world(user, n)
    client = page_client(user)
    for page, expected in EXPECTED_QUERIES.items():
        url = reverse("seeme:dataset-list") if page == "datasets" else urls(world)[page]
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert response.status_code == 200, page
    api = client_for(user)
    api.get(api_csv_url(world))  # a key's first use writes last_used_at; later ones do not
    with django_assert_num_queries(5):  # key, version, splits, labels, stats
        response = api.get(api_csv_url(world))
    assert len(parse_csv(response.content)) == 1 + (3 + n) * (2 + n + 2)


def test_superusers_see_every_dataset(db, world):
    root = UserFactory(is_staff=True, is_superuser=True)
    response = page_client(root).get(urls(world)["version"])
    assert response.status_code == 200
    assert b'class="badge badge--superuser"' in response.content


@pytest.mark.parametrize("page", PAGES)
def test_staff_status_alone_opens_no_dataset_page(db, world, page):
    staff = UserFactory(is_staff=True)
    assert page_client(staff).get(urls(world)[page]).status_code == 404
    listing = page_client(staff).get(reverse("seeme:dataset-list"))
    assert world.dataset.name.encode() not in listing.content
