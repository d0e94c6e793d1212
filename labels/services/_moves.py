"""The move engine of the bulk split writes (``labels.services.assignment``): plan in memory
which memberships and annotations a move of items between splits creates, re-points or
deletes, with the ``StatsDelta`` it makes; then write the plan in a fixed number of
set-based statements per ``CHUNK`` rows."""

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from labels.models import Annotation
from labels.stats import StatsDelta
from splits.models import ItemSplit

CHUNK = 900
BULK_BATCH = 2000


def _chunks(values: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# -- the move engine ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Ann:
    pk: uuid.UUID
    label_id: uuid.UUID
    coordinates: str
    created_at: datetime


@dataclass
class _MovePlan:
    delta: StatsDelta = field(default_factory=StatsDelta)
    membership_deletes: list = field(default_factory=list)
    membership_creates: list = field(default_factory=list)
    repoint: dict = field(default_factory=lambda: defaultdict(list))
    annotation_deletes: list = field(default_factory=list)
    moved: int = 0
    unchanged: int = 0


def _memberships(rows: Iterable[tuple]) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
    """``{item_id: {split_id: ItemSplit pk}}`` from (pk, item_id, split_id) rows."""
    result: dict[uuid.UUID, dict[uuid.UUID, int]] = defaultdict(dict)
    for pk, item_id, split_id in rows:
        result[item_id][split_id] = pk
    return result


def _annotations(rows: Iterable[tuple]) -> dict[tuple, list[_Ann]]:
    """``{(item_id, split_id): [annotation]}`` from (pk, item, split, label, coords, created)."""
    result: dict[tuple, list[_Ann]] = defaultdict(list)
    for pk, item_id, split_id, label_id, coordinates, created_at in rows:
        result[(item_id, split_id)].append(_Ann(pk, label_id, coordinates, created_at))
    return result


ANNOTATION_FIELDS = ("pk", "item_id", "split_id", "label_id", "coordinates", "created_at")


def _plan_moves(
    *,
    targets: dict[uuid.UUID, uuid.UUID],
    leave: set[uuid.UUID] | None,
    memberships: dict[uuid.UUID, dict[uuid.UUID, int]],
    annotations: dict[tuple, list[_Ann]],
    multi_label: bool,
) -> _MovePlan:
    """Plan moving each item into its target split, out of the splits in ``leave`` (every
    other split when None). Items already where they belong count as unchanged."""
    plan = _MovePlan()
    for item_id, target in targets.items():
        current = memberships.get(item_id, {})
        sources = [s for s in current if s != target and (leave is None or s in leave)]
        in_target = target in current
        if in_target and not sources:
            plan.unchanged += 1
            continue
        plan.moved += 1
        existing = annotations.get((item_id, target), []) if in_target else []
        incoming = sorted(
            (a for s in sources for a in annotations.get((item_id, s), [])),
            key=lambda a: (a.created_at, str(a.pk)),
        )
        dropped: set[uuid.UUID] = set()
        incoming_whole = [a for a in incoming if not a.coordinates]
        if not multi_label and incoming_whole:
            winner = incoming_whole[-1]
            dropped |= {a.pk for a in existing if not a.coordinates}
            dropped |= {a.pk for a in incoming_whole if a.pk != winner.pk}
        seen = {(a.label_id, a.coordinates) for a in existing if a.pk not in dropped}
        kept_incoming = []
        for a in incoming:
            if a.pk in dropped:
                continue
            if (a.label_id, a.coordinates) in seen:
                dropped.add(a.pk)
                continue
            seen.add((a.label_id, a.coordinates))
            kept_incoming.append(a)
        for source in sources:
            before = Counter(a.label_id for a in annotations.get((item_id, source), []))
            plan.delta.change(source, before, None)
            plan.membership_deletes.append(current[source])
        after = Counter(a.label_id for a in existing if a.pk not in dropped)
        after.update(a.label_id for a in kept_incoming)
        before_target = Counter(a.label_id for a in existing) if in_target else None
        plan.delta.change(target, before_target, after)
        if not in_target:
            plan.membership_creates.append((item_id, target))
        plan.repoint[target].extend(a.pk for a in kept_incoming)
        plan.annotation_deletes.extend(dropped)
    return plan


def _apply_moves(plan: _MovePlan) -> None:
    """Write a planned move (inside the caller's transaction) and move the statistics."""
    now = timezone.now()
    deletes = sorted(plan.annotation_deletes, key=str)
    for chunk in _chunks(deletes):
        Annotation.objects.filter(pk__in=chunk).delete()
    for target, pks in plan.repoint.items():
        for chunk in _chunks(pks):
            Annotation.objects.filter(pk__in=chunk).update(split_id=target, updated_at=now)
    for chunk in _chunks(sorted(plan.membership_deletes)):
        ItemSplit.objects.filter(pk__in=chunk).delete()
    ItemSplit.objects.bulk_create(
        [
            ItemSplit(item_id=item_id, split_id=split_id, created_at=now)
            for item_id, split_id in plan.membership_creates
        ],
        batch_size=BULK_BATCH,
    )
    plan.delta.apply()
