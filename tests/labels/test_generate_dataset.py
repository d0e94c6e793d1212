"""manage.py generate_dataset and the bulk load under it: realistic data, exact stats."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from labels.models import Annotation, Label, LabelStat
from labels.services import NewItem, items_bulk_create
from seeme.exceptions import InvalidInput
from seeme.models import Dataset, Item
from tests.conftest import assert_stats_exact
from tests.factories import LabelFactory

Kind = LabelStat.Kind


def _generate(*args) -> Dataset:
    out = StringIO()
    call_command("generate_dataset", *args, stdout=out)
    assert "items in" in out.getvalue()
    return Dataset.objects.order_by("-created_at").first()


def _per_item_split(version) -> dict:
    """{(item, split): [coordinates of each annotation]} over the version."""
    found: dict = {}
    for item_id, split_id, coordinates in Annotation.objects.filter(
        split__version=version
    ).values_list("item_id", "split_id", "coordinates"):
        found.setdefault((item_id, split_id), []).append(coordinates)
    return found


def test_generates_a_skewed_single_label_dataset_with_exact_stats(user):
    dataset = _generate(
        "--items",
        "600",
        "--labels",
        "5",
        "--splits",
        "train=0.8,valid=0.1,test=0.1",
        "--unlabelled",
        "0.1",
        "--chunk",
        "170",
        "--owner",
        user.username,
        "--seed",
        "3",
    )
    version = dataset.versions.get()
    assert dataset.owner == user and not dataset.multi_label
    splits = {s.name: s for s in version.splits.all()}
    assert set(splits) == {"train", "valid", "test"}
    assert Item.objects.filter(dataset_version=version).count() == 600
    assert_stats_exact([s.pk for s in splits.values()])
    totals = {
        name: LabelStat.objects.get(split=s, kind=Kind.TOTAL).item_count
        for name, s in splits.items()
    }
    assert sum(totals.values()) == 600 and totals["train"] > totals["valid"] > 0
    unlabelled = sum(
        LabelStat.objects.filter(split__version=version, kind=Kind.UNLABELLED).values_list(
            "item_count", flat=True
        )
    )
    assert 20 < unlabelled < 110
    per_label = Counter(
        Annotation.objects.filter(split__version=version, coordinates="").values_list(
            "label__name", flat=True
        )
    )
    assert len(per_label) == 5
    assert per_label.most_common()[0][1] > 3 * per_label.most_common()[-1][1]  # Zipf
    pairs = _per_item_split(version)
    assert any(len(coords) > 1 for coords in pairs.values())  # some multi-annotation items
    assert all(coords.count("") <= 1 for coords in pairs.values())  # single-label rule


def test_multi_label_items_get_several_whole_item_labels(user):
    dataset = _generate(
        "--items",
        "300",
        "--labels",
        "4",
        "--multi-label",
        "--multi",
        "0.5",
        "--splits",
        "train=0.5,test=0.5",
        "--owner",
        user.username,
    )
    version = dataset.versions.get()
    assert dataset.multi_label
    assert_stats_exact(list(version.splits.values_list("id", flat=True)))
    assert any(coords.count("") > 1 for coords in _per_item_split(version).values())


@pytest.mark.parametrize(
    "args",
    [
        ["--items", "10", "--splits", "train=0.5,valid=0.2"],
        ["--items", "10", "--splits", "train"],
        ["--items", "10", "--owner", "nobody-by-this-name"],
        ["--items", "10", "--unlabelled", "1.5"],
    ],
)
def test_bad_options_are_errors_and_create_nothing(db, args):
    with pytest.raises(CommandError):
        call_command("generate_dataset", *args, stdout=StringIO())
    assert not Dataset.objects.exists()


def test_bulk_load_checks_everything_before_writing(version, splits):
    cat = LabelFactory(version=version, name="cat")
    train, valid = splits["train"], splits["valid"]
    good = NewItem(name="ok", split_ids=(train.pk,), annotations=((train.pk, cat.pk, ""),))
    outside = NewItem(name="outside", split_ids=(train.pk,), annotations=((valid.pk, cat.pk, ""),))
    twice = NewItem(
        name="twice",
        split_ids=(train.pk,),
        annotations=((train.pk, cat.pk, ""), (train.pk, cat.pk, "")),
    )
    foreign_label = NewItem(
        name="foreign", split_ids=(train.pk,), annotations=((train.pk, Label().pk, ""),)
    )
    for bad in (outside, twice, foreign_label):
        with pytest.raises(InvalidInput):
            items_bulk_create(version=version, user=None, items=[good, bad])
    assert not Item.objects.filter(dataset_version=version).exists()
    ids = items_bulk_create(version=version, user=None, items=[good, good])
    assert len(ids) == 2
    assert LabelStat.objects.get(split=train, label=cat).item_count == 2
    assert_stats_exact([train.pk, valid.pk])
