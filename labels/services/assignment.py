"""Bulk split writes: assign items to splits by ratio, move items between splits.

Both are one transaction under the version's exclusive lock (a bulk write should not
interleave with item-level writers), plan every change in memory, then write it in a fixed
number of set-based statements per 900 rows and move the statistics with one ``StatsDelta``.

Moving an item into a split carries its annotations from the splits it leaves: they are
re-pointed, not copied. Identical annotations (same label and coordinates) collapse into
one; on a single-label dataset the newest whole-item annotation that moves in replaces the
item's other whole-item annotations there (the rule of ``annotation_create``).
"""

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet

from labels.assignment import ItemRecord, RatioError, group_key, parse_ratios, plan_assignment
from labels.filtersets import ItemFilterSet
from labels.models import Annotation, LabelStat
from labels.selectors.stats import CountsTable, counts_change
from labels.services._locks import _lock_exclusive
from labels.services._moves import (
    ANNOTATION_FIELDS,
    _annotations,
    _apply_moves,
    _chunks,
    _memberships,
    _plan_moves,
)
from seeme.db import atomic_write
from seeme.exceptions import Conflict, InvalidInput, NotFound
from seeme.models import Item, Version
from splits.models import DatasetSplit, ItemSplit

SCOPES = ("all", "unassigned")
GROUP_BY = ("none", "name_prefix", "field")
MAX_MOVE_IDS = 10_000

Kind = LabelStat.Kind


# -- assignment by ratio ------------------------------------------------------------------


@dataclass
class AssignmentResult:
    """What an assignment did (or, for a dry run, would do)."""

    dry_run: bool
    considered: int
    moved: int
    unchanged: int
    before: CountsTable
    after: CountsTable

    def fingerprint(self) -> str:
        """A digest of what the plan does (counts moved and every split's numbers after):
        a preview and the run it approves must agree on it."""
        body = {k: v for k, v in self.as_dict().items() if k != "dry_run"}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "considered": self.considered,
            "moved": self.moved,
            "unchanged": self.unchanged,
            "splits": counts_change(self.before, self.after),
        }


def _ratio_splits(version: Version, ratios) -> list[tuple[DatasetSplit, float]]:
    try:
        pairs = parse_ratios(ratios)
    except RatioError as exc:
        raise InvalidInput(str(exc), {"ratios": exc.errors}) from exc
    splits = {s.name: s for s in DatasetSplit.objects.filter(version=version)}
    unknown = [name for name, _ in pairs if name not in splits]
    if unknown:
        raise InvalidInput(
            "This version has no split named " + ", ".join(repr(n) for n in unknown) + ".",
            {"ratios": [f"unknown split {name!r}" for name in unknown]},
        )
    return [(splits[name], ratio) for name, ratio in pairs]


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        message = f"{name} must be one of {', '.join(choices)}."
        raise InvalidInput(message, {name: [message]})


