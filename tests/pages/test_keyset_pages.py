"""The item browser's keyset pages (labels.views.paging): Next / Previous / First / Last
walk the whole list in its order with no row twice, old ``?page=N`` links still work, a bad
cursor is a form error, and a deep page runs the queries of the first page whatever the
number of items."""

import base64
import json
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labels.views import paging
from labels.views.walk import item_url
from seeme.models import Item
from tests.factories import ItemFactory
from tests.pages.helpers import page_client

pytestmark = pytest.mark.django_db


def browser(world) -> str:
    return reverse(
        "seeme:item-list", kwargs={"dataset_id": world.dataset.pk, "version_id": world.version.pk}
    )


def shown(response) -> list[str]:
    return re.findall(r'<li data-item-id="([^"]+)">', response.content.decode())


def link(response, rel: str) -> str | None:
    found = re.search(rf'href="(\?[^"]*)" rel="{rel}"', response.content.decode())
    return found.group(1).replace("&amp;", "&") if found else None


def last_link(response) -> str | None:
    found = re.search(r'href="(\?[^"]*)">Last »</a>', response.content.decode())
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(paging, "PER_PAGE", 3)


def expected(world, order: list[str]) -> list[str]:
    rows = Item.objects.filter(dataset_version=world.version).order_by(*order)
    return [str(pk) for pk in rows.values_list("pk", flat=True)]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("created", ["created_at", "id"]),
        ("-created", ["-created_at", "-id"]),
        ("name", ["name", "id"]),
        ("-name", ["-name", "-id"]),
    ],
)
def test_next_walks_every_item_once_in_order_and_previous_walks_back(
    world, user, small_pages, sort, order
):
    for n in range(8):
        ItemFactory(dataset_version=world.version, name=f"same-{n % 3}.jpg")  # ties on name
    client = page_client(user)
    url = browser(world)
    pages = [shown(client.get(url, {"sort": sort}))]
    response = client.get(url, {"sort": sort})
    while (next_query := link(response, "next")) is not None:
        response = client.get(url + next_query)
        assert response.status_code == 200
        pages.append(shown(response))
        assert len(pages) < 10
    walked = [pk for page in pages for pk in page]
    assert walked == expected(world, order)  # 12 items: all, in order, none twice
    assert [len(p) for p in pages] == [3, 3, 3, 3]
    assert link(response, "next") is None and last_link(response) is None
    back = []
    while (previous := link(response, "prev")) is not None:
        response = client.get(url + previous)
        back.append(shown(response))
    assert back == pages[-2::-1]
    assert link(response, "first") is None  # back on the first page


def test_last_page_and_old_page_numbers(world, user, small_pages):
    ItemFactory.create_batch(6, dataset_version=world.version)  # 10 items: 4 pages of 3
    client = page_client(user)
    url = browser(world)
    everything = expected(world, ["created_at", "id"])
    first = client.get(url)
    last = client.get(url + last_link(first))
    assert shown(last) == everything[-3:] and b"Last page" in last.content
    assert shown(client.get(url, {"page": "2"})) == everything[3:6]  # an old link
    assert shown(client.get(url, {"page": "4"})) == everything[9:]
    assert shown(client.get(url, {"page": "99"})) == everything[-3:]  # past the end
    assert shown(client.get(url, {"page": "nope"})) == everything[:3]
    previous = client.get(url + link(last, "prev"))
    assert shown(previous) == everything[4:7]  # the three before the last page's first


def encoded(value: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "nope",
        "eyJ4IjoxfQ",
        "W10",
        "!!!",
        "a" * 300,
        encoded(["created", "2026-01-01T00:00:00+99:00", str(uuid.uuid4())]),
        encoded(["created", 5, str(uuid.uuid4())]),
        encoded(["name", "a\u0000b", str(uuid.uuid4())]),
        encoded(["name", "\ud800", str(uuid.uuid4())]),
        encoded(["name", "a", "not an id"]),
        encoded(["no such sort", "a", str(uuid.uuid4())]),
    ],
)
@pytest.mark.parametrize("direction", ["after", "before"])
def test_a_bad_cursor_is_a_form_error_and_the_first_page(world, user, cursor, direction):
    sort = "name" if "name" in base64.urlsafe_b64decode(cursor + "==").decode("latin-1") else ""
    response = page_client(user).get(
        browser(world), {direction: cursor, **({"sort": sort} if sort else {})}
    )
    assert response.status_code == 200
    assert response.status_code == 200
    assert re.search(rb"This page link (is not valid|belongs to another sort)", response.content)
    assert shown(response) == expected(world, ["name", "id"] if sort else ["created_at", "id"])


def test_a_cursor_of_another_sort_is_refused(world, user, small_pages):
    ItemFactory.create_batch(3, dataset_version=world.version)
    client = page_client(user)
    by_name = client.get(browser(world), {"sort": "name"})
    cursor = re.search(r"after=([^&\"]+)", link(by_name, "next")).group(1)
    response = client.get(browser(world), {"sort": "created", "after": cursor})
    assert b"another sort" in response.content


def test_item_links_drop_the_page_position(world):
    url = item_url(world.version, world.items["a.jpg"].pk, "sort=name&after=abc&before=x&page=2")
    assert url.endswith("?sort=name")


@pytest.mark.parametrize("params", [{}, {"name": "item"}, {"sort": "-name"}])
def test_deep_pages_cost_what_the_first_page_costs_whatever_the_items(
    world, user, small_pages, params
):
    client = page_client(user)
    url = browser(world)

    def counted(query: dict) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, query)
        assert response.status_code == 200
        return len(queries)

    def deep_and_last() -> list[int]:
        first = client.get(url, params)
        second = client.get(url + link(first, "next"))
        third = client.get(url + link(second, "next"))
        assert shown(third)
        return [
            counted(params),
            counted(dict(params, after=re.search(r"after=([^&]+)", link(second, "next"))[1])),
            counted(dict(params, page="last")),
            counted(dict(params, before=re.search(r"before=([^&]+)", link(third, "prev"))[1])),
        ]

    ItemFactory.create_batch(9, dataset_version=world.version)  # 13 items
    few = deep_and_last()
    ItemFactory.create_batch(30, dataset_version=world.version)  # 43 items
    many = deep_and_last()
    assert few == many
    assert len(set(few)) == 1, few  # a deep page, the last one and the first: same queries


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_the_name_filter_can_use_the_version_trigram_index(world):
    # The filter's SQL (UPPER(name::text) LIKE ...) must be the index's expression; on a
    # tiny table only disabled sequential and index scans show that the index can answer it
    # (a bitmap scan needs an index condition).
    rows = Item.objects.filter(dataset_version=world.version, name__icontains="b.jp")
    sql, params = Item.objects.filter(name__icontains="b.jp").order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")  # a whole-index walk is no answer
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "item_version_name_trigram" in plan, plan
    assert [i.name for i in rows] == ["b.jpg"]
