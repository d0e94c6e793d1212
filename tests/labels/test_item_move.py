"""labels.services.item_move_to_split: an item changes split with its annotations there."""

import pytest

from labels import services
from labels.models import Annotation, LabelStat
from seeme.exceptions import InvalidInput, NotFound
from splits.models import ItemSplit
from tests.conftest import assert_stats_exact
from tests.factories import AnnotationFactory, DatasetFactory, ItemFactory, LabelFactory


@pytest.fixture
def cat(version):
    return LabelFactory(version=version, name="cat")


def test_move_carries_the_annotations_and_the_numbers(version, splits, cat):
    item = ItemFactory(dataset_version=version, splits=[splits["train"], splits["valid"]])
    AnnotationFactory(item=item, split=splits["train"], label=cat, coordinates="1,2,3,4")
    AnnotationFactory(item=item, split=splits["train"], label=cat, coordinates="5,6,7,8")
    AnnotationFactory(item=item, split=splits["valid"], label=cat)

    assert services.item_move_to_split(
        item=item, from_split=splits["train"], to_split=splits["test"]
    )

    assert set(ItemSplit.objects.filter(item=item).values_list("split__name", flat=True)) == {
        "valid",
        "test",
    }
    by_split = sorted(Annotation.objects.filter(item=item).values_list("split__name", flat=True))
    assert by_split == ["test", "test", "valid"]
    test_cat = LabelStat.objects.get(split=splits["test"], label=cat)
    assert (test_cat.item_count, test_cat.annotation_count) == (1, 2)
    train_total = LabelStat.objects.get(split=splits["train"], kind="total")
    assert (train_total.item_count, train_total.annotation_count) == (0, 0)
    assert_stats_exact()


def test_moving_to_the_same_split_changes_nothing(version, splits):
    item = ItemFactory(dataset_version=version, splits=[splits["train"]])
    assert not services.item_move_to_split(
        item=item, from_split=splits["train"], to_split=splits["train"]
    )
    assert ItemSplit.objects.get(item=item).split == splits["train"]


def test_moving_from_a_split_the_item_is_not_in_is_not_found(version, splits):
    item = ItemFactory(dataset_version=version, splits=[splits["train"]])
    with pytest.raises(NotFound):
        services.item_move_to_split(item=item, from_split=splits["valid"], to_split=splits["test"])
    assert_stats_exact()


def test_moving_into_a_split_the_item_is_already_in_is_refused(version, splits, cat):
    item = ItemFactory(dataset_version=version, splits=[splits["train"], splits["valid"]])
    AnnotationFactory(item=item, split=splits["train"], label=cat)
    with pytest.raises(InvalidInput, match="already in the split 'valid'"):
        services.item_move_to_split(item=item, from_split=splits["train"], to_split=splits["valid"])
    assert Annotation.objects.get(item=item).split == splits["train"]
    assert_stats_exact()


def test_moving_to_a_split_of_another_version_is_refused(version, splits, user):
    other = DatasetFactory(owner=user).versions.get().splits.get(name="test")
    item = ItemFactory(dataset_version=version, splits=[splits["train"]])
    with pytest.raises(InvalidInput):
        services.item_move_to_split(item=item, from_split=splits["train"], to_split=other)
    assert ItemSplit.objects.get(item=item).split == splits["train"]
    assert_stats_exact()
