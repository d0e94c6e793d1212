"""Server time of the pages and admin change lists on a small and a big dataset (issue 15).

Each page is fetched through Django's test client in this process (routing, middleware,
the signed-in session, access check, queries, template: everything but the network), for
the small and the big dataset alternately in the same loop, so the machine's load weighs on
both sides of each ratio alike. Pages:

- ``datasets``: the datasets page searched for the dataset's name (``?q=``);
- ``items``, ``items deep``: the item browser's first page and a page 97% down the list;
- ``items name``, ``items name last``: the browser filtered by name (a pattern that matches
  about 100 items of a ``generate_dataset`` dataset of either size: the middle item's name
  less its last six characters), first and last page;
- ``admin <model>``, ``admin <model> deep``: the change lists of Item, Annotation, ItemSplit
  and LabelStat filtered to the dataset's latest version (as the drill-down filters link),
  first page and a page 97% down (none for LabelStat: its rows fit one page).

Deep pages are keyset links (``after=``) when the code has them (``labels.views.paging``,
``seeme.admin_site.keyset``), else ``?page=N`` / ``?p=N`` (OFFSET), so the same script
measures before and after.

    DATABASE_URL=postgres://root@127.0.0.1:5432/pages_bench DJANGO_SECRET_KEY=x \\
        .venv/bin/python bench/pages_benchmark.py "pages 1k" "pages 1M" [--runs 30]

Writes one session row per user and, if missing, a superuser ``pages-bench-admin`` (to read
the admin); nothing else.
"""

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "seeme.settings")

import django
from django.apps import apps

if not apps.ready:
    django.setup()

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labels.models import Annotation, LabelStat
from seeme.models import Dataset, Item, Version
from splits.models import ItemSplit

ADMIN_USER = "pages-bench-admin"
DEPTH = 0.97
BROWSER_PER_PAGE = 24


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


KEYSET_BROWSER = _has("labels.views.paging")
KEYSET_ADMIN = _has("seeme.admin_site.keyset")


def _latest(dataset: Dataset) -> Version:
    version = dataset.versions.order_by("-created_at", "-id").first()
    if version is None:
        sys.exit(f"{dataset.name!r} has no version.")
    return version


