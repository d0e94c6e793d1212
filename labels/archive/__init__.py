"""Whole versions as zip archives: the hostile-zip reader, the four import formats' parsers
(each producing an ``ImportPlan``), and the streamed exports.

Domain code: nothing here imports presentation. ``build_plan`` is the one way from an
archive to a plan; the import service (``labels.services.imports``) executes a plan.
"""

from labels.archive.folders import parse_folders
from labels.archive.plan import FORMATS, ImportPlan, PlannedItem
from labels.archive.safety import Problem, SafeArchive
from labels.archive.spacy import parse_spacy
from labels.archive.tabular import parse_csv
from labels.archive.yolo import parse_yolo


def detect_format(archive: SafeArchive) -> str:
    """The format an archive is in, by its root files: a ``.names`` file is yolo, a CSV is
    csv, ``<split>.json`` files are spacy-ner; anything else is folders."""
    root = [e.path for e in archive.files() if "/" not in e.path]
    if any(p.endswith(".names") for p in root):
        return "yolo"
    if any(p.lower().endswith(".csv") for p in root):
        return "csv"
    if any(p.endswith(".json") and p != "config.json" for p in root):
        return "spacy-ner"
    return "folders"


def build_plan(
    archive: SafeArchive,
    fmt: str,
    *,
    tabular: bool = False,
    multi_label: bool = False,
    default_split: str = "",
) -> ImportPlan:
    """The plan of an archive in format ``fmt``: what it would add, and every problem (the
    reader's, the format's, and the dataset's rules: ``multi_label``)."""
    plan = ImportPlan(format=fmt)
    if fmt not in FORMATS:
        plan.problem("", f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return plan
    plan.problems.extend(archive.problems)
    if not archive.readable:
        return plan
    if fmt == "folders":
        parse_folders(archive, plan)
    elif fmt == "yolo":
        parse_yolo(archive, plan)
    elif fmt == "csv":
        parse_csv(archive, plan, tabular=tabular, default_split=default_split)
    else:
        parse_spacy(archive, plan)
    plan.check(multi_label=multi_label)
    return plan


__all__ = [
    "FORMATS",
    "ImportPlan",
    "PlannedItem",
    "Problem",
    "SafeArchive",
    "build_plan",
    "detect_format",
]
