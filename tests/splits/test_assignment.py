"""Assigning items to splits by ratio, and moving items between splits: services and API."""

from collections import Counter, defaultdict

import pytest
from django.urls import reverse

from labels import services as label_services
from labels.models import Annotation, LabelStat
from labels.services.assignment import items_assign_to_splits, items_move_to_split
from seeme.exceptions import InvalidInput, NotFound
from seeme.models import Item, Role
from splits.models import ItemSplit
from tests.conftest import assert_stats_exact, client_for
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    ItemFactory,
    LabelFactory,
    UserFactory,
    share,
)

RATIOS = {"train": 0.8, "valid": 0.1, "test": 0.1}
SIZES = {"cat": 41, "dog": 17, "bird": 6}


def add_labelled(split, sizes=SIZES, prefix="item"):
    """Items in ``split``, each with one whole-item annotation (labels created if needed)."""
    version = split.version
    for name in sizes:
        if not version.labels.filter(name=name).exists():
            LabelFactory(version=version, name=name)
    inferences = [
        {"name": f"{prefix}-{name}-{i}", "prediction": name}
        for name, n in sizes.items()
        for i in range(n)
    ]
    return label_services.add_inferences(split=split, user=None, inferences=inferences)


def placement(version):
    """{item id: sorted split names} for every item of the version."""
    found = defaultdict(list)
    for item_id, name in ItemSplit.objects.filter(split__version=version).values_list(
        "item_id", "split__name"
    ):
        found[item_id].append(name)
    for item_id in Item.objects.filter(dataset_version=version).values_list("pk", flat=True):
        found.setdefault(item_id, [])
    return {k: sorted(v) for k, v in found.items()}


def per_label_split(version):
    """Counter of (label name, split name) over annotations."""
    return Counter(
        Annotation.objects.filter(split__version=version).values_list("label__name", "split__name")
    )


def snapshot():
    """Everything an assignment could change."""
    return (
        sorted(ItemSplit.objects.values_list("item_id", "split_id")),
        sorted(Annotation.objects.values_list("id", "split_id", "label_id")),
        sorted(
            LabelStat.objects.values_list(
                "split_id", "kind", "label_id", "count", "annotation_count", "item_count"
            ),
            key=str,
        ),
        Item.objects.count(),
    )


# -- assignment service -------------------------------------------------------------------


def test_all_items_end_in_exactly_one_split_near_the_ratios(version, splits):
    add_labelled(splits["train"])
    result = items_assign_to_splits(version=version, ratios=RATIOS, scope="all", seed="7")
    where = placement(version)
    assert all(len(names) == 1 for names in where.values())
    counts = Counter(names[0] for names in where.values())
    assert sum(counts.values()) == 64
    assert counts["train"] > counts["valid"] and counts["train"] > counts["test"]
    assert result.moved == 64 - counts["train"]
    assert_stats_exact()


def test_stratified_each_label_within_one_item_per_split(version, splits):
    add_labelled(splits["train"])
    items_assign_to_splits(version=version, ratios=RATIOS, scope="all", stratify=True, seed="s")
    by = per_label_split(version)
    for label, n in SIZES.items():
        assert sum(by[(label, s)] for s in RATIOS) == n  # annotations followed their items
        for split, ratio in RATIOS.items():
            assert abs(by[(label, split)] - ratio * n) < 1, (label, split, by)
    assert_stats_exact()


def test_same_seed_same_assignment_a_second_run_moves_nothing(version, splits):
    add_labelled(splits["train"])
    first = items_assign_to_splits(
        version=version, ratios=RATIOS, scope="all", stratify=True, seed="abc"
    )
    where = placement(version)
    again = items_assign_to_splits(
        version=version, ratios=RATIOS, scope="all", stratify=True, seed="abc"
    )
    assert first.moved > 0
    assert again.moved == 0 and again.unchanged == 64
    assert placement(version) == where


def test_appended_items_do_not_reshuffle_earlier_ones_unstratified(version, splits):
    add_labelled(splits["train"])
    items_assign_to_splits(version=version, ratios=RATIOS, scope="all", seed="k")
    where = placement(version)
    add_labelled(splits["train"], {"cat": 20, "dog": 5}, prefix="later")
    items_assign_to_splits(version=version, ratios=RATIOS, scope="all", seed="k")
    after = placement(version)
    assert {k: after[k] for k in where} == where
    assert_stats_exact()


