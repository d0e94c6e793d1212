"""Split assignment by ratio: the pure algorithm (no database).

Each unit (an item, or a group of items that must stay together) gets a point in [0, 1)
from ``sha256(seed, group key)``. The point depends on nothing but the seed and the key, so a
unit keeps its place whatever else is added to the version.

- Unstratified: the point falls in one of the cumulative ratio intervals; that is the split.
- Stratified: every unit belongs to the stratum of its rarest label (the label carried by the
  fewest items; ties by label key; no label: the unlabelled stratum). Within a stratum, units
  are ordered by their point and cut into consecutive runs whose sizes are the stratum's
  largest-remainder quotas, so each split holds ``ratio * n`` items of the stratum within
  one item. Cutting by order (not by interval) is what holds that bound; the price is that
  with ``scope=all`` a growing stratum can move the units next to a cut.

Units that already have a place (``fixed``: the items of an ``unassigned`` run that are
already in a split) never move. New items of a group that already has a place join it, and
in stratified mode the placed items count towards the quotas, so new items fill the splits
that are short of their share.
"""

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

UNLABELLED = ""
RATIO_TOLERANCE = 1e-6


class RatioError(ValueError):
    """Ratios that cannot be used; ``errors`` lists the problems for the API's 400."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True)
class ItemRecord:
    """What the algorithm knows of one item.

    ``key`` is stable and unique (the item id); ``group`` is the group key ("" when the item
    is its own group); ``labels`` the label keys it carries; ``current`` the ratio splits it
    is in now; ``fixed``: it keeps ``current`` and is not placed.
    """

    key: str
    group: str = ""
    labels: frozenset[str] = field(default_factory=frozenset)
    current: tuple[str, ...] = ()
    fixed: bool = False


def parse_ratios(value) -> list[tuple[str, float]]:
    """Ratios as ``[(split name, ratio)]`` in the caller's order, validated.

    Accepts ``"train=0.8,valid=0.1,test=0.1"``, a mapping of name to number, or a list of
    ``{"split"|"name": ..., "ratio": ...}``. Each ratio is a finite number >= 0, the sum is 1
    (within 1e-6), a name appears once, and at least one ratio is positive.
    """
    pairs: list[tuple[object, object]] = []
    errors: list[str] = []
    if isinstance(value, str):
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            name, sep, ratio = part.partition("=")
            if not sep:
                errors.append(f"{part!r} is not written name=ratio.")
                continue
            try:
                pairs.append((name.strip(), float(ratio)))
            except ValueError:
                errors.append(f"The ratio of {name.strip()!r} is not a number.")
    elif isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list | tuple):
        for entry in value:
            if isinstance(entry, Mapping):
                pairs.append((entry.get("split", entry.get("name")), entry.get("ratio")))
            else:
                errors.append("Each ratio must be an object with 'split' and 'ratio'.")
    else:
        raise RatioError(
            'Give the ratios as an object like {"train": 0.8, "valid": 0.2}.',
            ["must be an object of split name to ratio"],
        )
    result: list[tuple[str, float]] = []
    seen: set[str] = set()
    for name, ratio in pairs:
        if not isinstance(name, str) or not name.strip():
            errors.append("Every ratio needs a split name.")
            continue
        name = name.strip()
        if isinstance(ratio, bool) or not isinstance(ratio, int | float):
            errors.append(f"The ratio of {name!r} must be a number.")
            continue
        if not math.isfinite(ratio) or ratio < 0:
            errors.append(f"The ratio of {name!r} must be a number from 0 to 1.")
            continue
        if name in seen:
            errors.append(f"The split {name!r} is named twice.")
            continue
        seen.add(name)
        result.append((name, float(ratio)))
    if not errors:
        if not result:
            errors.append("Name at least one split.")
        elif abs(sum(r for _, r in result) - 1.0) > RATIO_TOLERANCE:
            total = sum(r for _, r in result)
            errors.append(f"The ratios must add up to 1; they add up to {total:g}.")
    if errors:
        raise RatioError(errors[0], errors)
    return result


def group_key(*, item_key: str, name: str, group: str, group_by: str, separator: str) -> str:
    """The key of the unit an item belongs to (namespaced so groups never meet item ids).

    ``name_prefix``: the name up to the first ``separator`` (the whole name when it has none);
    ``field``: the item's ``group``; an empty key puts the item in a group of its own.
    """
    if group_by == "name_prefix" and name:
        prefix = name.split(separator, 1)[0] if separator else name
        if prefix:
            return "g:" + prefix
    elif group_by == "field" and group:
        return "g:" + group
    return "i:" + item_key


def unit_point(seed: str, key: str) -> float:
    """A point in [0, 1) that depends only on the seed and the key."""
    digest = hashlib.sha256(f"{seed}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (Hamilton's method).

    Each share is the floor or the ceiling of its exact value; ties go to the earlier weight.
    """
    weight_sum = sum(weights)
    if total <= 0 or weight_sum <= 0:
        return [0] * len(weights)
    exact = [total * w / weight_sum for w in weights]
    shares = [math.floor(x) for x in exact]
    rest = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:rest]:
        shares[i] += 1
    return shares


