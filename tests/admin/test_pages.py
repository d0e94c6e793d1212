"""Every admin page renders, and changelists cost the same number of queries for few or many
rows."""

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labels.models import Annotation, Label, LabelStat
from seeme import services
from seeme.models import APIKey, Dataset, DatasetShare, Item, User, Version
from splits.models import DatasetSplit, ItemSplit
from tests.admin.conftest import admin_url, build_world
from tests.factories import AnnotationFactory, ItemFactory, LabelFactory, UserFactory, share

MODELS = [
    User,
    Dataset,
    DatasetShare,
    Version,
    Item,
    APIKey,
    DatasetSplit,
    ItemSplit,
    Label,
    Annotation,
    LabelStat,
]


def test_every_model_is_registered():
    assert set(MODELS) <= set(site._registry)


def one_of(model, world):
    """A row of ``model`` from the world (with a share and an API key)."""
    return {
        User: world.dataset.owner,
        Dataset: world.dataset,
        Version: world.version,
        Item: world.one,
        DatasetSplit: world.train,
        Label: world.cat,
        Annotation: world.annotation,
        DatasetShare: DatasetShare.objects.first(),
        APIKey: APIKey.objects.first(),
        ItemSplit: ItemSplit.objects.first(),
        LabelStat: LabelStat.objects.filter(kind=LabelStat.Kind.LABEL).first(),
    }[model]


@pytest.fixture
def full_world(world, shared, user):
    services.apikey_create(user=user, name="laptop")
    return world


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_renders(manager, full_world, model):
    response = manager.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize(
    "model", [m for m in MODELS if m is not LabelStat], ids=lambda m: m.__name__
)
def test_add_page_renders(manager, full_world, model):
    response = manager.get(admin_url(model, "add"))
    assert response.status_code == 200
    assert response.context["adminform"].form.fields


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_page_renders(manager, full_world, model):
    obj = one_of(model, full_world)
    response = manager.get(admin_url(model, "change", obj))
    assert response.status_code == 200
    assert response.context["original"] == obj


@pytest.mark.parametrize(
    "model", [m for m in MODELS if m is not LabelStat], ids=lambda m: m.__name__
)
def test_delete_confirmation_renders(manager, full_world, model):
    response = manager.get(admin_url(model, "delete", one_of(model, full_world)))
    assert response.status_code == 200
    assert not response.context["perms_lacking"]


def test_dataset_delete_confirmation_counts_instead_of_listing(manager, world):
    response = manager.get(admin_url(Dataset, "delete", world.dataset))
    counts = dict(response.context["model_count"])
    assert counts["items"] == 2
    assert counts["annotations"] == 1
    assert counts["dataset splits"] == 3
    # The item names are not listed one by one: a dataset may have millions.
    assert world.one.name not in response.content.decode()


def test_item_page_offers_only_the_items_version_splits_and_labels(manager, world, other_user):
    other = build_world(other_user, tag="b")
    response = manager.get(admin_url(Item, "change", world.one))
    formsets = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}
    split_choices = set(formsets["memberships"].empty_form.fields["split"].queryset)
    label_choices = set(formsets["annotations"].empty_form.fields["label"].queryset)
    assert split_choices == set(world.splits.values())
    assert label_choices == {world.cat, world.dog}
    assert other.train not in split_choices and other.cat not in label_choices


def test_autocomplete_names_where_a_split_lives(manager, world):
    response = manager.get(
        "/admin/autocomplete/",
        {"app_label": "labels", "model_name": "annotation", "field_name": "split", "term": "train"},
    )
    assert response.status_code == 200
    texts = [r["text"] for r in response.json()["results"]]
    assert texts == [f"{world.dataset.name} / v1 / train"]


def test_a_pasted_id_finds_its_row(manager, world):
    response = manager.get(admin_url(Item, "changelist"), {"q": str(world.two.pk)})
    assert list(response.context["cl"].result_list) == [world.two]


@pytest.mark.parametrize("query", [{"dataset": "nope"}, {"split": "1"}, {"version": "x"}])
def test_a_malformed_filter_id_is_no_error(manager, world, query):
    response = manager.get(admin_url(LabelStat, "changelist"), query)
    assert response.status_code == 302
    assert "e=1" in response["Location"]


def grow(owner, n: int = 4) -> None:
    """More of every row: n more datasets, each with items, annotations, a share, a key."""
    for i in range(n):
        world = build_world(owner, tag=f"grow{i}")
        share(world.dataset, UserFactory())
        services.apikey_create(user=owner, name=f"key {i}")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_queries_do_not_grow_with_rows(
    manager, full_world, user, model, django_assert_num_queries
):
    url = admin_url(model, "changelist")
    with CaptureQueriesContext(connection) as few:
        assert manager.get(url).status_code == 200
    grow(user)
    with django_assert_num_queries(len(few)):
        response = manager.get(url)
    assert response.context["cl"].result_count > 1
    assert len(response.context["cl"].result_list) > 1


@pytest.mark.parametrize(
    "model", [Item, Annotation, LabelStat, ItemSplit], ids=lambda m: m.__name__
)
def test_filtered_changelist_queries_do_not_grow_with_rows(
    manager, full_world, model, django_assert_num_queries
):
    w = full_world
    query = {"dataset": w.dataset.pk, "version": w.version.pk, "split": w.train.pk}
    url = admin_url(model, "changelist")
    with CaptureQueriesContext(connection) as few:
        before = manager.get(url, query).context["cl"].result_count
    LabelFactory(version=w.version, name="bird")
    for _ in range(4):
        item = ItemFactory(dataset_version=w.version, splits=[w.train])
        AnnotationFactory(item=item, split=w.train, label=w.dog)
    with django_assert_num_queries(len(few)):
        response = manager.get(url, query)
    assert response.context["cl"].result_count > before


def test_label_stats_filter_by_dataset_version_and_split(manager, world, other_user):
    build_world(other_user, tag="b")
    url = admin_url(LabelStat, "changelist")
    by_dataset = manager.get(url, {"dataset": world.dataset.pk}).context["cl"].result_list
    assert {row.split_id for row in by_dataset} == {s.pk for s in world.splits.values()}
    response = manager.get(
        url, {"dataset": world.dataset.pk, "version": world.version.pk, "split": world.valid.pk}
    )
    rows = response.context["cl"].result_list
    assert {row.split_id for row in rows} == {world.valid.pk}
    assert sorted(row.kind for row in rows) == ["label", "label", "total", "unlabelled"]
    split_filter = next(f for f in response.context["cl"].filter_specs if f.title == "split")
    assert {str(pk) for pk, _ in split_filter.lookup_choices} == {
        str(s.pk) for s in world.splits.values()
    }