def test_appended_unassigned_items_do_not_move_earlier_ones_stratified(version, splits):
    add_labelled(splits["train"])
    items_assign_to_splits(version=version, ratios=RATIOS, scope="all", stratify=True, seed="k")
    where = placement(version)
    new = [ItemFactory(dataset_version=version) for _ in range(10)]
    result = items_assign_to_splits(
        version=version, ratios=RATIOS, scope="unassigned", stratify=True, seed="k"
    )
    after = placement(version)
    assert {k: after[k] for k in where} == where
    assert result.considered == 10 and result.moved == 10
    assert all(len(after[item.pk]) == 1 for item in new)
    # The 10 unlabelled items are a stratum of their own: 8 / 1 / 1.
    assert Counter(after[item.pk][0] for item in new) == Counter(train=8, valid=1, test=1)
    assert_stats_exact()


@pytest.mark.parametrize("group_by", ["name_prefix", "field"])
def test_groups_stay_together(version, splits, group_by):
    for patient in range(25):
        for scan in range(1 + patient % 3):
            ItemFactory(
                dataset_version=version,
                name=f"p{patient}_scan{scan}.jpg",
                group=f"patient-{patient}",
                splits=[splits["train"]],
            )
    items_assign_to_splits(version=version, ratios=RATIOS, scope="all", group_by=group_by, seed="g")
    groups = defaultdict(set)
    for item in Item.objects.filter(dataset_version=version):
        (name,) = placement(version)[item.pk]
        groups[item.group].add(name)
    assert len(groups) == 25 and all(len(names) == 1 for names in groups.values())
    assert_stats_exact()


def test_a_late_member_joins_its_group(version, splits):
    ItemFactory(dataset_version=version, name="p1_a.jpg", splits=[splits["test"]])
    late = ItemFactory(dataset_version=version, name="p1_b.jpg")
    items_assign_to_splits(version=version, ratios=RATIOS, group_by="name_prefix", seed="1")
    assert placement(version)[late.pk] == ["test"]


def test_dry_run_writes_nothing_and_predicts_the_real_run(version, splits):
    add_labelled(splits["train"])
    ItemFactory.create_batch(5, dataset_version=version, splits=[splits["valid"]])
    before = snapshot()
    dry = items_assign_to_splits(
        version=version, ratios=RATIOS, scope="all", stratify=True, seed="d", dry_run=True
    )
    assert snapshot() == before
    real = items_assign_to_splits(
        version=version, ratios=RATIOS, scope="all", stratify=True, seed="d"
    )
    assert dry.as_dict()["splits"] == real.as_dict()["splits"]
    assert dry.as_dict()["dry_run"] is True and real.as_dict()["dry_run"] is False
    after = {s["name"]: s["after"] for s in real.as_dict()["splits"]}
    stored = {
        r.split.name: (r.item_count, r.annotation_count)
        for r in LabelStat.objects.filter(split__version=version, kind="total").select_related(
            "split"
        )
    }
    assert {n: (a["items"], a["annotations"]) for n, a in after.items()} == stored
    assert_stats_exact()


def test_single_label_merge_keeps_the_newest_whole_item_annotation(version, splits):
    cat = LabelFactory(version=version, name="cat")
    dog = LabelFactory(version=version, name="dog")
    item = ItemFactory(dataset_version=version, splits=[splits["train"], splits["valid"]])
    AnnotationFactory(item=item, split=splits["train"], label=cat)
    AnnotationFactory(item=item, split=splits["valid"], label=dog)
    # A zero ratio names a split to empty: its members move to the others.
    items_assign_to_splits(
        version=version, ratios={"train": 0, "valid": 0, "test": 1.0}, scope="all"
    )
    assert placement(version)[item.pk] == ["test"]
    assert list(Annotation.objects.filter(item=item).values_list("label__name", "split__name")) == [
        ("dog", "test")
    ]
    assert_stats_exact()


def test_multi_label_merge_drops_exact_duplicates_only(user):
    dataset = DatasetFactory(owner=user, multi_label=True)
    version = dataset.versions.get()
    train, valid = (version.splits.get(name=n) for n in ("train", "valid"))
    cat = LabelFactory(version=version, name="cat")
    dog = LabelFactory(version=version, name="dog")
    item = ItemFactory(dataset_version=version, splits=[train, valid])
    AnnotationFactory(item=item, split=train, label=cat)
    AnnotationFactory(item=item, split=valid, label=cat)
    AnnotationFactory(item=item, split=valid, label=dog)
    AnnotationFactory(item=item, split=valid, label=dog, coordinates="[1,2,3,4]")
    items_assign_to_splits(version=version, ratios={"train": 1.0, "valid": 0.0}, scope="all")
    assert sorted(
        Annotation.objects.filter(item=item).values_list(
            "label__name", "coordinates", "split__name"
        )
    ) == [("cat", "", "train"), ("dog", "", "train"), ("dog", "[1,2,3,4]", "train")]
    assert_stats_exact()