def _url(path: str, params: dict) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def _browser_deep(version: Version, base: str) -> str:
    items = Item.objects.filter(dataset_version=version).order_by("created_at", "id")
    pages = max(-(-items.count() // BROWSER_PER_PAGE), 1)  # setup only, not timed
    number = max(int(pages * DEPTH), 1)
    if not KEYSET_BROWSER:
        return _url(base, {"page": number})
    from labels.views.paging import encode_cursor

    row = items[(number - 1) * BROWSER_PER_PAGE - 1]
    return _url(base, {"after": encode_cursor("created", row)})


def _name_query(version: Version) -> str:
    items = Item.objects.filter(dataset_version=version).order_by("created_at", "id")
    middle = items[items.count() // 2]
    return middle.name[:-6] or middle.name


def _admin_deep(model, version: Version, base: str, params: dict) -> str | None:
    from django.contrib.admin import site

    per_page = site._registry[model].list_per_page
    rows = model.objects.filter(**{_VERSION_PATH[model]: version}).order_by("-created_at", "-id")
    pages = -(-rows.count() // per_page)
    if pages < 2:
        return None
    number = max(int(pages * DEPTH), 2)
    if not KEYSET_ADMIN:
        # A filtered list past the bounded count has 101 pages at most (the count says
        # "more than 10,000"): the deepest page it links is the 100th.
        return _url(base, {**params, "p": min(number, 10_000 // per_page)})
    from seeme.admin_site.keyset import encode_cursor

    row = rows[(number - 1) * per_page - 1]
    return _url(base, {**params, "after": encode_cursor(row)})


_VERSION_PATH = {
    Item: "dataset_version",
    Annotation: "split__version",
    ItemSplit: "split__version",
    LabelStat: "split__version",
}


def page_urls(dataset: Dataset) -> list[tuple[str, str, str]]:
    """(page name, who reads it: "owner" or "admin", url) for one dataset."""
    version = _latest(dataset)
    ids = {"dataset_id": dataset.pk, "version_id": version.pk}
    browser = reverse("seeme:item-list", kwargs=ids)
    name = _name_query(version)
    urls = [
        ("datasets", "owner", _url(reverse("seeme:dataset-list"), {"q": dataset.name})),
        ("items", "owner", browser),
        ("items deep", "owner", _browser_deep(version, browser)),
        ("items name", "owner", _url(browser, {"name": name})),
        ("items name last", "owner", _name_last(version, browser, name)),
    ]
    params = {"dataset": str(dataset.pk), "version": str(version.pk)}
    for model in (Item, Annotation, ItemSplit, LabelStat):
        label = f"admin {model.__name__}"
        base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        urls.append((label, "admin", _url(base, params)))
        deep = _admin_deep(model, version, base, params) if model is not LabelStat else None
        if deep:
            urls.append((f"{label} deep", "admin", deep))
    return urls


def _name_last(version: Version, browser: str, name: str) -> str:
    if KEYSET_BROWSER:
        return _url(browser, {"name": name, "page": "last"})
    matches = Item.objects.filter(dataset_version=version, name__icontains=name).count()
    return _url(browser, {"name": name, "page": max(-(-matches // BROWSER_PER_PAGE), 1)})


def _dataset(name: str) -> Dataset:
    found = Dataset.objects.select_related("owner").filter(name=name).order_by("-created_at")
    if not found:
        raise LookupError(f"No dataset named {name!r}.")
    return found[0]


def _admin_user():
    user_model = get_user_model()
    user = user_model.objects.filter(username=ADMIN_USER).first()
    if user is None:
        user = user_model.objects.create_superuser(ADMIN_USER, password=None)
    return user


def _p50(times: list[float]) -> float:
    return statistics.median(times)


def measure_pages(small_dataset_name: str, big_dataset_name: str, runs: int = 30) -> list[dict]:
    """One dict per page: name, queries_small, queries_big, p50_small, p50_big (ms), ratio
    (big / small), url_small, url_big. Both datasets' pages are fetched alternately."""
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    small, big = _dataset(small_dataset_name), _dataset(big_dataset_name)
    admin = _admin_user()
    clients: dict = {}

    def client_for(who: str, dataset: Dataset) -> Client:
        user = admin if who == "admin" else dataset.owner
        if user.pk not in clients:
            clients[user.pk] = Client()
            clients[user.pk].force_login(user)
        return clients[user.pk]

    pages_small, pages_big = page_urls(small), page_urls(big)
    by_name = {name: (who, url) for name, who, url in pages_big}
    results = []
    try:
        for name, who, url_small in pages_small:
            if name not in by_name:
                continue
            url_big = by_name[name][1]
            sides = [(client_for(who, small), url_small), (client_for(who, big), url_big)]
            queries = []
            for client, url in sides:
                for _ in range(3):  # warm-up
                    _get(client, url)
                with CaptureQueriesContext(connection) as captured:
                    _get(client, url)
                queries.append(len(captured))
            times: list[list[float]] = [[], []]
            for _ in range(runs):
                for side, (client, url) in enumerate(sides):
                    start = time.perf_counter()
                    _get(client, url)
                    times[side].append((time.perf_counter() - start) * 1000)
            p50s, p50b = _p50(times[0]), _p50(times[1])
            results.append(
                {
                    "name": name,
                    "queries_small": queries[0],
                    "queries_big": queries[1],
                    "p50_small": round(p50s, 1),
                    "p50_big": round(p50b, 1),
                    "ratio": round(p50b / p50s, 2),
                    "url_small": url_small,
                    "url_big": url_big,
                }
            )
    finally:
        for client in clients.values():
            client.logout()
    return results


def _get(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("small", help="name of the small dataset (e.g. 1,000 items)")
    parser.add_argument("big", help="name of the big dataset (e.g. 1,000,000 items)")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    load = os.getloadavg()
    results = measure_pages(args.small, args.big, runs=args.runs)
    print(f"database {connection.vendor} ({connection.settings_dict['NAME']}), runs {args.runs}")
    print(f"load average before {load[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"{'page':<24} {'queries':>9} {'p50 small':>10} {'p50 big':>10} {'ratio':>6}")
    for row in results:
        queries = f"{row['queries_small']}/{row['queries_big']}"
        print(
            f"{row['name']:<24} {queries:>9} {row['p50_small']:>8.1f}ms "
            f"{row['p50_big']:>8.1f}ms {row['ratio']:>5.2f}x"
        )


if __name__ == "__main__":
    main()
