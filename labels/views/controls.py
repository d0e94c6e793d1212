"""What the label panel of the item page shows: the split being labelled, the label
buttons with their keys, the item's labels there, its state, the split's counts, and the
links that walk the browser's list."""

from django.http import QueryDict

from labels.models import Annotation, Label, LabelStat
from labels.views.walk import item_url, neighbour
from seeme.models import Item, ItemState, Version
from seeme.selectors import Rank
from splits.models import DatasetSplit

# States offered by the pages; the API accepts any state (up to 64 characters).
ITEM_STATES = (
    ("todo", "To do"),
    ("in_progress", "In progress"),
    ("labelled", "Labelled"),
    ("reviewed", "Reviewed"),
    ("rejected", "Rejected"),
)
STATE_NAMES = dict(ITEM_STATES)


def digit_key(position: int) -> str:
    """The digit key of the label at ``position`` (0-based): 1..9, then 0; "" after 10."""
    if position < 9:
        return str(position + 1)
    return "0" if position == 9 else ""


def label_buttons(labels: list[Label]) -> list[dict]:
    buttons = []
    for position, label in enumerate(labels):
        digit = digit_key(position)
        shortcut = (label.shortcut or "").strip()
        buttons.append(
            {
                "label": label,
                "digit": digit,
                "shortcut": shortcut,
                # accesskey: the keyboard path without JavaScript (Alt+key in most browsers)
                "accesskey": digit or (shortcut if len(shortcut) == 1 else ""),
            }
        )
    return buttons


def working_split(splits: list[DatasetSplit], member_of: set, query: str) -> DatasetSplit | None:
    """The split labels go to: the browser's split filter when the item is in it, else the
    first split (in the version's order) the item is in."""
    chosen = QueryDict(query).get("splitId")
    for split in splits:
        if str(split.pk) == chosen and split.pk in member_of:
            return split
    return next((s for s in splits if s.pk in member_of), None)


def split_counts(split: DatasetSplit, labels: list[Label]) -> dict:
    """The split's numbers from its LabelStat rows (one query): per label, unlabelled, total."""
    rows = {
        (kind, label_id): count
        for kind, label_id, count in LabelStat.objects.filter(split=split).values_list(
            "kind", "label_id", "item_count"
        )
    }
    return {
        "labels": [(label, rows.get((LabelStat.Kind.LABEL, label.pk), 0)) for label in labels],
        "unlabelled": rows.get((LabelStat.Kind.UNLABELLED, None), 0),
        "total": rows.get((LabelStat.Kind.TOTAL, None), 0),
    }


def label_controls(
    *,
    version: Version,
    item: Item,
    splits: list[DatasetSplit],
    labels: list[Label],
    member_of: set,
    annotations: list[Annotation],
    query: str,
) -> dict:
    """The context of ``labels/_label_controls.html`` and ``labels/_item_states.html``."""
    split = working_split(splits, member_of, query)
    state = ItemState.objects.filter(item=item).only("state", "version", "updated_at").first()
    previous = neighbour(version, item, query, forward=False)
    following = neighbour(version, item, query)
    unlabelled = neighbour(version, item, query, unlabelled_only=True)
    return {
        "can_annotate": version.rank >= Rank.ANNOTATOR,
        "split": split,
        "other_splits": [s for s in splits if s.pk in member_of and s != split],
        "move_targets": splits,
        "buttons": label_buttons(labels),
        "current": [a for a in annotations if split is not None and a.split_id == split.pk],
        "state": state,
        "state_name": STATE_NAMES.get(state.state, state.state) if state else "",
        "states": ITEM_STATES,
        "counts": split_counts(split, labels) if split is not None else None,
        "query": query,
        "previous_url": item_url(version, previous.pk, query) if previous else None,
        "next_url": item_url(version, following.pk, query) if following else None,
        "next_unlabelled_url": item_url(version, unlabelled.pk, query) if unlabelled else None,
    }
