"""Labelling from the pages (issue 13): the item page's label panel and the item browser's
bulk form, as plain forms and as htmx requests; permissions; walking the filtered list."""

import pytest
from django.urls import reverse

from labels.models import Annotation
from seeme.models import ItemState, Role
from splits.models import ItemSplit
from tests.conftest import assert_stats_exact, db_snapshot
from tests.factories import ItemFactory, UserFactory, share
from tests.pages.helpers import page_client


def ids(world, **more):
    return {"dataset_id": world.dataset.pk, "version_id": world.version.pk, **more}


def item_url(world, name, query=""):
    url = reverse("seeme:item-detail", kwargs=ids(world, item_id=world.items[name].pk))
    return f"{url}?{query}" if query else url


def action(world, name, what):
    return reverse(f"labels:item-{what}", kwargs=ids(world, item_id=world.items[name].pk))


@pytest.fixture
def annotator(world):
    person = UserFactory()
    share(world.dataset, person, Role.ANNOTATOR)
    return page_client(person)


@pytest.fixture
def viewer(world):
    person = UserFactory()
    share(world.dataset, person, Role.VIEWER)
    return page_client(person)


def whole_labels(item, split):
    return sorted(
        Annotation.objects.filter(item=item, split=split, coordinates="").values_list(
            "label__name", flat=True
        )
    )


