"""Pages of the split tools: assign (form + dry-run preview), health (+ CSV), compare,
duplicate."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from labels import services as label_services
from labels.models import LabelStat
from seeme.models import Item, Role, Version
from splits.models import ItemSplit
from tests.conftest import assert_stats_exact
from tests.factories import DatasetFactory, ItemFactory, LabelFactory, UserFactory, share


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name, version, **extra):
    return reverse(
        name, kwargs={"dataset_id": version.dataset_id, "version_id": version.pk, **extra}
    )


@pytest.fixture
def filled(version, splits):
    LabelFactory(version=version, name="cat")
    LabelFactory(version=version, name="dog")
    label_services.add_inferences(
        split=splits["train"],
        user=None,
        inferences=(
            [{"name": f"cat-{i}", "prediction": "cat"} for i in range(8)]
            + [{"name": f"dog-{i}", "prediction": "dog"} for i in range(2)]
        ),
    )
    ItemFactory.create_batch(4, dataset_version=version)
    return version


def memberships():
    return sorted(ItemSplit.objects.values_list("item_id", "split_id"))


def test_assign_page_previews_without_writing_then_applies(user, filled, splits):
    client = browser(user)
    page = client.get(url("tools:split-assign", filled))
    assert page.status_code == 200
    assert b"train=0.8,valid=0.1,test=0.1" in page.content
    before = memberships()
    stats_before = sorted(LabelStat.objects.values_list("id", "item_count"), key=str)
    form = {
        "ratios": "train=0.5,valid=0.25,test=0.25",
        "scope": "all",
        "stratify": "on",
        "group_by": "none",
        "separator": "_",
        "seed": "page",
    }
    preview = client.post(url("tools:split-assign", filled), {**form, "action": "preview"})
    assert preview.status_code == 200
    assert b'id="preview"' in preview.content and b"Nothing has been written" in preview.content
    table = preview.context["preview"]["table"]
    assert table["splits"] == ["train", "valid", "test"]
    cat = next(r for r in table["rows"] if r["name"] == "cat")
    assert [(c["before"], c["after"]) for c in cat["cells"]] == [(8, 4), (0, 2), (0, 2)]
    assert memberships() == before
    assert sorted(LabelStat.objects.values_list("id", "item_count"), key=str) == stats_before
    token = preview.context["preview"]["token"]
    assert f'name="preview_token" value="{token}"'.encode() in preview.content
    applied = client.post(
        url("tools:split-assign", filled), {**form, "action": "apply", "preview_token": token}
    )
    assert applied.status_code == 302
    assert applied["Location"] == reverse(
        "seeme:version-detail", kwargs={"dataset_id": filled.dataset_id, "version_id": filled.pk}
    )
    assert memberships() != before
    assert (
        ItemSplit.objects.filter(
            split=splits["valid"], item__annotations__label__name="cat"
        ).count()
        == 2
    )
    assert_stats_exact()


def test_assign_page_shows_errors_in_the_form(user, filled):
    client = browser(user)
    before = memberships()
    for ratios, message in (
        ("train=0.5,valid=0.6", b"add up to 1"),
        ("train=0.5,holdout=0.5", b"no split named"),
        ("train=-1,valid=2", b"from 0 to 1"),
    ):
        response = client.post(
            url("tools:split-assign", filled),
            {"ratios": ratios, "scope": "all", "group_by": "none", "action": "preview"},
        )
        assert response.status_code == 200
        assert message in response.content
        assert b"field__error" in response.content
    assert memberships() == before


ASSIGN_FORM = {
    "ratios": "train=0.8,valid=0.1,test=0.1",
    "scope": "all",
    "group_by": "none",
    "separator": "_",
    "seed": "s",
}


def _preview(client, version, form=ASSIGN_FORM) -> str:
    answer = client.post(url("tools:split-assign", version), {**form, "action": "preview"})
    assert answer.status_code == 200
    return answer.context["preview"]["token"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ratios": "train=0.5,valid=0.25,test=0.25"}, b"The form changed since the preview"),
        ({"seed": "other"}, b"The form changed since the preview"),
        ({"scope": "unassigned"}, b"The form changed since the preview"),
        ({"preview_token": ""}, b"Preview first"),
        ({"preview_token": "forged:token"}, b"Preview first"),
    ],
)
def test_apply_refuses_anything_but_the_previewed_form(user, filled, change, message):
    """Issue 13: preview 0.8/0.1/0.1, change the ratios, Apply: nothing is written."""
    client = browser(user)
    token = _preview(client, filled)
    before = memberships()
    body = {**ASSIGN_FORM, "action": "apply", "preview_token": token, **change}
    answer = client.post(url("tools:split-assign", filled), body)
    assert answer.status_code == 200
    assert message in answer.content
    assert b'role="alert"' in answer.content
    assert memberships() == before


def test_apply_refuses_a_stale_preview(user, filled, splits, settings):
    client = browser(user)
    token = _preview(client, filled)
    before_new = memberships()
    # The version changes after the preview: the previewed plan is no longer the plan.
    ItemFactory.create_batch(3, dataset_version=filled)
    before = memberships()
    assert before == before_new
    body = {**ASSIGN_FORM, "action": "apply", "preview_token": token}
    answer = client.post(url("tools:split-assign", filled), body)
    assert answer.status_code == 200
    assert b"changed since the preview" in answer.content
    assert memberships() == before
    assert_stats_exact()


def test_apply_refuses_an_expired_preview(user, filled, monkeypatch):
    from splits.views import tools

    client = browser(user)
    token = _preview(client, filled)
    monkeypatch.setattr(tools, "PREVIEW_MAX_AGE", -1)
    before = memberships()
    body = {**ASSIGN_FORM, "action": "apply", "preview_token": token}
    answer = client.post(url("tools:split-assign", filled), body)
    assert b"too old" in answer.content
    assert memberships() == before


def test_assign_page_is_for_editors(user, filled):
    viewer, editor = UserFactory(), UserFactory()
    share(filled.dataset, viewer, Role.ANNOTATOR)
    share(filled.dataset, editor, Role.EDITOR)
    assert browser(viewer).get(url("tools:split-assign", filled)).status_code == 403
    assert (
        browser(viewer)
        .post(
            url("tools:split-assign", filled),
            {"ratios": "train=1", "scope": "all", "group_by": "none", "action": "apply"},
        )
        .status_code
        == 403
    )
    assert browser(editor).get(url("tools:split-assign", filled)).status_code == 200
    assert browser(UserFactory()).get(url("tools:split-assign", filled)).status_code == 404
    anonymous = Client().get(url("tools:split-assign", filled))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_health_page_links_findings_to_items(user, filled, splits):
    a = ItemFactory(dataset_version=filled, name="dup-a", text="same", splits=[splits["train"]])
    ItemFactory(dataset_version=filled, name="dup-b", text="same", splits=[splits["test"]])
    client = browser(user)
    page = client.get(url("tools:version-health", filled))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-kind="duplicates"' in html
    item_link = reverse(
        "seeme:item-detail",
        kwargs={"dataset_id": filled.dataset_id, "version_id": filled.pk, "item_id": a.pk},
    )
    assert item_link in html and "dup-a" in html
    browser_link = reverse(
        "seeme:item-list", kwargs={"dataset_id": filled.dataset_id, "version_id": filled.pk}
    )
    unlabelled = f"{browser_link}?splitId={splits['train'].pk}&amp;onlyUnlabelled=true"
    assert unlabelled in html
    listed = client.get(f"{browser_link}?splitId={splits['train'].pk}&onlyUnlabelled=true")
    assert listed.status_code == 200


def test_health_csv_page(user, filled):
    client = browser(user)
    response = client.get(url("tools:version-health-csv", filled))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        [
            "kind",
            "severity",
            "splits",
            "label",
            "label_id",
            "value",
            "item_count",
            "message",
            "item_ids",
        ]
    ]  # 8 cats, 2 dogs, all in train: nothing to say
    strict = client.get(url("tools:version-health-csv", filled) + "?under_represented_ratio=0.5")
    rows = list(csv.reader(io.StringIO(strict.content.decode())))
    assert [(r[0], r[3], r[6]) for r in rows[1:]] == [("under_represented", "dog", "2")]


def test_health_pages_hide_foreign_versions(filled):
    stranger = browser(UserFactory())
    assert stranger.get(url("tools:version-health", filled)).status_code == 404
    assert stranger.get(url("tools:version-health-csv", filled)).status_code == 404
    assert stranger.get(url("tools:version-compare", filled)).status_code == 404


def test_compare_page_and_duplicate_button(user, filled, splits):
    client = browser(user)
    alone = client.get(url("tools:version-compare", filled))
    assert alone.status_code == 200 and b"Nothing to compare" in alone.content
    response = client.post(url("tools:version-duplicate", filled))
    assert response.status_code == 302
    copy = Version.objects.get(dataset=filled.dataset, name="v2")
    assert Item.objects.filter(dataset_version=copy).count() == 14
    ItemFactory(dataset_version=copy, splits=[copy.splits.get(name="train")])
    page = client.get(url("tools:version-compare", filled) + f"?other={copy.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-split="train"' in html
    train = next(s for s in page.context["diff"].splits if s.name == "train")
    total = next(r for r in train.rows if r.kind == "total")
    assert (total.base, total.other, total.difference) == ((10, 10), (11, 10), (1, 0))
    foreign = DatasetFactory(owner=user).versions.get()
    assert (
        client.get(url("tools:version-compare", filled) + f"?other={foreign.pk}").status_code == 404
    )
    assert client.get(url("tools:version-compare", filled) + "?other=nope").status_code == 404
    assert_stats_exact()


def test_duplicate_page_needs_an_editor_and_post(user, filled):
    viewer = UserFactory()
    share(filled.dataset, viewer, Role.VIEWER)
    assert browser(viewer).post(url("tools:version-duplicate", filled)).status_code == 403
    assert browser(user).get(url("tools:version-duplicate", filled)).status_code == 405
    assert filled.dataset.versions.count() == 1


def test_health_page_query_count_does_not_grow_with_rows(
    user, filled, splits, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = browser(user)
    ItemFactory(dataset_version=filled, text="same", splits=[splits["train"]])
    ItemFactory(dataset_version=filled, text="same", splits=[splits["test"]])
    with CaptureQueriesContext(connection) as first:
        assert client.get(url("tools:version-health", filled)).status_code == 200
    for i in range(20):
        ItemFactory(dataset_version=filled, text=f"dup {i}", splits=[splits["valid"]])
        ItemFactory(dataset_version=filled, text=f"dup {i}", splits=[splits["test"]])
    label_services.add_inferences(
        split=splits["valid"],
        user=None,
        inferences=[{"name": f"v{i}", "prediction": "dog"} for i in range(15)],
    )
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get(url("tools:version-health", filled)).status_code == 200


def test_read_pages_answer_get_only(user, filled):
    client = browser(user)
    for name in ("tools:version-health", "tools:version-health-csv", "tools:version-compare"):
        assert client.post(url(name, filled)).status_code == 405
        assert client.head(url(name, filled)).status_code == 200
    assert client.put(url("tools:split-assign", filled)).status_code == 405
