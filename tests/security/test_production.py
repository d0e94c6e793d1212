"""Production settings come from the environment: under the README's production environment
`manage.py check --deploy` prints no warning. Every page carries a Content-Security-Policy
that lets it load only our own files, and no page relies on inline script or <style>."""

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.pages.helpers import build_world, page_client

ROOT = Path(__file__).resolve().parents[2]

# The production environment of the README (section "Production"), with a throwaway key.
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k3!x9_Qz7#mP2vR8wL5tY1uN4bH6jD0cF-aS+eG@iK&oW^zX(qV)" * 2,
    "DJANGO_ALLOWED_HOSTS": "seeme.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://seeme.example.com",
    "DJANGO_SECURE_SSL_REDIRECT": "true",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "DJANGO_SECURE_HSTS_PRELOAD": "true",
    "DJANGO_SECURE_COOKIES": "true",
    "SEEME_BEHIND_PROXY": "true",
}
DEPLOY_WARNINGS = ["security.W004", "security.W008", "security.W012", "security.W016"]


def check_deploy(extra: dict) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SEEME_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**keep, **extra},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_the_production_environment():
    result = check_deploy(PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_without_it():
    result = check_deploy({"DJANGO_SECRET_KEY": PRODUCTION_ENV["DJANGO_SECRET_KEY"]})
    assert result.returncode != 0
    for code in DEPLOY_WARNINGS:
        assert code in result.stderr + result.stdout, code


# -- Content-Security-Policy -----------------------------------------------------------------


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class InlineFinder(HTMLParser):
    """Inline scripts, <style> elements and on* handler attributes of a page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            if attributes.get("type") not in ("application/json", "application/ld+json"):
                self.found.append(f"inline <script> {attrs}")
        if tag == "style":
            self.found.append("<style> element")
        self.found.extend(f"{tag} {name}=" for name, _ in attrs if name.startswith("on"))
        if attributes.get("href", "") and attributes["href"].startswith("javascript:"):
            self.found.append(f"javascript: link in <{tag}>")


def page_urls(world) -> list[str]:
    ids = {"dataset_id": world.dataset.pk, "version_id": world.version.pk}
    split = {**ids, "split_id": world.splits["train"].pk}
    return [
        reverse("seeme:dataset-list"),
        reverse("seeme:version-detail", kwargs=ids),
        reverse("seeme:item-list", kwargs=ids),
        reverse("seeme:item-detail", kwargs={**ids, "item_id": world.items["a.jpg"].pk}),
        reverse("splits:split-detail", kwargs=split),
        reverse("tools:version-health", kwargs=ids),
        reverse("tools:split-assign", kwargs=ids),
        reverse("tools:version-compare", kwargs=ids),
        reverse("admin:index"),
        reverse("admin:seeme_dataset_changelist"),
        reverse("admin:seeme_dataset_change", args=[world.dataset.pk]),
        reverse("swagger-ui"),
    ]


@pytest.mark.django_db
def test_every_page_has_a_strict_policy_and_no_inline_code():
    user = UserFactory(is_staff=True, is_superuser=True)
    world = build_world(user)
    client = page_client(user)
    anonymous = [reverse("login"), "/no-such-page/"]
    for url in [*page_urls(world), *anonymous]:
        response = (page_client(None) if url in anonymous else client).get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        csp = policy(response)
        assert csp["default-src"] == ["'self'"], url
        assert csp["script-src"] == ["'self'"], url
        assert csp["style-src"] == ["'self'"], url
        assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"], url
        finder = InlineFinder()
        finder.feed(response.content.decode())
        assert finder.found == [], (url, finder.found)


@pytest.mark.django_db
def test_the_api_docs_script_is_served_from_our_origin():
    response = page_client(None).get(reverse("swagger-ui"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()


def test_the_error_pages_have_no_inline_code():
    from django.template.loader import render_to_string

    for template in ("500.html", "400.html", "404.html", "403_csrf.html"):
        finder = InlineFinder()
        finder.feed(render_to_string(template, {"message": "m"}))
        assert finder.found == [], (template, finder.found)
