"""``labels.stats.StatsDelta`` in memory: how (item, split) transitions become row deltas.

No database: ``apply()`` is covered by the property and concurrency tests; here each rule of
the module docstring is checked on its own.
"""

import uuid
from collections import Counter

from labels.models import LabelStat
from labels.stats import StatsDelta

Kind = LabelStat.Kind
SPLIT = uuid.uuid4()
OTHER = uuid.uuid4()
CAT, DOG = uuid.uuid4(), uuid.uuid4()


def test_an_empty_delta_has_no_rows():
    assert StatsDelta().nonzero() == {}


def test_joining_a_split_without_annotations_counts_an_unlabelled_item():
    delta = StatsDelta()
    delta.change(SPLIT, None, Counter())
    assert delta.nonzero() == {
        (SPLIT, Kind.TOTAL, None): (0, 1),
        (SPLIT, Kind.UNLABELLED, None): (0, 1),
    }


def test_annotations_count_per_label_and_in_the_total():
    delta = StatsDelta()
    delta.change(SPLIT, None, Counter({CAT: 2, DOG: 1}))
    assert delta.nonzero() == {
        (SPLIT, Kind.TOTAL, None): (3, 1),
        (SPLIT, Kind.LABEL, CAT): (2, 1),
        (SPLIT, Kind.LABEL, DOG): (1, 1),
    }


def test_labelling_an_unlabelled_item_moves_it_out_of_the_bucket():
    delta = StatsDelta()
    delta.change(SPLIT, Counter(), Counter({CAT: 1}))
    assert delta.nonzero() == {
        (SPLIT, Kind.TOTAL, None): (1, 0),
        (SPLIT, Kind.UNLABELLED, None): (0, -1),
        (SPLIT, Kind.LABEL, CAT): (1, 1),
    }


def test_a_transition_to_the_same_state_cancels_out():
    delta = StatsDelta()
    state = Counter({CAT: 1, DOG: 2})
    delta.change(SPLIT, state, Counter(state))
    assert delta.nonzero() == {}


def test_zero_counts_in_a_state_are_not_label_rows():
    delta = StatsDelta()
    delta.change(SPLIT, None, Counter({CAT: 0}))
    assert delta.nonzero() == {
        (SPLIT, Kind.TOTAL, None): (0, 1),
        (SPLIT, Kind.UNLABELLED, None): (0, 1),
    }


def test_moving_an_item_between_splits_is_minus_here_plus_there():
    delta = StatsDelta()
    state = Counter({DOG: 1})
    delta.change(SPLIT, state, None)
    delta.change(OTHER, None, state)
    assert delta.nonzero() == {
        (SPLIT, Kind.TOTAL, None): (-1, -1),
        (SPLIT, Kind.LABEL, DOG): (-1, -1),
        (OTHER, Kind.TOTAL, None): (1, 1),
        (OTHER, Kind.LABEL, DOG): (1, 1),
    }


def test_aggregate_adds_accumulate_with_transitions():
    delta = StatsDelta()
    delta.add(SPLIT, Kind.LABEL, CAT, annotations=5, items=3)
    delta.change(SPLIT, None, Counter({CAT: 1}))
    delta.add(SPLIT, Kind.TOTAL, None, annotations=-1, items=-1)
    assert delta.nonzero() == {(SPLIT, Kind.LABEL, CAT): (6, 4)}


def test_apply_of_an_empty_delta_touches_nothing():
    """No transaction and no query are needed to apply nothing."""
    assert StatsDelta().apply() == 0
