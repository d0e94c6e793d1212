"""The item browser filtered by name (labels.views.paging.counted_page): one statement reads
the matches for the count and the page, and it shows the same rows and count as the bounded
count and the keyset page it replaces, for every sort, page, cursor and filter."""

import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labels.filtersets import ItemFilterSet, name_contains, version_name_prefix
from labels.selectors.counts import items_count_bounded
from labels.views import paging
from labels.views.walk import SORTS, ordering
from seeme.models import Item, ItemState
from tests.factories import AnnotationFactory, ItemFactory
from tests.pages.helpers import page_client

pytestmark = pytest.mark.django_db

# Names with ties, case and accents, LIKE's own wildcards and separators: what the
# substring filter (case-insensitive) and the name sort must both get right.
NAMES = [
    "img-001.jpg",
    "img-002.jpg",
    "IMG-010.JPG",
    "img-010.jpg",
    "img-010.jpg",
    "cat_1.png",
    "cat%1.png",
    "catalogue.txt",
    "Éclair.jpg",
    "éclair.jpg",
    "a",
    "",
    "dog 100%.jpg",
    "img-0010.jpg",
    "img_010.jpg",
    "100.jpg",
]
PATTERNS = ["img", "IMG-01", "010", "cat_", "cat%", "%", "_", "jpg", "éclair", "a", "zzz", "0"]


@pytest.fixture
def browser_world(world):
    """The pets world plus NAMES, some in a split, some annotated, one with a state."""
    train = world.splits["train"]
    for n, name in enumerate(NAMES):
        item = ItemFactory(dataset_version=world.version, name=name, splits=[train][: n % 2])
        if n % 2 and n % 3 == 0:
            AnnotationFactory(item=item, split=train, label=world.labels["cat"])
    item = Item.objects.filter(dataset_version=world.version, name="cat_1.png").get()
    ItemState.objects.create(item=item, dataset_version=world.version, state="done")
    return world


def _params(**values) -> QueryDict:
    params = QueryDict(mutable=True)
    for key, value in values.items():
        if value not in (None, ""):
            params[key] = value
    return params


def _summary(page: paging.KeysetPage) -> tuple:
    return (
        [row.pk for row in page.object_list],
        page.number,
        page.has_previous,
        page.has_next,
        page.is_last,
        page.error,
        page.after,
        page.before,
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pattern=st.sampled_from(PATTERNS) | st.text(alphabet="imgIMG-01.jpc_%é", max_size=5),
    sort=st.sampled_from(sorted(SORTS)),
    where=st.sampled_from(["first", "last", "after", "before", "page", "bad"]),
    cursor_row=st.integers(min_value=0, max_value=len(NAMES) + 3),
    number=st.sampled_from(["2", "3", "7", "999", "x"]),
    split=st.booleans(),
    unlabelled=st.sampled_from(["", "true", "false"]),
    state=st.sampled_from(["", "none", "done"]),
    limit=st.sampled_from([1, 2, 5, 100]),
    per_page=st.sampled_from([1, 2, 3, 24]),
)
def test_same_rows_and_count_as_the_bounded_count_and_the_keyset_page(
    browser_world,
    monkeypatch,
    pattern,
    sort,
    where,
    cursor_row,
    number,
    split,
    unlabelled,
    state,
    limit,
    per_page,
):
    world = browser_world
    monkeypatch.setattr(paging, "PER_PAGE", per_page)
    everything = list(Item.objects.filter(dataset_version=world.version).order_by("name", "id"))
    row = everything[cursor_row % len(everything)]  # any item: matching the filter or not
    page_at = {
        "first": {},
        "last": {"page": "last"},
        "after": {"after": paging.encode_cursor(sort, row)},
        "before": {"before": paging.encode_cursor(sort, row)},
        "page": {"page": number},
        "bad": {"after": "nope"},
    }[where]
    params = _params(
        name=pattern,
        sort=sort,
        splitId=str(world.splits["train"].pk) if split else "",
        onlyUnlabelled=unlabelled,
        state=state,
        **page_at,
    )
    items = (
        Item.objects.filter(dataset_version=world.version)
        .select_related("file")
        .order_by(*ordering(sort))
    )
    filterset = ItemFilterSet(params, queryset=items)
    assert filterset.is_valid()
    page, count = paging.counted_page(filterset.qs, items, sort, params, limit=limit)
    expected = paging.keyset_page(filterset.qs, sort, params)
    assert _summary(page) == _summary(expected), (dict(params), limit, per_page)
    assert count == items_count_bounded(
        filterset.qs, version_id=world.version.pk, whole_version=False, limit=limit
    )


def _browser(world) -> str:
    return reverse(
        "seeme:item-list", kwargs={"dataset_id": world.dataset.pk, "version_id": world.version.pk}
    )


def _shown(response) -> list[str]:
    return re.findall(r'<li data-item-id="([^"]+)">', response.content.decode())


@pytest.mark.parametrize("extra", [0, 30])
def test_the_name_filtered_page_reads_the_matches_once(world, user, extra):
    """One query fewer than a filter that is counted apart (state), with 1 or 31 matches:
    the count and the rows come from one statement."""
    ItemFactory.create_batch(extra, dataset_version=world.version, name="zebra.jpg")
    ItemFactory(dataset_version=world.version, name="zebra-last.jpg")
    client = page_client(user)
    client.get(_browser(world), {"name": "zebra"})  # sessions and caches settle
    with CaptureQueriesContext(connection) as by_state:
        client.get(_browser(world), {"state": "none"})
    with CaptureQueriesContext(connection) as by_name:
        response = client.get(_browser(world), {"name": "ZEBRA", "page": "last"})
    assert len(by_name) == len(by_state) - 1
    scans = [q["sql"] for q in by_name if "LIKE" in q["sql"].upper()]
    assert len(scans) == 1 and scans[0].startswith("WITH matches"), scans
    zebras = Item.objects.filter(dataset_version=world.version, name__startswith="zebra")
    last = list(zebras.order_by("created_at", "id").values_list("pk", flat=True))[-24:]
    assert _shown(response) == [str(pk) for pk in last]
    assert f"<strong>{extra + 1}</strong> item" in response.content.decode()


