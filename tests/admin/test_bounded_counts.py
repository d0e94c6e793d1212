"""The big change lists (items, annotations, memberships, statistics rows) never count a
whole table: counted exactly up to a bound, past it sized from the statistics (unfiltered)
or "more than" the bound (filtered), at a number of queries that does not grow with rows."""

import re

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labels.models import Annotation, LabelStat
from seeme.models import Item
from splits.models import ItemSplit
from tests.admin.conftest import admin_url, build_world
from tests.factories import AnnotationFactory, ItemFactory

BIG = [Item, Annotation, ItemSplit, LabelStat]


def counts_of(captured) -> list[str]:
    return [
        q["sql"] for q in captured.captured_queries if q["sql"].upper().startswith("SELECT COUNT(")
    ]


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def bound(monkeypatch):
    """Bound the count at 2 rows, so a small world is past it."""
    for model in BIG:
        monkeypatch.setattr(site._registry[model], "count_limit", 2)
    return 2


@pytest.mark.parametrize("model", BIG, ids=lambda m: m.__name__)
def test_every_count_is_bounded(manager, world, model, bound):
    with CaptureQueriesContext(connection) as captured:
        response = manager.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    counts = counts_of(captured)
    assert counts, "the list says how many rows it has"
    for sql in counts:
        assert "LIMIT 3" in sql.upper(), sql


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            Item,
            lambda: sum(
                LabelStat.objects.filter(kind="total").values_list("item_count", flat=True)
            ),
        ),
        (ItemSplit, lambda: ItemSplit.objects.count()),
        (Annotation, lambda: Annotation.objects.count()),
    ],
    ids=["Item", "ItemSplit", "Annotation"],
)
def test_unfiltered_list_past_the_bound_is_sized_from_the_statistics(
    manager, world, user, model, expected, bound
):
    build_world(user, tag="b")
    build_world(user, tag="c")
    response = manager.get(admin_url(model, "changelist"))
    paginator = response.context["cl"].paginator
    assert paginator.count_exact is False and paginator.count_estimated is True
    assert response.context["cl"].result_count == expected() > bound
    plural = model._meta.verbose_name_plural
    assert f"about {expected()} {plural} (from the statistics; not counted)" in page_text(response)


@pytest.mark.parametrize("model", BIG, ids=lambda m: m.__name__)
def test_filtered_list_past_the_bound_says_more_than(manager, world, user, model, bound):
    for _ in range(3):
        item = ItemFactory(dataset_version=world.version, splits=[world.train])
        AnnotationFactory(item=item, split=world.train, label=world.dog)
    build_world(user, tag="b")
    query = {"dataset": world.dataset.pk, "version": world.version.pk, "split": world.train.pk}
    response = manager.get(admin_url(model, "changelist"), query)
    assert response.context["cl"].paginator.count_exact is False
    plural = model._meta.verbose_name_plural
    assert f"more than {bound} {plural} (not counted further)" in page_text(response)
    assert len(response.context["cl"].result_list) > bound


@pytest.mark.parametrize("model", BIG, ids=lambda m: m.__name__)
def test_under_the_bound_the_count_is_exact(manager, world, model):
    response = manager.get(admin_url(model, "changelist"))
    cl = response.context["cl"]
    assert cl.paginator.count_exact is True
    assert cl.result_count == model.objects.count()
    assert "from the statistics" not in page_text(response)


@pytest.mark.parametrize("model", BIG, ids=lambda m: m.__name__)
def test_queries_past_the_bound_do_not_grow_with_rows(
    manager, world, user, model, bound, django_assert_num_queries
):
    build_world(user, tag="b")
    build_world(user, tag="c")
    url = admin_url(model, "changelist")
    with CaptureQueriesContext(connection) as few:
        assert manager.get(url).context["cl"].paginator.count_exact is False
    for tag in ("d", "e", "f"):
        build_world(user, tag=tag)
    with django_assert_num_queries(len(few)):
        response = manager.get(url)
    assert response.context["cl"].paginator.count_exact is False