@dataclass
class _Unit:
    key: str
    point: float
    items: list[ItemRecord]
    labels: set[str]
    placed: Counter  # split -> fixed items of the unit in it

    @property
    def free(self) -> list[ItemRecord]:
        return [i for i in self.items if not i.fixed]

    def home(self, order: Sequence[str]) -> str | None:
        """Where the unit already lives: the split holding most of its fixed items."""
        if not self.placed:
            return None
        return max(order, key=lambda s: (self.placed.get(s, 0), -order.index(s)))


def _units(items: Sequence[ItemRecord], seed: str, names: Sequence[str]) -> list[_Unit]:
    by_key: dict[str, _Unit] = {}
    for item in items:
        key = item.group or ("i:" + item.key)
        unit = by_key.get(key)
        if unit is None:
            unit = by_key[key] = _Unit(key, unit_point(seed, key), [], set(), Counter())
        unit.items.append(item)
        unit.labels |= item.labels
        if item.fixed:
            for split in item.current:
                if split in names:
                    unit.placed[split] += 1
    return sorted(by_key.values(), key=lambda u: (u.point, u.key))


def _by_interval(point: float, names: Sequence[str], ratios: Sequence[float]) -> str:
    cumulative = 0.0
    last = names[0]
    for name, ratio in zip(names, ratios, strict=True):
        if ratio <= 0:
            continue
        cumulative += ratio
        last = name
        if point < cumulative:
            return name
    return last  # rounding left the point just above the last boundary


def _cut(units: Sequence[_Unit], names: Sequence[str], quotas: Sequence[int]) -> dict[str, str]:
    """Consecutive runs of ``units`` (in order) sized by ``quotas``: a unit goes to the run
    that holds its middle item, so runs of single items meet the quotas exactly."""
    bounds = []
    running = 0
    for q in quotas:
        running += q
        bounds.append(running)
    placement: dict[str, str] = {}
    done = 0
    for unit in units:
        size = len(unit.free)
        middle = done + size / 2
        index = next((k for k, b in enumerate(bounds) if middle < b), None)
        if index is None:
            index = max(k for k, q in enumerate(quotas) if q > 0) if any(quotas) else 0
        placement[unit.key] = names[index]
        done += size
    return placement


def label_frequencies(items: Sequence[ItemRecord]) -> Counter:
    """Items per label key, over every item given (placed or not)."""
    counts: Counter = Counter()
    for item in items:
        counts.update(item.labels)
    return counts


def stratum_of(labels: set[str] | frozenset[str], frequencies: Mapping[str, int]) -> str:
    """The rarest label of a set (fewest items; ties by key), or the unlabelled stratum."""
    if not labels:
        return UNLABELLED
    return min(labels, key=lambda label: (frequencies.get(label, 0), label))


def plan_assignment(
    items: Sequence[ItemRecord],
    ratios: Sequence[tuple[str, float]],
    *,
    seed: str,
    stratify: bool = False,
) -> dict[str, str]:
    """The split (by name) of every item that is not ``fixed``: ``{item key: split name}``.

    Deterministic: the same items, ratios and seed give the same answer, in any input order.
    """
    names = [n for n, _ in ratios]
    weights = [r for _, r in ratios]
    units = _units(items, seed, names)
    placement: dict[str, str] = {}
    free_units: list[_Unit] = []
    for unit in units:
        home = unit.home(names)
        if home is not None:
            placement[unit.key] = home
        elif unit.free:
            free_units.append(unit)
    if not stratify:
        for unit in free_units:
            placement[unit.key] = _by_interval(unit.point, names, weights)
    else:
        frequencies = label_frequencies(items)
        existing: dict[str, Counter] = defaultdict(Counter)
        strata: dict[str, list[_Unit]] = defaultdict(list)
        for unit in units:
            stratum = stratum_of(unit.labels, frequencies)
            existing[stratum].update(unit.placed)
            if unit.key in placement:
                existing[stratum][placement[unit.key]] += len(unit.free)
            elif unit.free:
                strata[stratum].append(unit)
        for stratum in sorted(strata):
            members = strata[stratum]
            have = [existing[stratum].get(n, 0) for n in names]
            new = sum(len(u.free) for u in members)
            targets = largest_remainder(sum(have) + new, weights)
            short = [max(0, t - h) for t, h in zip(targets, have, strict=True)]
            if sum(short) != new:
                # Earlier placements overshoot some split: share the new items among the
                # splits that are short, in proportion to how short they are.
                short = largest_remainder(new, short if any(short) else weights)
            placement.update(_cut(members, names, short))
    return {
        item.key: placement[unit.key]
        for unit in units
        if unit.key in placement
        for item in unit.items
        if not item.fixed
    }