def test_scope_all_over_a_pool_leaves_each_item_in_one_split_with_its_labels(version, splits):
    """Issue 13: a "pool" split the ratios do not name; scope=all empties it into the named
    splits, every item in exactly one of them, its annotations moved along."""
    pool = label_services.split_create(version=version, name="pool", user=None)
    add_labelled(pool, {"cat": 30, "dog": 20}, prefix="pool")
    twice = ItemFactory(dataset_version=version, splits=[pool, splits["test"]], name="both")
    AnnotationFactory(item=twice, split=pool, label=version.labels.get(name="cat"))
    labelled_before = Counter(
        Annotation.objects.filter(split__version=version).values_list("label__name", flat=True)
    )
    result = items_assign_to_splits(version=version, ratios=RATIOS, scope="all", seed="p")
    where = placement(version)
    assert all(len(names) == 1 and names[0] in RATIOS for names in where.values()), where
    assert not ItemSplit.objects.filter(split=pool).exists()
    assert not Annotation.objects.filter(split=pool).exists()
    by_label = Counter(
        Annotation.objects.filter(split__version=version).values_list("label__name", flat=True)
    )
    assert by_label == labelled_before  # labels moved, none lost, none copied
    # every annotation sits in the split its item is in
    for item_id, split_name in Annotation.objects.filter(split__version=version).values_list(
        "item_id", "split__name"
    ):
        assert where[item_id] == [split_name]
    assert result.considered == 51
    pool_stats = LabelStat.objects.get(split=pool, kind=LabelStat.Kind.TOTAL)
    assert pool_stats.item_count == 0
    assert_stats_exact()


def test_unassigned_scope_leaves_placed_items_alone(version, splits):
    placed = ItemFactory.create_batch(5, dataset_version=version, splits=[splits["test"]])
    loose = ItemFactory.create_batch(20, dataset_version=version)
    result = items_assign_to_splits(version=version, ratios=RATIOS, seed="q")
    where = placement(version)
    assert all(where[i.pk] == ["test"] for i in placed)
    assert all(len(where[i.pk]) == 1 for i in loose)
    assert result.considered == 20
    assert_stats_exact()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"ratios": {"train": 0.5}}, "ratios"),
        ({"ratios": {"train": 1.5, "valid": -0.5}}, "ratios"),
        ({"ratios": {"nope": 1.0}}, "ratios"),
        ({"ratios": RATIOS, "scope": "some"}, "scope"),
        ({"ratios": RATIOS, "group_by": "colour"}, "group_by"),
        ({"ratios": RATIOS, "group_by": "name_prefix", "separator": ""}, "separator"),
    ],
)
def test_service_refuses_bad_input(version, splits, kwargs, field):
    with pytest.raises(InvalidInput) as exc:
        items_assign_to_splits(version=version, **kwargs)
    assert field in exc.value.errors


# -- move service ---------------------------------------------------------------------------


def test_move_by_ids_carries_annotations_and_keeps_stats_exact(version, splits):
    ids = add_labelled(splits["train"], {"cat": 5, "dog": 3})
    result = items_move_to_split(split=splits["valid"], item_ids=ids[:4])
    assert result.moved == 4 and result.skipped == 0
    assert per_label_split(version) == Counter(
        {("cat", "train"): 1, ("dog", "train"): 3, ("cat", "valid"): 4}
    )
    assert_stats_exact()


def test_move_by_filters_moves_exactly_the_filtered_items(version, splits):
    add_labelled(splits["train"], {"cat": 5, "dog": 3})
    dog = version.labels.get(name="dog")
    result = items_move_to_split(
        split=splits["test"], filters={"splitId": str(splits["train"].pk), "labelId": str(dog.pk)}
    )
    assert result.moved == 3
    assert per_label_split(version) == Counter({("cat", "train"): 5, ("dog", "test"): 3})
    assert_stats_exact()


def test_move_from_split_skips_items_not_in_it_and_leaves_other_memberships(version, splits):
    both = ItemFactory(dataset_version=version, splits=[splits["train"], splits["valid"]])
    only_valid = ItemFactory(dataset_version=version, splits=[splits["valid"]])
    result = items_move_to_split(
        split=splits["test"], item_ids=[both.pk, only_valid.pk], from_split=splits["train"]
    )
    assert (result.moved, result.skipped) == (1, 1)
    where = placement(version)
    assert where[both.pk] == ["test", "valid"] and where[only_valid.pk] == ["valid"]
    assert_stats_exact()


