"""Split health: balance findings from LabelStat rows, leakage findings from SQL."""

import csv
import io

import pytest
from django.urls import reverse

from labels import services as label_services
from labels.reports import split_health
from seeme.models import Role
from tests.conftest import client_for
from tests.factories import DatasetFactory, ItemFactory, LabelFactory, UserFactory, share


def fill(split, sizes, unlabelled=0, prefix=""):
    """``sizes`` items per label name in ``split`` (labels must exist), plus bare items."""
    inferences = [
        {"name": f"{prefix}{split.name}-{name}-{i}", "prediction": name}
        for name, n in sizes.items()
        for i in range(n)
    ]
    ids = label_services.add_inferences(split=split, user=None, inferences=inferences)
    bare = [ItemFactory(dataset_version=split.version, splits=[split]) for _ in range(unlabelled)]
    return ids, bare


def findings(report, kind):
    return [f for f in report.findings if f.kind == kind]


@pytest.fixture
def labels(version):
    return {
        name: LabelFactory(version=version, name=name) for name in ("cat", "dog", "bird", "fish")
    }


def test_missing_labels_and_share_gaps(version, splits, labels):
    fill(splits["train"], {"cat": 20, "dog": 10, "bird": 2})
    fill(splits["valid"], {"cat": 5, "bird": 1})
    report = split_health(version=version)
    missing = findings(report, "missing_label")
    # dog is in train but not in valid; the empty test split and the unused fish are not named.
    assert [(f.label.name, [s.name for s in f.splits]) for f in missing] == [("dog", ["valid"])]
    gaps = {f.label.name: f for f in findings(report, "share_imbalance")}
    assert set(gaps) == {"cat", "dog", "bird"}
    assert gaps["dog"].value == pytest.approx(10 / 32)
    assert [s.name for s in gaps["cat"].splits] == ["valid", "train"]  # highest share first
    assert gaps["cat"].filters == [
        {"splitId": splits["valid"].pk, "labelId": labels["cat"].pk},
        {"splitId": splits["train"].pk, "labelId": labels["cat"].pk},
    ]
    relaxed = split_health(version=version, share_threshold=0.3)
    assert {f.label.name for f in findings(relaxed, "share_imbalance")} == {"dog"}


def test_under_represented_labels_relative_to_the_largest(version, splits, labels):
    fill(splits["train"], {"cat": 40, "dog": 10, "bird": 3})
    report = split_health(version=version)
    assert [(f.label.name, f.item_count) for f in findings(report, "under_represented")] == [
        ("bird", 3),
        ("fish", 0),
    ]
    strict = split_health(version=version, under_represented_ratio=0.3)
    assert [f.label.name for f in findings(strict, "under_represented")] == ["dog", "bird", "fish"]


def test_items_in_more_than_one_split_are_named(version, splits):
    twice = [
        ItemFactory(dataset_version=version, splits=[splits["train"], splits["test"]])
        for _ in range(3)
    ]
    thrice = ItemFactory(
        dataset_version=version, splits=[splits["train"], splits["valid"], splits["test"]]
    )
    ItemFactory(dataset_version=version, splits=[splits["valid"]])
    report = split_health(version=version)
    found = {tuple(s.name for s in f.splits): f for f in findings(report, "multi_split_items")}
    assert set(found) == {("train", "valid"), ("train", "test"), ("valid", "test")}
    assert found[("train", "test")].item_count == 4
    assert set(found[("train", "test")].item_ids) == {i.pk for i in twice} | {thrice.pk}
    assert found[("train", "valid")].item_ids == [thrice.pk]
    limited = split_health(version=version, item_limit=2)
    pair = next(
        f
        for f in findings(limited, "multi_split_items")
        if [s.name for s in f.splits] == ["train", "test"]
    )
    assert pair.item_count == 4 and len(pair.item_ids) == 2


def test_duplicates_across_splits_by_text_and_by_file_hash(version, splits):
    a = ItemFactory(dataset_version=version, text="the same sentence", splits=[splits["train"]])
    b = ItemFactory(dataset_version=version, text="the same sentence", splits=[splits["test"]])
    c = ItemFactory(dataset_version=version, content_hash="f" * 64, splits=[splits["train"]])
    d = ItemFactory(dataset_version=version, content_hash="f" * 64, splits=[splits["valid"]])
    # Not leakage: identical items in one split, and one item in two splits.
    ItemFactory(dataset_version=version, text="twin", splits=[splits["valid"]])
    ItemFactory(dataset_version=version, text="twin", splits=[splits["valid"]])
    ItemFactory(dataset_version=version, text="alone", splits=[splits["train"], splits["test"]])
    ItemFactory(dataset_version=version, text="", splits=[splits["train"]])
    ItemFactory(dataset_version=version, text="", splits=[splits["test"]])
    report = split_health(version=version)
    dups = {tuple(s.name for s in f.splits): f for f in findings(report, "duplicates")}
    assert set(dups) == {("train", "valid"), ("train", "test")}
    assert set(dups[("train", "test")].item_ids) == {a.pk, b.pk}
    assert set(dups[("train", "valid")].item_ids) == {c.pk, d.pk}
    assert dups[("train", "test")].value == 1.0


