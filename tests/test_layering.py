"""The layers, checked on the imports (``ast``, so also imports inside functions).

- The apps are layered ``labels -> splits -> seeme``: the kernel (``seeme``) knows neither
  splits nor labels, ``splits`` does not know ``labels``.
- Domain modules (models, services, selectors, the stats engine, ``seeme/db.py``, locks,
  reports ...) never import presentation modules (views, API, admin, template tags, URLs,
  management commands, forms, CSV responses), of any app, and never import up the app
  order.
- Presentation modules may import down freely. The few that import *up* the app order (the
  composition root and pages or admin classes that show other apps' data) are listed in
  ``ALLOWED_UPWARD``, module by module: a new one is a decision, made here in review.

See docs/architecture.md.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_ORDER = {"seeme": 0, "splits": 1, "labels": 2}
# A module is presentation when one of its dotted path parts is one of these.
PRESENTATION_PARTS = {
    "views",
    "api",
    "admin",
    "admin_site",
    "admin_actions",
    "admin_config",
    "templatetags",
    "urls",
    "tools_urls",
    "management",
    "forms",
    "exports",
}
# Not application code: wiring of the Django project.
IGNORED = {"seeme.settings", "seeme.wsgi", "seeme.asgi"}

# Presentation / composition-root modules that may import up the app order, with what.
ALLOWED_UPWARD = {
    # The composition root: URLs, the API router and schema, the admin registry.
    "seeme.urls": {"labels"},  # (splits.urls is included by name, not imported)
    "seeme.api.routes": {"labels", "splits"},
    # Kernel pages and API that show counts or write through the label services (datasets
    # list: label counts; item API: annotations and the statistics write path).
    "seeme.views": {"labels"},
    "seeme.api.views": {"labels", "splits"},
    "seeme.api.serializers": {"labels", "splits"},
    # The item upload answers the item with its splits and annotations (like seeme.api.views).
    "seeme.api.files": {"labels", "splits"},
    "seeme.templatetags": {"labels"},
    # The kernel's admin shows and edits datasets with their splits and labels.
    "seeme.admin": {"labels", "splits"},
    # The demo data goes through the label services.
    "seeme.management": {"labels"},
    # Split pages and API write through the label services (statistics) and show labels.
    "splits.views": {"labels"},
    "splits.api": {"labels"},
    "splits.admin": {"labels"},
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_presentation(module: str) -> bool:
    return bool(PRESENTATION_PARTS & set(module.split(".")))


def _imports(tree: ast.AST, module: str, root: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every import; ``from a import b`` is ``a.b`` when ``b``
    is a module, else ``a``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = module.split(".")[: -node.level]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            for alias in node.names:  # ``from labels import views`` imports a module
                if _exists_module(f"{target}.{alias.name}", root):
                    found.append((node.lineno, f"{target}.{alias.name}"))
    return found


def _allowed_up(module: str, app: str) -> bool:
    for prefix, apps in ALLOWED_UPWARD.items():
        if (module == prefix or module.startswith(prefix + ".")) and app in apps:
            return True
    return False


def violations(root: Path = ROOT) -> list[str]:
    found = []
    for app in APP_ORDER:
        for path in sorted((root / app).rglob("*.py")):
            module = _module_name(path, root)
            if "migrations" in module.split(".") or module in IGNORED:
                continue
            presentation = is_presentation(module)
            tree = ast.parse(path.read_text(), str(path))
            for lineno, target in _imports(tree, module, root):
                top = target.split(".")[0]
                if top not in APP_ORDER:
                    continue
                where = f"{module}:{lineno} imports {target}"
                if not presentation and _is_presentation_target(target, root):
                    found.append(f"{where} (domain -> presentation)")
                elif APP_ORDER[top] > APP_ORDER[app]:
                    if presentation and _allowed_up(module, top):
                        continue
                    kind = "presentation" if presentation else "domain"
                    found.append(f"{where} ({kind} imports up the app order)")
    return sorted(set(found))


def _is_presentation_target(target: str, root: Path) -> bool:
    """``target`` names a presentation module (``from labels import views`` included; a
    name inside a domain module, such as ``labels.models.Label``, is not)."""
    return is_presentation(target) and _exists_module(target, root)


def _exists_module(target: str, root: Path) -> bool:
    parts = target.split(".")
    return (root.joinpath(*parts).with_suffix(".py")).exists() or (
        root.joinpath(*parts) / "__init__.py"
    ).exists()


def test_no_layer_imports_upward():
    assert violations() == []


def test_the_allow_list_has_no_stale_entries():
    """Each allowed upward import is still needed: the list says what the code does."""
    needed = set()
    for app in APP_ORDER:
        for path in sorted((ROOT / app).rglob("*.py")):
            module = _module_name(path, ROOT)
            for _, target in _imports(ast.parse(path.read_text()), module, ROOT):
                top = target.split(".")[0]
                if top in APP_ORDER and APP_ORDER[top] > APP_ORDER[app]:
                    for prefix, apps in ALLOWED_UPWARD.items():
                        if (module == prefix or module.startswith(prefix + ".")) and top in apps:
                            needed.add((prefix, top))
    listed = {(prefix, app) for prefix, apps in ALLOWED_UPWARD.items() for app in apps}
    assert listed - needed == set()


def _fake_tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for app in APP_ORDER:
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_check_sees_a_domain_module_importing_presentation(tmp_path):
    """Not vacuous: a service importing a viewset, a selector importing the kernel's
    views inside a function, and a kernel model importing labels are all reported."""
    root = _fake_tree(
        tmp_path,
        {
            "labels/api/views.py": "X = 1\n",
            "labels/services.py": "from labels.api.views import X\n",
            "seeme/views.py": "Y = 1\n",
            "splits/selectors.py": "def f():\n    from seeme import views\n",
            "seeme/models.py": "import labels.models\n",
            "labels/models.py": "",
        },
    )
    assert violations(root) == [
        "labels.services:1 imports labels.api.views (domain -> presentation)",
        "seeme.models:1 imports labels.models (domain imports up the app order)",
        "splits.selectors:2 imports seeme.views (domain -> presentation)",
    ]


def test_the_check_sees_an_unlisted_upward_presentation_import(tmp_path, monkeypatch):
    root = _fake_tree(
        tmp_path,
        {"splits/views.py": "from labels.models import Label\n", "labels/models.py": ""},
    )
    monkeypatch.setattr(sys.modules[__name__], "ALLOWED_UPWARD", {})
    assert violations(root) == [
        "splits.views:1 imports labels.models (presentation imports up the app order)",
    ]
