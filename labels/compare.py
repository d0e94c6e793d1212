"""Version comparison: per split (matched by name) and label (matched by name), the items and
annotations of two versions and their difference, from the statistics read model (never a
recount)."""

from dataclasses import dataclass

from labels.models import LabelStat
from labels.selectors.stats import version_stats
from seeme.models import Version

Kind = LabelStat.Kind


# -- version comparison -------------------------------------------------------------------


@dataclass
class DiffRow:
    """One row of one split: a label (by name), the unlabelled bucket or the split total."""

    kind: str
    label: str
    base: tuple[int, int] | None  # (items, annotations); None: absent in that version
    other: tuple[int, int] | None

    @property
    def difference(self) -> tuple[int, int]:
        b = self.base or (0, 0)
        o = self.other or (0, 0)
        return o[0] - b[0], o[1] - b[1]


@dataclass
class DiffSplit:
    name: str
    in_base: bool
    in_other: bool
    rows: list[DiffRow]


@dataclass
class VersionDiff:
    base: Version
    other: Version
    splits: list[DiffSplit]


def _version_numbers(version: Version):
    """Split names, label names and ``{split name: {(kind, label name): (items, anns)}}``."""
    stats = version_stats(version=version)
    names = {lb.pk: lb.name for lb in stats.labels}
    split_names = {s.pk: s.name for s in stats.splits}
    numbers: dict[str, dict[tuple, tuple[int, int]]] = {s.name: {} for s in stats.splits}
    for (split_id, kind, label_id), counts in stats.rows.items():
        key = (kind, names.get(label_id, "") if label_id else "")
        numbers[split_names[split_id]][key] = counts
    for split in stats.splits:
        for label in stats.labels:
            numbers[split.name].setdefault((Kind.LABEL, label.name), (0, 0))
    return [s.name for s in stats.splits], [lb.name for lb in stats.labels], numbers


def version_diff(*, base: Version, other: Version) -> VersionDiff:
    """Per split (matched by name) and label (matched by name), the items and annotations in
    both versions and the difference ``other - base``. Six queries, no recount."""
    base_splits, base_labels, base_numbers = _version_numbers(base)
    other_splits, other_labels, other_numbers = _version_numbers(other)
    split_names = base_splits + [n for n in other_splits if n not in base_numbers]
    label_names = base_labels + [n for n in other_labels if n not in set(base_labels)]
    keys = [(Kind.LABEL, name) for name in label_names] + [(Kind.UNLABELLED, ""), (Kind.TOTAL, "")]
    result = []
    for name in split_names:
        b = base_numbers.get(name)
        o = other_numbers.get(name)
        rows = [
            DiffRow(
                kind,
                label,
                b.get((kind, label)) if b is not None else None,
                o.get((kind, label)) if o is not None else None,
            )
            for kind, label in keys
        ]
        result.append(DiffSplit(name, b is not None, o is not None, rows))
    return VersionDiff(base=base, other=other, splits=result)
