"""The pure split-assignment algorithm (labels.assignment): no database."""

import math
import random
from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labels.assignment import (
    ItemRecord,
    RatioError,
    group_key,
    largest_remainder,
    parse_ratios,
    plan_assignment,
    unit_point,
)

THREE = [("train", 0.8), ("valid", 0.1), ("test", 0.1)]


def records(n, labels=None, prefix="i"):
    return [
        ItemRecord(key=f"{prefix}{i}", labels=frozenset(labels(i)) if labels else frozenset())
        for i in range(n)
    ]


# -- ratios ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "train=0.8,valid=0.1,test=0.1",
        {"train": 0.8, "valid": 0.1, "test": 0.1},
        [
            {"split": "train", "ratio": 0.8},
            {"name": "valid", "ratio": 0.1},
            {"split": "test", "ratio": 0.1},
        ],
    ],
)
def test_ratios_in_every_accepted_form(value):
    assert parse_ratios(value) == THREE


@pytest.mark.parametrize(
    "value, fragment",
    [
        ({"train": 0.8, "valid": 0.3}, "add up to 1"),
        ({"train": 1.2, "valid": -0.2}, "from 0 to 1"),
        ({"train": "0.5", "valid": 0.5}, "must be a number"),
        ({"train": True}, "must be a number"),
        ({"train": math.nan, "valid": 1.0}, "from 0 to 1"),
        ({}, "at least one"),
        ("train=0.5,train=0.5", "named twice"),
        ("train:1", "name=ratio"),
        ("train=x", "not a number"),
        ({"": 1.0}, "split name"),
        (42, "object"),
    ],
)
def test_bad_ratios_are_refused_with_a_reason(value, fragment):
    with pytest.raises(RatioError) as exc:
        parse_ratios(value)
    assert fragment in str(exc.value).lower() or any(
        fragment in e.lower() for e in exc.value.errors
    )


def test_largest_remainder_gives_floor_or_ceiling_and_the_exact_total():
    shares = largest_remainder(7, [0.8, 0.1, 0.1])
    assert sum(shares) == 7
    assert shares == [5, 1, 1]  # 5.6, 0.7, 0.7: the two largest remainders win
    assert largest_remainder(0, [0.5, 0.5]) == [0, 0]


# -- unstratified -----------------------------------------------------------------------------


def test_same_seed_same_answer_whatever_the_input_order():
    items = records(300)
    first = plan_assignment(items, THREE, seed="s1")
    shuffled = list(items)
    random.Random(4).shuffle(shuffled)
    assert plan_assignment(shuffled, THREE, seed="s1") == first
    assert plan_assignment(items, THREE, seed="s2") != first


def test_items_added_later_do_not_move_earlier_ones():
    before = plan_assignment(records(200), THREE, seed="x")
    after = plan_assignment(records(200) + records(150, prefix="new"), THREE, seed="x")
    assert {k: after[k] for k in before} == before


def test_points_follow_the_ratios_roughly():
    counts = Counter(plan_assignment(records(5000), THREE, seed="").values())
    assert 3800 < counts["train"] < 4200
    assert 380 < counts["valid"] < 620 and 380 < counts["test"] < 620


def test_a_zero_ratio_split_gets_nothing():
    counts = Counter(
        plan_assignment(records(500), [("a", 0.5), ("b", 0.0), ("c", 0.5)], seed="z").values()
    )
    assert counts["b"] == 0 and counts["a"] + counts["c"] == 500


def test_unit_point_is_in_the_unit_interval():
    assert all(0 <= unit_point("s", str(i)) < 1 for i in range(100))


# -- stratified -------------------------------------------------------------------------------