def test_unlabelled_share_per_split(version, splits, labels):
    fill(splits["train"], {"cat": 6}, unlabelled=2)
    fill(splits["valid"], {"cat": 3})
    report = split_health(version=version)
    shares = {s.split.name: s.unlabelled_share for s in report.splits}
    assert shares == {"train": 0.25, "valid": 0.0, "test": None}
    (finding,) = findings(report, "unlabelled")
    assert finding.splits == [splits["train"]] and finding.item_count == 2
    assert finding.filters == [{"splitId": splits["train"].pk, "onlyUnlabelled": True}]
    assert findings(split_health(version=version, unlabelled_threshold=0.3), "unlabelled") == []


def test_health_reads_a_fixed_number_of_queries(version, splits, labels, django_assert_num_queries):
    fill(splits["train"], {"cat": 2})
    with django_assert_num_queries(5):
        split_health(version=version)
    fill(splits["train"], {"cat": 30, "dog": 9}, prefix="more-")
    fill(splits["valid"], {"bird": 4}, unlabelled=3)
    with django_assert_num_queries(5):
        split_health(version=version)


def test_shares_come_from_the_persisted_rows(version, splits, labels):
    fill(splits["train"], {"cat": 4}, unlabelled=4)
    from labels.models import LabelStat

    # Only the stats rows say otherwise: the report must follow them (no recount).
    LabelStat.objects.filter(split=splits["train"], kind="unlabelled").update(item_count=1, count=1)
    (finding,) = findings(split_health(version=version), "unlabelled")
    assert finding.item_count == 1


# -- API ------------------------------------------------------------------------------------


def health_url(version, **params):
    url = reverse(
        "version-health", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk}
    )
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_api_health_links_each_finding_to_its_items(api, version, splits, labels):
    fill(splits["train"], {"cat": 3}, unlabelled=2)
    response = api.get(health_url(version))
    assert response.status_code == 200
    data = response.json()
    train = next(s for s in data["splits"] if s["name"] == "train")
    assert (train["items"], train["unlabelled"], train["unlabelled_share"]) == (5, 2, 0.4)
    assert next(lb for lb in train["labels"] if lb["name"] == "cat")["share"] == 0.6
    unlabelled = next(f for f in data["findings"] if f["kind"] == "unlabelled")
    (url,) = unlabelled["items_urls"]
    assert "onlyUnlabelled=true" in url and str(splits["train"].pk) in url
    listed = api.get(url).json()
    assert len(listed) == 2 and all(item["annotations"] == [] for item in listed)
    fish = next(
        f for f in data["findings"] if f["kind"] == "under_represented" and f["label"] == "fish"
    )
    assert fish["label_id"] == str(labels["fish"].pk) and fish["item_count"] == 0


def test_api_health_item_ids_for_leakage(api, version, splits):
    a = ItemFactory(dataset_version=version, text="same", splits=[splits["train"]])
    b = ItemFactory(dataset_version=version, text="same", splits=[splits["valid"]])
    data = api.get(health_url(version)).json()
    (dup,) = [f for f in data["findings"] if f["kind"] == "duplicates"]
    assert sorted(dup["item_ids"]) == sorted([str(a.pk), str(b.pk)])
    assert dup["splits"] == ["train", "valid"]
    assert dup["split_ids"] == [str(splits["train"].pk), str(splits["valid"].pk)]


def test_api_health_csv(api, version, splits, labels):
    fill(splits["train"], {"cat": 3}, unlabelled=1)
    json_findings = api.get(health_url(version)).json()["findings"]
    response = api.get(health_url(version, format="csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["kind", "severity", "splits"]
    assert [r[0] for r in rows[1:]] == [f["kind"] for f in json_findings]


@pytest.mark.parametrize(
    "params", [{"share_threshold": 2}, {"item_limit": -1}, {"under_represented_ratio": "lots"}]
)
def test_api_health_bad_parameters_are_400(api, version, params):
    response = api.get(health_url(version, **params))
    assert response.status_code == 400 and response.json()["message"]


def test_api_health_visibility(user, version):
    viewer = UserFactory()
    share(version.dataset, viewer, Role.VIEWER)
    assert client_for(viewer).get(health_url(version)).status_code == 200
    assert client_for(UserFactory()).get(health_url(version)).status_code == 404
    foreign = DatasetFactory().versions.get()
    response = client_for(user).get(health_url(foreign, format="csv"))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["message"]


FORMULAS = ["=HYPERLINK(1)", "+1", "-1", "@SUM(1)", "\tx", "\rx"]


def test_health_csv_neutralises_formulas_on_the_api_and_the_page(user, api, version, splits):
    for name in FORMULAS:
        LabelFactory(version=version, name=name)
    fill(splits["train"], {FORMULAS[0]: 3})
    ids = {"dataset_id": version.dataset_id, "version_id": version.pk}
    page = page_client_for(user).get(reverse("tools:version-health-csv", kwargs=ids))
    for response in (api.get(health_url(version, format="csv")), page):
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
        cells = [cell for row in rows for cell in row]
        assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))], rows
        labels_column = {row[3] for row in rows[1:]}
        assert {"'+1", "'@SUM(1)", "'\tx"} <= labels_column  # under-represented labels


def page_client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client