def test_annotator_sees_the_label_panel_with_keys(world, annotator):
    page = annotator.get(item_url(world, "c.jpg"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="label-controls"' in html
    assert 'data-key="1"' in html and 'accesskey="1"' in html
    assert 'data-key="2"' in html
    assert "js/htmx.min.js" in html


def test_plain_form_label_then_next_unlabelled(world, annotator):
    c = world.items["c.jpg"]
    train = world.splits["train"]
    extra = ItemFactory(dataset_version=world.version, name="e.jpg", splits=[train])
    answer = annotator.post(
        action(world, "c.jpg", "label"),
        {
            "label": world.labels["dog"].pk,
            "split": train.pk,
            "advance": "1",
            "splitId": train.pk,
            "onlyUnlabelled": "true",
        },
    )
    assert answer.status_code == 302
    assert answer["Location"].startswith(
        reverse("seeme:item-detail", kwargs=ids(world, item_id=extra.pk))
    )
    assert f"splitId={train.pk}" in answer["Location"]
    assert whole_labels(c, train) == ["dog"]
    assert_stats_exact()
    # the last one: stays on the item and says so
    last = annotator.post(
        reverse("labels:item-label", kwargs=ids(world, item_id=extra.pk)),
        {"label": world.labels["cat"].pk, "split": train.pk, "advance": "1", "splitId": train.pk},
        follow=True,
    )
    assert b"last unlabelled item" in last.content


def test_single_label_dataset_replaces_the_whole_item_label(world, annotator):
    a, train = world.items["a.jpg"], world.splits["train"]
    annotator.post(action(world, "a.jpg", "label"), {"label": world.labels["dog"].pk})
    assert whole_labels(a, train) == ["dog"]
    annotator.post(action(world, "a.jpg", "label"), {"label": world.labels["dog"].pk})
    assert whole_labels(a, train) == ["dog"]  # no duplicate
    assert_stats_exact()


def test_htmx_label_swaps_the_panel_with_new_counts(world, annotator):
    train = world.splits["train"]
    answer = annotator.post(
        action(world, "c.jpg", "label"),
        {"label": world.labels["cat"].pk, "split": train.pk},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'id="label-controls"' in html and 'id="item-splits"' in html
    assert "Labelled c.jpg as cat." in html
    # the panel's counts are the split's LabelStat rows after the write
    counts = answer.context["controls"]["counts"]
    assert dict((lb.name, n) for lb, n in counts["labels"]) == {"cat": 3, "dog": 1}
    assert counts["unlabelled"] == 0
    advance = annotator.post(
        action(world, "a.jpg", "label"),
        {"label": world.labels["dog"].pk, "split": train.pk, "advance": "1"},
        HTTP_HX_REQUEST="true",
    )
    # after a (a, b, c, d in creation order) nothing is unlabelled any more: stay and say so
    assert advance.status_code == 200
    assert b"last unlabelled item" in advance.content
    assert_stats_exact()


def test_htmx_advance_answers_a_client_redirect(world, annotator):
    train = world.splits["train"]
    nxt = ItemFactory(dataset_version=world.version, name="z.jpg", splits=[train])
    answer = annotator.post(
        action(world, "c.jpg", "label"),
        {"label": world.labels["cat"].pk, "split": train.pk, "advance": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert answer["HX-Redirect"].startswith(
        reverse("seeme:item-detail", kwargs=ids(world, item_id=nxt.pk))
    )


def test_remove_move_and_state(world, annotator):
    b, train, valid = world.items["b.jpg"], world.splits["train"], world.splits["valid"]
    cat = Annotation.objects.filter(item=b, coordinates="").get()
    annotator.post(action(world, "b.jpg", "unlabel"), {"annotation": cat.pk})
    assert not Annotation.objects.filter(pk=cat.pk).exists()
    annotator.post(action(world, "b.jpg", "move"), {"split": valid.pk})
    assert list(ItemSplit.objects.filter(item=b).values_list("split_id", flat=True)) == [valid.pk]
    assert set(Annotation.objects.filter(item=b).values_list("split_id", flat=True)) == {valid.pk}
    answer = annotator.post(action(world, "b.jpg", "state"), {"state": "reviewed"}, follow=True)
    assert ItemState.objects.get(item=b).state == "reviewed"
    assert b"State set to reviewed" in answer.content
    assert b'data-state="reviewed"' in answer.content
    assert train.pk not in set(ItemSplit.objects.filter(item=b).values_list("split_id", flat=True))
    assert_stats_exact()


def test_viewer_sees_no_controls_and_gets_403(world, viewer):
    page = viewer.get(item_url(world, "c.jpg"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "label-button" not in html and 'name="annotation"' not in html
    assert (
        "labels:items-bulk" not in html
        and 'id="bulk-form"'
        not in viewer.get(reverse("seeme:item-list", kwargs=ids(world))).content.decode()
    )
    before = db_snapshot()
    label = {"label": world.labels["cat"].pk}
    for what, body in (
        ("label", label),
        ("unlabel", {"annotation": Annotation.objects.first().pk}),
        ("move", {"split": world.splits["valid"].pk}),
        ("state", {"state": "done"}),
    ):
        assert viewer.post(action(world, "c.jpg", what), body).status_code == 403, what
    bulk = reverse("labels:items-bulk", kwargs=ids(world))
    body = {"op": "label", "item": world.items["c.jpg"].pk, **label}
    assert viewer.post(bulk, body).status_code == 403
    assert db_snapshot() == before


def test_stranger_gets_404_and_anonymous_signs_in(world):
    stranger = page_client(UserFactory())
    body = {"label": world.labels["cat"].pk}
    assert stranger.post(action(world, "c.jpg", "label"), body).status_code == 404
    anonymous = page_client(None).post(action(world, "c.jpg", "label"), body)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert not Annotation.objects.filter(item=world.items["c.jpg"]).exists()


def test_bulk_label_and_move_from_the_browser(world, annotator):
    train, test = world.splits["train"], world.splits["test"]
    new = [ItemFactory(dataset_version=world.version, splits=[train]) for _ in range(3)]
    bulk = reverse("labels:items-bulk", kwargs=ids(world))
    answer = annotator.post(
        bulk,
        {"op": "label", "label": world.labels["dog"].pk, "item": [i.pk for i in new]},
        follow=True,
    )
    assert b"Labelled 3 item(s)" in answer.content
    assert all(whole_labels(i, train) == ["dog"] for i in new)
    answer = annotator.post(
        bulk, {"op": "move", "split": test.pk, "item": [i.pk for i in new[:2]]}, follow=True
    )
    assert b"Moved 2 item(s) to test" in answer.content
    assert all(whole_labels(i, test) == ["dog"] for i in new[:2])
    assert_stats_exact()


def test_bulk_refuses_without_selection_or_with_foreign_items(world, annotator, user):
    from tests.factories import DatasetFactory

    bulk = reverse("labels:items-bulk", kwargs=ids(world))
    foreign = ItemFactory(dataset_version=DatasetFactory(owner=user).versions.get())
    before = db_snapshot()
    empty = annotator.post(bulk, {"op": "label", "label": world.labels["dog"].pk}, follow=True)
    assert b"Select at least one item" in empty.content
    refused = annotator.post(
        bulk,
        {"op": "label", "label": world.labels["dog"].pk, "item": [foreign.pk]},
        follow=True,
    )
    assert b"not in this version" in refused.content
    assert db_snapshot() == before


def test_browser_state_filter_sort_and_jump(world, annotator, user):
    from seeme.services import item_state_set

    item_state_set(item=world.items["a.jpg"], state="reviewed", user=user)
    browser = reverse("seeme:item-list", kwargs=ids(world))
    reviewed = annotator.get(browser, {"state": "reviewed"})
    assert [i.name for i in reviewed.context["page"].object_list] == ["a.jpg"]
    none = annotator.get(browser, {"state": "none"})
    assert [i.name for i in none.context["page"].object_list] == ["b.jpg", "c.jpg", "d.jpg"]
    by_name = annotator.get(browser, {"sort": "-name"})
    assert [i.name for i in by_name.context["page"].object_list] == [
        "d.jpg",
        "c.jpg",
        "b.jpg",
        "a.jpg",
    ]
    ItemFactory.create_batch(30, dataset_version=world.version)
    many = annotator.get(browser, {"page": "2"})
    # No "go to page N" form any more (an OFFSET); first / previous / next / last links.
    assert b'rel="first"' in many.content and b'rel="prev"' in many.content
    assert b"Page 2 of 2" in many.content
    assert b'data-state="reviewed"' in reviewed.content


def test_previous_and_next_follow_the_sorted_filtered_list(world, annotator):
    query = "sort=-name"
    page = annotator.get(item_url(world, "b.jpg", query))
    controls = page.context["controls"]
    assert controls["previous_url"] == item_url(world, "c.jpg", query)
    assert controls["next_url"] == item_url(world, "a.jpg", query)
    assert controls["next_unlabelled_url"] is None  # a is labelled; c is before b
    first = annotator.get(item_url(world, "d.jpg", query)).context["controls"]
    assert first["previous_url"] is None
    assert first["next_unlabelled_url"] == item_url(world, "c.jpg", query)