def test_move_without_from_split_leaves_every_other_split(version, splits):
    item = ItemFactory(dataset_version=version, splits=[splits["train"], splits["valid"]])
    items_move_to_split(split=splits["test"], item_ids=[item.pk])
    assert placement(version)[item.pk] == ["test"]
    assert_stats_exact()


def test_move_of_an_unknown_item_writes_nothing(version, splits):
    item = ItemFactory(dataset_version=version, splits=[splits["train"]])
    other = ItemFactory(dataset_version=DatasetFactory().versions.get())
    before = snapshot()
    with pytest.raises(NotFound):
        items_move_to_split(split=splits["valid"], item_ids=[item.pk, other.pk])
    assert snapshot() == before


# -- API ------------------------------------------------------------------------------------


def assign_url(version):
    return reverse(
        "split-assign", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
    )


def move_url(version, split):
    return reverse(
        "split-move",
        kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, "split_id": split.pk},
    )


def test_api_assign_dry_run_then_apply(api, version, splits):
    add_labelled(splits["train"])
    body = {"ratios": RATIOS, "scope": "all", "stratify": True, "seed": 3, "dry_run": True}
    before = snapshot()
    dry = api.post(assign_url(version), body, format="json")
    assert dry.status_code == 200, dry.json()
    assert snapshot() == before
    data = dry.json()
    assert data["dry_run"] is True and data["considered"] == 64
    train = next(s for s in data["splits"] if s["name"] == "train")
    assert train["before"]["items"] == 64 and train["after"]["items"] < 64
    cat = next(lb for lb in train["labels"] if lb["name"] == "cat")
    assert cat["before"] == {"items": 41, "annotations": 41}
    assert cat["after"]["items"] == 33  # 41 * 0.8 = 32.8: largest remainder rounds up
    applied = api.post(assign_url(version), {**body, "dry_run": False}, format="json")
    assert applied.status_code == 200
    assert applied.json()["splits"] == data["splits"]
    assert_stats_exact()


def test_api_assign_accepts_the_string_form_and_no_content_type(api, version, splits):
    ItemFactory.create_batch(3, dataset_version=version)
    import json

    response = api.generic(
        "POST", assign_url(version), json.dumps({"ratios": "train=0.5,valid=0.5"}), content_type=""
    )
    assert response.status_code == 200, response.content
    assert response.json()["moved"] == 3


