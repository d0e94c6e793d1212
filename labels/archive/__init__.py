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


def _wrapped(archive: SafeArchive, fmt: str) -> bool:
    """Whether the archive's layout sits one folder down (a zipped folder): for folders,
    when some file is four levels deep (``data/<split>/<label>/<file>``, invalid as is);
    for the others, when no file is at the root."""
    files = list(archive.files())
    if fmt == "folders":
        return any(e.path.count("/") == 3 for e in files)
    return bool(files) and all("/" in e.path for e in files)


def detect_format(archive: SafeArchive) -> str:
    """The format an archive is in, by its root files: a ``.names`` file is yolo, a CSV is
    csv, ``<split>.json`` files are spacy-ner; anything else is folders. When no file is at
    the root (a zipped folder), one folder down, by stricter marks (a ``.names`` file;
    ``config.json`` and a CSV; only ``.json`` files), since a folders archive with one
    split has its files there too."""
    files = [e.path for e in archive.files()]
    if any("/" not in p for p in files):
        if any(p.endswith(".names") for p in files if "/" not in p):
            return "yolo"
        if any(p.lower().endswith(".csv") for p in files if "/" not in p):
            return "csv"
        if any(p.endswith(".json") and p != "config.json" for p in files if "/" not in p):
            return "spacy-ner"
        return "folders"
    below = [p.split("/", 1)[1] for p in files if p.count("/") == 1]
    if any(p.endswith(".names") for p in below):
        return "yolo"
    if "config.json" in below and any(p.lower().endswith(".csv") for p in below):
        return "csv"
    if below and len(below) == len(files) and all(p.endswith(".json") for p in below):
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
    if _wrapped(archive, fmt):
        archive.strip_top_folder()
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
