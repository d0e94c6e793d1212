"""The big change lists page by keyset (seeme.admin_site.keyset): next / previous / first /
last walk every row once in the list's order, a deep page runs the queries of the first,
filters by dataset and version still select exactly their rows, and the rows' wide text
columns are not read."""

import re

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labels.models import Annotation
from seeme.models import Item
from splits.models import ItemSplit
from tests.admin.conftest import admin_url, build_world
from tests.factories import AnnotationFactory, ItemFactory

KEYSET = [Item, Annotation, ItemSplit]


@pytest.fixture(params=[3, 100], ids=["past the count bound", "counted exactly"])
def small_pages(monkeypatch, request):
    """Two rows a page, counted exactly up to 3 rows (a few rows are past the bound) or up
    to 100 (sorted off the created_at index: ``sort_small_lists``)."""
    for model in KEYSET:
        monkeypatch.setattr(site._registry[model], "list_per_page", 2)
        monkeypatch.setattr(site._registry[model], "count_limit", request.param)
    return request.param


def grow(world, n: int) -> None:
    for _ in range(n):
        item = ItemFactory(dataset_version=world.version, splits=[world.train])
        AnnotationFactory(item=item, split=world.train, label=world.dog)


def rows(response) -> list[str]:
    return [str(obj.pk) for obj in response.context["cl"].result_list]


def href(response, rel: str) -> str | None:
    pattern = {"next": r'rel="next"', "prev": r'rel="prev"', "last": r'class="end"'}[rel]
    found = re.search(rf'<a href="(\?[^"]*)" {pattern}', response.content.decode())
    return found.group(1).replace("&amp;", "&") if found else None


def of_version(model, world) -> list[str]:
    path = "dataset_version" if model is Item else "split__version"
    ordered = model.objects.filter(**{path: world.version}).order_by("-created_at", "-id")
    return [str(pk) for pk in ordered.values_list("pk", flat=True)]


@pytest.mark.parametrize("model", KEYSET, ids=lambda m: m.__name__)
def test_next_and_previous_walk_every_row_once(manager, world, user, model, small_pages):
    grow(world, 4)
    build_world(user, tag="other")  # rows of another dataset stay out of the filtered list
    url = admin_url(model, "changelist")
    query = f"?dataset={world.dataset.pk}&version={world.version.pk}"
    response = manager.get(url + query)
    assert response.context["cl"].paginator.count_exact is (small_pages == 100)
    pages = [rows(response)]
    while (next_query := href(response, "next")) is not None:
        assert "dataset=" in next_query and "after=" in next_query
        response = manager.get(url + next_query)
        assert response.status_code == 200
        pages.append(rows(response))
        assert len(pages) < 10
    assert [pk for page in pages for pk in page] == of_version(model, world)
    back = []
    while (previous := href(response, "prev")) is not None:
        response = manager.get(url + previous)
        back.append(rows(response))
    assert back == pages[-2::-1]
    last = manager.get(url + href(manager.get(url + query), "last"))
    assert rows(last) == pages[-1] if len(pages[-1]) == 2 else of_version(model, world)[-2:]


@pytest.mark.parametrize("model", KEYSET, ids=lambda m: m.__name__)
def test_deep_pages_cost_what_the_first_costs_whatever_the_rows(
    manager, world, user, model, small_pages
):
    url = admin_url(model, "changelist")
    query = f"?dataset={world.dataset.pk}&version={world.version.pk}"

    def counts() -> list[int]:
        first = manager.get(url + query)
        second = manager.get(url + href(first, "next"))
        found = []
        for link in (query, href(second, "next"), href(first, "last"), href(second, "prev")):
            with CaptureQueriesContext(connection) as captured:
                assert manager.get(url + link).status_code == 200
            found.append(len(captured))
        return found

    grow(world, 5)
    few = counts()
    grow(world, 15)
    build_world(user, tag="more")
    many = counts()
    assert few == many
    assert len(set(few)) == 1, few


@pytest.mark.parametrize("model", KEYSET, ids=lambda m: m.__name__)
def test_a_bad_cursor_is_the_admins_bad_filter_answer(manager, world, model, small_pages):
    grow(world, 4)
    response = manager.get(admin_url(model, "changelist"), {"after": "not a cursor"})
    assert response.status_code == 302 and "e=1" in response["Location"]


@pytest.mark.parametrize("model", KEYSET, ids=lambda m: m.__name__)
def test_a_version_of_another_dataset_selects_nothing(manager, world, user, model):
    other = build_world(user, tag="b")
    response = manager.get(
        admin_url(model, "changelist"), {"dataset": world.dataset.pk, "version": other.version.pk}
    )
    assert response.status_code == 200 and rows(response) == []
    only = manager.get(admin_url(model, "changelist"), {"version": other.version.pk})
    assert rows(only) == of_version(model, other)


@pytest.mark.parametrize("model", KEYSET, ids=lambda m: m.__name__)
def test_the_list_does_not_read_item_texts(manager, world, model):
    with CaptureQueriesContext(connection) as captured:
        response = manager.get(admin_url(model, "changelist"))
    assert response.status_code == 200 and rows(response)
    selects = [q["sql"] for q in captured.captured_queries if "seeme_item" in q["sql"]]
    assert selects
    for sql in selects:
        assert '"seeme_item"."text"' not in sql and '"seeme_item"."description"' not in sql


def test_a_column_sort_keeps_numbered_pages(manager, world, small_pages):
    grow(world, 4)
    response = manager.get(admin_url(Item, "changelist"), {"o": "1"})
    assert response.status_code == 200
    assert response.context["cl"].keyset is False and href(response, "next") is None