@pytest.mark.parametrize(
    "body, field",
    [
        ({"ratios": {"train": 0.5, "valid": 0.6}}, "ratios"),
        ({"ratios": {"train": -0.2, "valid": 1.2}}, "ratios"),
        ({"ratios": {"train": 0.5, "holdout": 0.5}}, "ratios"),
        ({"ratios": {"train": "half", "valid": 0.5}}, "ratios"),
        ({"ratios": []}, "ratios"),
        ({}, "ratios"),
        ({"ratios": RATIOS, "scope": "everything"}, "scope"),
        ({"ratios": RATIOS, "stratify": "yes"}, "stratify"),
        ({"ratios": RATIOS, "seed": [1]}, "seed"),
        ({"ratios": RATIOS, "group_by": "name_prefix", "separator": None}, "separator"),
    ],
)
def test_api_assign_bad_bodies_are_400_json(api, version, splits, body, field):
    response = api.post(assign_url(version), body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert data["message"] and field in data["errors"], data


def test_api_assign_needs_an_editor(user, version, splits):
    viewer, annotator, editor = UserFactory(), UserFactory(), UserFactory()
    share(version.dataset, viewer, Role.VIEWER)
    share(version.dataset, annotator, Role.ANNOTATOR)
    share(version.dataset, editor, Role.EDITOR)
    ItemFactory(dataset_version=version)
    body = {"ratios": RATIOS}
    assert client_for(viewer).post(assign_url(version), body, format="json").status_code == 403
    assert client_for(annotator).post(assign_url(version), body, format="json").status_code == 403
    assert client_for(None).post(assign_url(version), body, format="json").status_code == 401
    assert client_for(editor).post(assign_url(version), body, format="json").status_code == 200


def test_api_assign_on_a_foreign_or_malformed_version_is_404(api, version):
    foreign = DatasetFactory().versions.get()
    assert api.post(assign_url(foreign), {"ratios": RATIOS}, format="json").status_code == 404
    mismatched = reverse(
        "split-assign", kwargs={"dataset_id": foreign.dataset_id, "version_id": version.pk}
    )
    assert api.post(mismatched, {"ratios": RATIOS}, format="json").status_code == 404
    bad = f"/api/v1/datasets/{version.dataset_id}/versions/not-a-uuid/splits/assign"
    response = api.post(bad, {"ratios": RATIOS}, format="json")
    assert response.status_code == 404 and response.json()["message"]


def test_api_move_by_ids(api, version, splits):
    ids = add_labelled(splits["train"], {"cat": 3})
    response = api.post(
        move_url(version, splits["valid"]), {"item_ids": [str(i) for i in ids[:2]]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "moved": 2,
        "unchanged": 0,
        "skipped": 0,
        "split_id": str(splits["valid"].pk),
    }
    assert_stats_exact()


def test_api_move_by_filters_with_from_split(api, version, splits):
    add_labelled(splits["train"], {"cat": 3, "dog": 2})
    response = api.post(
        move_url(version, splits["test"]),
        {
            "filters": {"labelId": str(version.labels.get(name="dog").pk)},
            "from_split": str(splits["train"].pk),
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["moved"] == 2
    assert per_label_split(version)[("dog", "test")] == 2
    assert_stats_exact()


def test_api_move_errors(api, version, splits):
    item = ItemFactory(dataset_version=version, splits=[splits["train"]])
    foreign_version = DatasetFactory().versions.get()
    foreign_item = ItemFactory(dataset_version=foreign_version)
    foreign_split = foreign_version.splits.first()
    url = move_url(version, splits["valid"])
    cases = [
        ({"item_ids": [str(foreign_item.pk)]}, 404),
        ({"item_ids": ["nope"]}, 400),
        ({"item_ids": [str(item.pk)], "filters": {}}, 400),
        ({}, 400),
        ({"filters": {"colour": "red"}}, 400),
        ({"filters": {"labelId": "nope"}}, 400),
        ({"filters": {"name": ["x"]}}, 400),
        ({"filters": []}, 400),
        ({"item_ids": [str(item.pk)], "from_split": str(foreign_split.pk)}, 404),
    ]
    before = snapshot()
    for body, code in cases:
        response = api.post(url, body, format="json")
        assert response.status_code == code, (body, response.json())
        assert response.json()["message"]
    assert snapshot() == before
    foreign_target = reverse(
        "split-move",
        kwargs={
            "dataset_id": version.dataset_id,
            "version_id": version.pk,
            "split_id": foreign_split.pk,
        },
    )
    assert api.post(foreign_target, {"item_ids": [str(item.pk)]}, format="json").status_code == 404


def test_api_move_needs_an_editor(user, version, splits):
    annotator = UserFactory()
    share(version.dataset, annotator, Role.ANNOTATOR)
    item = ItemFactory(dataset_version=version, splits=[splits["train"]])
    response = client_for(annotator).post(
        move_url(version, splits["valid"]), {"item_ids": [str(item.pk)]}, format="json"
    )
    assert response.status_code == 403
    assert placement(version)[item.pk] == ["train"]


def _by_name(version):
    return {
        name: split
        for name, split in ItemSplit.objects.filter(split__version=version).values_list(
            "item__name", "split__name"
        )
    }


def test_same_seed_over_the_same_files_reimported_elsewhere_splits_the_same(user):
    """Points come from the item name (unique in the version), not from the item id."""
    names = [f"img_{i:03d}.jpg" for i in range(60)]
    first = DatasetFactory(owner=user).versions.get()
    second = DatasetFactory(owner=user).versions.get()
    for n in names:
        ItemFactory(dataset_version=first, name=n)
    for n in reversed(names):  # other ids, other creation order
        ItemFactory(dataset_version=second, name=n)
    for version in (first, second):
        items_assign_to_splits(version=version, ratios=RATIOS, seed="s1")
    assert _by_name(first) == _by_name(second)
    assert len(set(_by_name(first).values())) == 3  # not everything in one split
    other_seed = DatasetFactory(owner=user).versions.get()
    for n in names:
        ItemFactory(dataset_version=other_seed, name=n)
    items_assign_to_splits(version=other_seed, ratios=RATIOS, seed="s2")
    assert _by_name(other_seed) != _by_name(first)


def test_items_with_a_duplicated_name_fall_back_to_their_id(version):
    from labels.services.assignment import stable_keys

    a = ItemFactory(dataset_version=version, name="same.jpg")
    b = ItemFactory(dataset_version=version, name="same.jpg")
    c = ItemFactory(dataset_version=version, name="only.jpg")
    d = ItemFactory(dataset_version=version, name="")
    rows = [(i.pk, i.name, "") for i in (a, b, c, d)]
    assert stable_keys(version, rows) == {
        a.pk: f"id:{a.pk}",
        b.pk: f"id:{b.pk}",
        c.pk: "name:only.jpg",
        d.pk: f"id:{d.pk}",
    }
