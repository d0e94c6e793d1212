"""What an archive would import: the ImportPlan, built by a format's parser, checked against
the target version, reported by a dry run and executed, unchanged, by the import.

Regions are stored in ``Annotation.coordinates`` as JSON: a box as ``[x1, y1, x2, y2]``
(relative 0-1, the top-left and bottom-right corners), a text span as ``[start, end]``
(character offsets, end excluded).
"""

import json
from collections import Counter
from dataclasses import dataclass, field

from labels.archive.safety import Problem
from seeme.exceptions import InvalidInput, ServiceError

MAX_NAME = 255
FORMATS = ("folders", "yolo", "csv", "spacy-ner")


@dataclass(slots=True)
class PlannedItem:
    """One item the archive brings: where it comes from (``entry``, ``line``), its fields,
    its splits and its annotations as (split name, label name, coordinates)."""

    entry: str
    name: str
    splits: list[str]
    annotations: list[tuple[str, str, str]] = field(default_factory=list)
    text: str = ""
    extension: str = ""
    file_entry: str = ""
    line: int | None = None


@dataclass
class ImportPlan:
    """Splits, labels and items an archive would add to a version, and its problems.

    ``splits`` and ``labels`` are names in the order the archive gives them (labels get
    their index in that order when created); ``colors`` the colours it names.
    """

    format: str
    splits: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    colors: dict[str, str] = field(default_factory=dict)
    items: list[PlannedItem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add_split(self, name: str) -> None:
        if name not in self._split_set:
            self._split_set.add(name)
            self.splits.append(name)

    def add_label(self, name: str) -> None:
        if name not in self._label_set:
            self._label_set.add(name)
            self.labels.append(name)

    def problem(self, entry: str, reason: str, line: int | None = None) -> None:
        self.problems.append(Problem(entry, line, reason))

    def __post_init__(self) -> None:
        self._split_set = set(self.splits)
        self._label_set = set(self.labels)

    # -- checks against the target version ----------------------------------------------------

    def check(self, *, multi_label: bool) -> None:
        """Problems the rows would hit in the database or the dataset's rules, found now:
        names too long, and two whole-item labels on one item of a single-label dataset."""
        for kind, names in (("split", self.splits), ("label", self.labels)):
            for name in names:
                if len(name) > MAX_NAME:
                    self.problem(name[:80] + "…", f"{kind} name longer than {MAX_NAME} characters")
        for item in self.items:
            if len(item.name) > MAX_NAME:
                item.name = item.name[:MAX_NAME]
            if len(item.extension) > 32:
                item.extension = ""
            if multi_label:
                continue
            whole = Counter(split for split, _, coords in item.annotations if not coords)
            for split, n in whole.items():
                if n > 1:
                    self.problem(
                        item.entry,
                        f"{n} labels for one item in split {split!r} of a single-label dataset",
                        item.line,
                    )

    # -- the report ---------------------------------------------------------------------------

    def summary(self, *, existing_splits=(), existing_labels=()) -> dict:
        """What the import would write: per split, the items and annotations it adds (in
        all, per label and unlabelled: the moves of its statistics), which splits and
        labels are new, and every problem. A dry run answers this; the import writes it."""
        existing_splits, existing_labels = set(existing_splits), set(existing_labels)
        per_split: dict[str, dict] = {
            name: {
                "items": 0,
                "annotations": 0,
                "unlabelled": 0,
                "labels": Counter(),
                "li": Counter(),
            }
            for name in self.splits
        }
        no_split = 0
        for item in self.items:
            if not item.splits:
                no_split += 1
            for split in dict.fromkeys(item.splits):
                row = per_split[split]
                labels = [label for s, label, _ in item.annotations if s == split]
                row["items"] += 1
                row["annotations"] += len(labels)
                row["unlabelled"] += not labels
                row["labels"].update(labels)
                row["li"].update(set(labels))
        return {
            "format": self.format,
            "items": len(self.items),
            "items_in_no_split": no_split,
            "annotations": sum(len(i.annotations) for i in self.items),
            "splits": [
                {
                    "name": name,
                    "new": name not in existing_splits,
                    "items": row["items"],
                    "annotations": row["annotations"],
                    "unlabelled": row["unlabelled"],
                    "labels": {
                        label: {"items": row["li"][label], "annotations": row["labels"][label]}
                        for label in self.labels
                        if row["labels"][label]
                    },
                }
                for name, row in per_split.items()
            ],
            "labels": [{"name": name, "new": name not in existing_labels} for name in self.labels],
            "problem_count": len(self.problems),
            "problems": [p.as_dict() for p in self.problems[:PROBLEM_LIMIT]],
        }


# An answer lists at most this many problems (and says how many there were).
PROBLEM_LIMIT = 1000


def box_coordinates(x1: float, y1: float, x2: float, y2: float) -> str:
    """A box region as stored: ``[x1, y1, x2, y2]`` relative, six decimals."""
    return json.dumps([round(v, 6) for v in (x1, y1, x2, y2)])


def span_coordinates(start: int, end: int) -> str:
    return json.dumps([start, end])


def parse_region(coordinates: str) -> list[float] | None:
    """The numbers of a stored region (four for a box, two for a span), or None."""
    if not coordinates:
        return None
    try:
        value = json.loads(coordinates)
    except ValueError:
        return None
    if isinstance(value, dict):
        keys = [k for k in ("x1", "y1", "x2", "y2") if k in value]
        value = [value[k] for k in keys] if len(keys) == 4 else None
    if not isinstance(value, list) or len(value) not in (2, 4):
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return None
    return [float(v) for v in value]


class ArchiveRejected(InvalidInput):
    """An archive with problems: nothing of it is written. ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        count = len(problems)
        super().__init__(
            f"The archive has {count} problem{'s' if count != 1 else ''}; nothing was imported.",
            {"file": [str(p) for p in problems[:PROBLEM_LIMIT]]},
        )
        self.problems = problems


class ArchiveTooLarge(ServiceError):
    """An uploaded archive past ``SEEME_ARCHIVE_MAX_UNPACKED_MB`` (refused while it is read)."""

    status = 413

    def __init__(self, size: int, limit: int) -> None:
        message = (
            f"The archive is over {limit} bytes; this server accepts archives up to that "
            "(SEEME_ARCHIVE_MAX_UNPACKED_MB)."
        )
        super().__init__(message, {"file": [message]})
        self.size = size