@atomic_write
def items_assign_to_splits(
    *,
    version: Version,
    ratios,
    scope: str = "unassigned",
    stratify: bool = False,
    group_by: str = "none",
    separator: str = "_",
    seed: str = "",
    dry_run: bool = False,
    expect: str | None = None,
) -> AssignmentResult:
    """Place items in the named splits by ratio (see ``labels.assignment`` for the rules).

    ``scope="all"``: every item of the version ends in exactly one of the named splits: it
    leaves every other split (named or not, e.g. a "pool"), and its annotations there move
    with it. ``"unassigned"``: only items in no split are placed; nothing placed before
    moves. An item's point comes from its name when the name is unique in the version, else
    from its id (``stable_keys``). ``dry_run`` plans and reports without writing.
    ``expect``: the ``fingerprint`` of a previewed plan; when the plan made now differs
    (the version changed since), Conflict and nothing is written. One transaction under the
    version's exclusive lock.
    """
    _check_choice("scope", scope, SCOPES)
    _check_choice("group_by", group_by, GROUP_BY)
    if group_by == "name_prefix" and not separator:
        raise InvalidInput(
            "Give the separator that ends a name's group prefix.",
            {"separator": ["required with group_by=name_prefix"]},
        )
    _lock_exclusive(version)
    pairs = _ratio_splits(version, ratios)
    named = {split.pk: split.name for split, _ in pairs}
    by_name = {split.name: split.pk for split, _ in pairs}

    items = Item.objects.filter(dataset_version=version)
    in_a_split = ItemSplit.objects.filter(item=OuterRef("pk"))
    if scope == "unassigned" and group_by == "none" and not stratify:
        # Nothing already placed can influence where a lone new item goes.
        items = items.filter(~Exists(in_a_split))
    rows = list(items.values_list("id", "name", "group"))
    keys = stable_keys(version, rows)
    memberships = _memberships(
        ItemSplit.objects.filter(split__version=version).values_list("pk", "item_id", "split_id")
    )
    labels_of: dict[uuid.UUID, set[str]] = defaultdict(set)
    if stratify:
        for item_id, label_id in (
            Annotation.objects.filter(split__version=version)
            .values_list("item_id", "label_id")
            .distinct()
        ):
            labels_of[item_id].add(str(label_id))

    records = []
    for item_id, name, group in rows:
        current = memberships.get(item_id, {})
        records.append(
            ItemRecord(
                key=str(item_id),
                group=group_key(
                    item_key=keys[item_id],
                    name=name,
                    group=group,
                    group_by=group_by,
                    separator=separator,
                ),
                labels=frozenset(labels_of.get(item_id, ())),
                current=tuple(named[s] for s in current if s in named),
                fixed=scope == "unassigned" and bool(current),
            )
        )
    planned = plan_assignment(
        records, [(s.name, r) for s, r in pairs], seed=str(seed), stratify=stratify
    )
    targets = {uuid.UUID(key): by_name[name] for key, name in planned.items()}
    annotations = (
        _annotations(
            Annotation.objects.filter(split__version=version).values_list(*ANNOTATION_FIELDS)
        )
        if scope == "all"
        else {}
    )
    plan = _plan_moves(
        targets=targets,
        leave=None if scope == "all" else set(named),
        memberships=memberships,
        annotations=annotations,
        multi_label=version.dataset.multi_label,
    )
    before = CountsTable.for_version(version)
    result = AssignmentResult(
        dry_run=dry_run,
        considered=len(targets),
        moved=plan.moved,
        unchanged=plan.unchanged,
        before=before,
        after=before.plus(plan.delta),
    )
    if expect is not None and result.fingerprint() != expect:
        raise Conflict(
            "The version changed since the preview: preview again before applying.",
            {"preview": ["stale"]},
        )
    if not dry_run:
        _apply_moves(plan)
    return result


def stable_keys(version: Version, rows: Sequence[tuple]) -> dict[uuid.UUID, str]:
    """The key each item's point is hashed from: ``name:<name>`` when the name is not empty
    and no other item of the version has it (so the same files imported elsewhere split the
    same way), else ``id:<item id>`` (duplicated or missing names cannot be told apart)."""
    duplicated = set(
        Item.objects.filter(dataset_version=version)
        .exclude(name="")
        .values("name")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("name", flat=True)
    )
    return {
        item_id: (f"name:{name}" if name and name not in duplicated else f"id:{item_id}")
        for item_id, name, _ in rows
    }


# -- bulk move ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MoveResult:
    """``moved``: items whose splits changed; ``unchanged``: already only in the target;
    ``skipped``: selected but not in ``from_split``."""

    moved: int
    unchanged: int
    skipped: int

    def as_dict(self) -> dict:
        return {"moved": self.moved, "unchanged": self.unchanged, "skipped": self.skipped}


FILTER_KEYS = ("splitId", "labelId", "onlyUnlabelled", "name", "state")


def _filtered_item_ids(version: Version, filters: Any) -> list[uuid.UUID]:
    return list(_filtered_items(version, filters).values_list("pk", flat=True))


def items_move_count(
    *, version: Version, item_ids: Sequence[uuid.UUID] | None, filters: dict | None
) -> int:
    """How many items a move selects (ids given, or what the filters select; a bad filter
    is an InvalidInput). Read only: decides whether the move runs as a job."""
    if item_ids is not None:
        return len(set(item_ids))
    if filters is None:
        return 0
    return _filtered_items(version, filters).count()


