"""The "Reconcile statistics" action, on the statistics and on the datasets."""

from labels.models import LabelStat
from seeme.models import Dataset
from tests.admin.conftest import admin_url, build_world
from tests.conftest import assert_stats_exact


def corrupt(split, label):
    """Make one row lie, as a bug or a manual SQL edit would."""
    LabelStat.objects.filter(split=split, label=label).update(item_count=7, count=7)


def run(client, model, action, objs):
    return client.post(
        admin_url(model, "changelist"),
        {"action": action, "_selected_action": [str(o.pk) for o in objs]},
        follow=True,
    )


def test_reconcile_on_statistics_fixes_the_drifted_rows_and_says_which(manager, world):
    corrupt(world.train, world.dog)
    rows = LabelStat.objects.filter(split=world.train)
    response = run(manager, LabelStat, "reconcile_statistics", rows)
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1
    assert "Fixed 1 statistics rows in 1 splits" in messages[0]
    assert "pets a / v1 / train [dog]: 7 items, 0 annotations → 0 items" in messages[0]
    assert_stats_exact()


def test_reconcile_on_datasets_touches_only_the_selected_ones(manager, world, other_user):
    other = build_world(other_user, tag="b")
    corrupt(world.valid, world.cat)
    corrupt(other.valid, other.cat)
    response = run(manager, Dataset, "reconcile_statistics", [world.dataset])
    assert "Fixed 1 statistics rows" in str(list(response.context["messages"])[0])
    assert LabelStat.objects.get(split=world.valid, label=world.cat).item_count == 0
    assert LabelStat.objects.get(split=other.valid, label=other.cat).item_count == 7


def test_reconcile_of_exact_statistics_says_so(manager, world):
    response = run(manager, Dataset, "reconcile_statistics", [world.dataset])
    assert [str(m) for m in response.context["messages"]] == [
        "The statistics were exact: nothing to fix."
    ]