def assert_within_one(plan, items, ratios):
    per_label = defaultdict(Counter)
    sizes = Counter()
    for item in items:
        (label,) = item.labels or {""}
        per_label[label][plan[item.key]] += 1
        sizes[label] += 1
    for label, counts in per_label.items():
        for name, ratio in ratios:
            assert abs(counts[name] - ratio * sizes[label]) < 1 + 1e-9, (label, name, counts)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=6),
    weights=st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=4).filter(
        lambda w: sum(w) > 0
    ),
    seed=st.text(max_size=5),
)
def test_stratified_each_label_within_one_item_of_its_ratio(sizes, weights, seed):
    ratios = [(f"s{i}", w / sum(weights)) for i, w in enumerate(weights)]
    items = [
        ItemRecord(key=f"{label}-{i}", labels=frozenset({f"L{label}"}))
        for label, n in enumerate(sizes)
        for i in range(n)
    ]
    plan = plan_assignment(items, ratios, seed=seed, stratify=True)
    assert set(plan) == {i.key for i in items}
    assert_within_one(plan, items, ratios)


def test_stratified_unlabelled_items_form_their_own_stratum():
    items = records(37, labels=lambda i: {"cat"} if i % 2 else set())
    plan = plan_assignment(items, THREE, seed="u", stratify=True)
    assert_within_one(plan, items, THREE)


def test_a_multi_label_item_is_placed_by_its_rarest_label():
    # 'rare' is carried by 10 items, 'common' by 90: items with both count as 'rare'.
    items = [ItemRecord(key=f"c{i}", labels=frozenset({"common"})) for i in range(80)] + [
        ItemRecord(key=f"b{i}", labels=frozenset({"common", "rare"})) for i in range(10)
    ]
    plan = plan_assignment(items, [("a", 0.5), ("b", 0.5)], seed="m", stratify=True)
    both = Counter(plan[f"b{i}"] for i in range(10))
    assert both == Counter({"a": 5, "b": 5})


def test_stratified_unassigned_fills_the_splits_that_are_short():
    old = [
        ItemRecord(key=f"o{i}", labels=frozenset({"cat"}), current=("train",), fixed=True)
        for i in range(8)
    ]
    new = [ItemRecord(key=f"n{i}", labels=frozenset({"cat"})) for i in range(2)]
    plan = plan_assignment(old + new, THREE, seed="f", stratify=True)
    assert set(plan) == {"n0", "n1"}
    assert Counter(plan.values()) == Counter({"valid": 1, "test": 1})


# -- groups -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stratify", [False, True])
def test_a_group_never_spans_two_splits(stratify):
    items = [
        ItemRecord(key=f"{g}-{i}", group=f"g:{g}", labels=frozenset({"a" if g % 3 else "b"}))
        for g in range(60)
        for i in range(1 + g % 4)
    ]
    plan = plan_assignment(items, THREE, seed="g", stratify=stratify)
    by_group = defaultdict(set)
    for item in items:
        by_group[item.group].add(plan[item.key])
    assert all(len(splits) == 1 for splits in by_group.values())
    assert len(set(plan.values())) == 3


def test_new_members_join_the_split_their_group_already_lives_in():
    items = [
        ItemRecord(key="old", group="g:p1", current=("valid",), fixed=True),
        ItemRecord(key="new1", group="g:p1"),
        ItemRecord(key="new2", group="g:p1"),
    ]
    for stratify in (False, True):
        assert plan_assignment(items, THREE, seed="", stratify=stratify) == {
            "new1": "valid",
            "new2": "valid",
        }


def test_group_keys():
    kw = {"item_key": "id1", "group": "", "separator": "_"}
    assert group_key(name="p12_scan3.jpg", group_by="name_prefix", **kw) == "g:p12"
    assert group_key(name="plain.jpg", group_by="name_prefix", **kw) == "g:plain.jpg"
    assert group_key(name="", group_by="name_prefix", **kw) == "i:id1"
    assert group_key(name="x_y", group_by="none", **kw) == "i:id1"
    assert (
        group_key(name="x", group_by="field", item_key="id1", group="pat", separator="_") == "g:pat"
    )
    assert group_key(name="x", group_by="field", item_key="id1", group="", separator="_") == "i:id1"