def test_past_the_bound_the_page_comes_from_the_ordered_list(world, user, monkeypatch):
    """More matches than the bound: the statement's matches are only some of them, so the
    page is read again in order and the count says "more than"."""
    monkeypatch.setattr("labels.selectors.counts.EXACT_COUNT_LIMIT", 2)
    ItemFactory.create_batch(4, dataset_version=world.version, name="zebra.jpg")
    client = page_client(user)
    client.get(_browser(world), {"state": "none"})
    with CaptureQueriesContext(connection) as by_state:
        client.get(_browser(world), {"state": "none"})
    with CaptureQueriesContext(connection) as by_name:
        response = client.get(_browser(world), {"name": "zebra", "sort": "-created"})
    assert len(by_name) == len(by_state)  # the statement, then the page: no prefetch wasted
    zebras = Item.objects.filter(dataset_version=world.version, name="zebra.jpg")
    newest = zebras.order_by("-created_at", "-id").values_list("pk", flat=True)
    assert _shown(response) == [str(pk) for pk in newest]
    assert "more than <strong>2</strong> items" in response.content.decode()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.sampled_from(
        PATTERNS + ["IMG-010", "IMG-010.j", "g-0", "cat_1.PNG", "100%.jpg", "ÉCLAIR.jpg"]
    )
    | st.text(alphabet="imgIMG-01.jpcat_%éÉ ", min_size=1, max_size=9)
)
def test_the_name_filter_keeps_the_rows_of_icontains(browser_world, text):
    """name_contains asks the index for the pattern's words and checks the pattern apart:
    the same rows as ``name__icontains``, separators, wildcards and case included."""
    items = Item.objects.filter(dataset_version=browser_world.version)
    expected = set(items.filter(name__icontains=text).values_list("pk", flat=True))
    assert set(name_contains(items, text).values_list("pk", flat=True)) == expected
    # Given the version, the words of its names' common start are left out: same rows.
    version_id = browser_world.version.pk
    found = name_contains(items, text, version_id=version_id).values_list("pk", flat=True)
    assert set(found) == expected


def _index_plan(items) -> tuple[str, str]:
    """PostgreSQL's plan of ``items`` with sequential and plain index scans off (so the
    trigram index is used whatever the table's size), and its first index condition."""
    sql, params = items.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return plan, plan[plan.index("Index Cond") :].splitlines()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_the_index_reads_the_words_of_a_pattern_with_separators(world):
    """Only the words (%IMG%, %010%) are index conditions; the whole pattern, whose padded
    trigrams edge nearly every name, is checked on the rows."""
    ItemFactory(dataset_version=world.version, name="img-010.jpg")
    plan, condition = _index_plan(name_contains(Item.objects.all(), "IMG-010"))
    assert "%IMG%" in condition and "%010%" in condition and "IMG-010" not in condition, plan
    assert "item_version_name_trigram" in plan
    rows = name_contains(Item.objects.filter(dataset_version=world.version), "IMG-010")
    assert [item.name for item in rows] == ["img-010.jpg"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_the_words_every_name_starts_with_are_not_asked_of_the_index(world):
    """Every name of this version starts with "img-": the word IMG is in every row, so only
    %010% goes to the index; the rows are the same."""
    Item.objects.filter(dataset_version=world.version).delete()
    # (Lower case throughout: the common start is read in the names' own order and case.)
    for name in ("img-001.jpg", "img-010.jpg", "img-0100.JPG", "img-9.png"):
        ItemFactory(dataset_version=world.version, name=name)
    assert version_name_prefix(world.version.pk) == "img-"
    items = Item.objects.filter(dataset_version=world.version)
    narrowed = name_contains(items, "IMG-010", version_id=world.version.pk)
    every = name_contains(Item.objects.all(), "IMG-010", version_id=world.version.pk)
    plan, condition = _index_plan(every)
    assert "%010%" in condition and "%IMG%" not in condition, plan
    assert sorted(item.name for item in narrowed) == ["img-010.jpg", "img-0100.JPG"]
    # A pattern made only of such words is the whole pattern again (the index reads it).
    whole = name_contains(items, "img-", version_id=world.version.pk)
    assert whole.count() == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the prefix probe is PostgreSQL's")
def test_the_page_asks_for_the_common_start_in_one_query(world, user):
    """A pattern with separators costs the page one query more on PostgreSQL (the common
    start's two index probes, in one statement) however many items match."""
    client = page_client(user)
    counts = []
    for extra in (1, 30):
        ItemFactory.create_batch(extra, dataset_version=world.version, name="zebra-xyz.jpg")
        client.get(_browser(world), {"name": "zebra-xyz"})  # sessions and caches settle
        with CaptureQueriesContext(connection) as by_word:
            client.get(_browser(world), {"name": "zebra"})
        with CaptureQueriesContext(connection) as by_words:
            client.get(_browser(world), {"name": "zebra-xyz"})
        counts.append((len(by_word), len(by_words)))
    assert counts[0] == counts[1]
    assert counts[0][1] == counts[0][0] + 1
