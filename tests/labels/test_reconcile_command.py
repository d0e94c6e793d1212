"""manage.py reconcile_label_stats: finds rows corrupted on purpose, prints expected vs
stored, fixes them (not with --dry-run), and can be scoped to one dataset."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from labels.models import LabelStat
from labels.selectors import label_stats_drift
from tests.conftest import assert_stats_exact
from tests.factories import AnnotationFactory, DatasetFactory, ItemFactory, LabelFactory

Kind = LabelStat.Kind


def _annotated_dataset(owner, name: str):
    dataset = DatasetFactory(owner=owner, name=name)
    version = dataset.versions.get()
    train = version.splits.get(name="train")
    cat = LabelFactory(version=version, name="cat")
    for n in range(3):
        item = ItemFactory(dataset_version=version, splits=[train])
        if n:
            AnnotationFactory(item=item, split=train, label=cat)
    return dataset, train, cat


def _corrupt(train, cat) -> None:
    """A label row over-counted, the total row under-counted, the unlabelled row gone."""
    LabelStat.objects.filter(split=train, label=cat).update(
        annotation_count=7, item_count=5, count=5
    )
    LabelStat.objects.filter(split=train, kind=Kind.TOTAL).update(annotation_count=0)
    LabelStat.objects.filter(split=train, kind=Kind.UNLABELLED).delete()


def _run(*args) -> str:
    out = StringIO()
    call_command("reconcile_label_stats", *args, stdout=out)
    return out.getvalue()


def test_dry_run_reports_expected_vs_stored_and_changes_nothing(user):
    dataset, train, cat = _annotated_dataset(user, "pets")
    _corrupt(train, cat)
    out = _run("--dry-run")
    assert "label 'cat'" in out
    assert "expected annotations=2 items=2, stored annotations=7 items=5" in out
    assert "total row: expected annotations=2 items=3, stored annotations=0 items=3" in out
    assert "unlabelled row: expected annotations=0 items=1, stored missing" in out
    assert "3 drifted row(s)" in out and "nothing changed" in out
    assert len(label_stats_drift(split_ids=[train.pk])) == 3


def test_fixes_every_drifted_row_then_finds_none(user):
    dataset, train, cat = _annotated_dataset(user, "pets")
    _corrupt(train, cat)
    assert "Fixed 3 drifted row(s)" in _run()
    assert_stats_exact()
    assert LabelStat.objects.get(split=train, kind=Kind.UNLABELLED).item_count == 1
    assert "No drift" in _run()


def test_dataset_option_limits_the_repair_to_that_dataset(user):
    pets, pets_train, pets_cat = _annotated_dataset(user, "pets")
    birds, birds_train, birds_cat = _annotated_dataset(user, "birds")
    _corrupt(pets_train, pets_cat)
    _corrupt(birds_train, birds_cat)
    out = _run("--dataset", str(pets.pk))
    assert "pets / v1 / train" in out and "birds" not in out
    assert label_stats_drift(split_ids=[pets_train.pk]) == []
    assert len(label_stats_drift(split_ids=[birds_train.pk])) == 3


@pytest.mark.parametrize("value", ["not-a-uuid", "7c7e1c1e-0000-4000-8000-000000000000"])
def test_unknown_or_malformed_dataset_is_an_error(db, value):
    with pytest.raises(CommandError):
        _run("--dataset", value)
