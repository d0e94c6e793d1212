"""Audit of the one write path: the rows that statistics are counted from are written only by
``labels.services`` and the LabelStat rows only by ``labels.stats`` (and the repair).

A static check over the application code (not the tests, migrations or benchmark scripts):
every ``<Model>.objects....<write>()`` call on a counted model must sit in an allowed module.
It cannot see writes through a variable (``queryset.delete()``, ``obj.save()``); the
property and concurrency tests catch what those would break.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ["seeme", "splits", "labels"]
WRITES = {
    "create",
    "bulk_create",
    "update",
    "bulk_update",
    "delete",
    "get_or_create",
    "update_or_create",
}
SERVICES = ("labels/services/",)
ALLOWED = {
    # LabelStat rows: the engine (which also copies a version's rows for a duplicate) and
    # the repair.
    "LabelStat": ("labels/stats.py", "labels/services/reconcile.py"),
    "Annotation": SERVICES,
    "ItemSplit": SERVICES,
}
# Creating or deleting these moves numbers too (memberships, rows per label / split).
CREATE_DELETE_ONLY = {"Item": SERVICES, "Label": SERVICES, "DatasetSplit": SERVICES}


def _root_and_methods(node: ast.Call) -> tuple[str | None, list[str]]:
    """For ``Model.objects.filter(...).delete()``: ("Model", ["delete", "filter", "objects"])."""
    methods, current = [], node.func
    while True:
        if isinstance(current, ast.Attribute):
            methods.append(current.attr)
            current = current.value
        elif isinstance(current, ast.Call):
            current = current.func
        elif isinstance(current, ast.Name):
            return current.id, methods
        else:
            return None, methods


def _violations() -> list[str]:
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative:
                continue
            for node in ast.walk(ast.parse(path.read_text(), relative)):
                if not isinstance(node, ast.Call):
                    continue
                model, methods = _root_and_methods(node)
                if not methods or "objects" not in methods or methods[0] not in WRITES:
                    continue
                if model in ALLOWED:
                    allowed = ALLOWED[model]
                elif model in CREATE_DELETE_ONLY and methods[0] in {
                    "create",
                    "bulk_create",
                    "delete",
                    "get_or_create",
                }:
                    allowed = CREATE_DELETE_ONLY[model]
                else:
                    continue
                if not relative.startswith(allowed):
                    found.append(f"{relative}:{node.lineno} {model}...{methods[0]}()")
    return found


def test_counted_rows_are_written_only_through_the_services():
    assert _violations() == []


def test_the_audit_sees_a_write_in_the_wrong_place(tmp_path, monkeypatch):
    """Not vacuous: a view that deletes annotations itself is reported."""
    app = tmp_path / "labels"
    app.mkdir()
    (app / "views.py").write_text(
        "def wipe(split):\n    Annotation.objects.filter(split=split).delete()\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "APPS", ["labels"])
    assert _violations() == ["labels/views.py:2 Annotation...delete()"]