def _filtered_items(version: Version, filters: Any) -> QuerySet[Item]:
    if not isinstance(filters, dict):
        raise InvalidInput("filters must be an object.", {"filters": ["must be an object"]})
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise InvalidInput(
            "Unknown filters: " + ", ".join(unknown) + f"; use {', '.join(FILTER_KEYS)}.",
            {"filters": [f"unknown filter {k!r}" for k in unknown]},
        )
    data = {}
    for key, value in filters.items():
        if value is None:
            continue
        if not isinstance(value, str | bool | int):
            raise InvalidInput(
                f"The filter {key} must be a string.", {"filters": [f"{key}: must be a string"]}
            )
        data[key] = str(value).lower() if isinstance(value, bool) else str(value)
    filterset = ItemFilterSet(
        data=data,
        queryset=Item.objects.filter(dataset_version=version).order_by(),
        version_id=version.pk,
    )
    if not filterset.is_valid():
        errors = {f"filters.{k}": list(v) for k, v in filterset.errors.items()}
        first = next(iter(errors.items()))
        raise InvalidInput(f"{first[0]}: {first[1][0]}", errors)
    return filterset.qs


@atomic_write
def items_move_to_split(
    *,
    split: DatasetSplit,
    item_ids: Sequence[uuid.UUID] | None = None,
    filters: dict | None = None,
    from_split: DatasetSplit | None = None,
) -> MoveResult:
    """Move items (by id, or every item the item-list filters select) into ``split``.

    Each item leaves ``from_split`` (when given; items not in it are skipped) or else every
    other split it is in, and its annotations there follow it. Unknown item ids are a
    NotFound naming them; nothing is written then. One transaction, exclusive version lock.
    """
    if (item_ids is None) == (filters is None):
        raise InvalidInput(
            "Give either item_ids or filters.", {"item_ids": ["give item_ids or filters, not both"]}
        )
    version = split.version
    _lock_exclusive(version)
    if not DatasetSplit.objects.filter(pk=split.pk, version=version).exists():
        raise NotFound("This split does not exist.")
    if from_split is not None and from_split.version_id != version.pk:
        raise NotFound("The split to move from is not in this version.")
    if item_ids is not None:
        ids = list(dict.fromkeys(item_ids))
        if len(ids) > MAX_MOVE_IDS:
            raise InvalidInput(
                f"At most {MAX_MOVE_IDS} item ids per request; use filters.",
                {"item_ids": [f"at most {MAX_MOVE_IDS}"]},
            )
        found: set[uuid.UUID] = set()
        for chunk in _chunks(ids):
            found.update(
                Item.objects.filter(dataset_version=version, pk__in=chunk).values_list(
                    "pk", flat=True
                )
            )
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise NotFound(
                "Some items do not exist in this version: " + ", ".join(missing[:20]),
                {"item_ids": [f"unknown item {m}" for m in missing]},
            )
    else:
        ids = _filtered_item_ids(version, filters)
    rows: list[tuple] = []
    annotation_rows: list[tuple] = []
    for chunk in _chunks(ids):
        rows.extend(
            ItemSplit.objects.filter(item_id__in=chunk).values_list("pk", "item_id", "split_id")
        )
        annotation_rows.extend(
            Annotation.objects.filter(item_id__in=chunk).values_list(*ANNOTATION_FIELDS)
        )
    memberships = _memberships(rows)
    selected = ids
    if from_split is not None:
        selected = [i for i in ids if from_split.pk in memberships.get(i, {})]
    plan = _plan_moves(
        targets={i: split.pk for i in selected},
        leave={from_split.pk} if from_split is not None else None,
        memberships=memberships,
        annotations=_annotations(annotation_rows),
        multi_label=version.dataset.multi_label,
    )
    _apply_moves(plan)
    return MoveResult(moved=plan.moved, unchanged=plan.unchanged, skipped=len(ids) - len(selected))
