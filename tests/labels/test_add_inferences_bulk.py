"""add_inferences at scale: one transaction and a number of queries that does not grow with
the number of inferences (10 or 3,000), 10,000 inferences in one request, exact stats."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labels.models import Annotation, LabelStat
from seeme import references
from seeme.models import Item
from tests.conftest import assert_stats_exact
from tests.factories import LabelFactory

MAX_QUERIES = 14
# The set checks' statements: whether they may run, the role set and reset, and one per foreign
# key of an item (version, user, file), a membership (item, split) and an annotation (label,
# item, split, user).
SET_CHECKS = 3 + 3 + 2 + 4


def _url(split):
    return reverse(
        "split-add-inferences",
        kwargs={
            "dataset_id": split.version.dataset_id,
            "version_id": split.version_id,
            "pk": split.pk,
        },
    )


def _body(n: int, names: list[str], keep: bool = True) -> dict:
    """Every third inference unlabelled, every fifth with a region besides its prediction."""
    inferences = []
    for i in range(n):
        inference = {"name": f"inference-{i}.jpg", "extension": "jpg", "confidence": 0.9}
        if i % 3:
            inference["prediction"] = names[i % len(names)]
        if i % 5 == 0:
            inference["inference_items"] = [
                {
                    "prediction": names[(i + 1) % len(names)],
                    "confidence": 0.7,
                    "coordinates": "[0.1, 0.1, 0.4, 0.4]",
                },
            ]
        inferences.append(inference)
    return {"keep_annotations": keep, "inferences": inferences}


def _labels(version):
    return [LabelFactory(version=version, name=name).name for name in ("cat", "dog", "bird")]


# On PostgreSQL a block of MIN_ROWS rows or more checks foreign keys by set (seeme.references):
# more statements, as many for 3000 rows as for 10. Both paths, each at both sizes.
@pytest.mark.parametrize("min_rows", [10**9, 1], ids=["per-row-checks", "set-checks"])
def test_query_count_is_the_same_for_10_and_for_3000_inferences(
    api, version, splits, django_assert_num_queries, monkeypatch, min_rows
):
    monkeypatch.setattr(references, "MIN_ROWS", min_rows)
    names = _labels(version)
    url = _url(splits["train"])
    api.get(
        reverse("split-list", kwargs={"dataset_id": version.dataset_id, "version_id": version.pk})
    )  # key's first use
    with CaptureQueriesContext(connection) as small:
        assert api.post(url, _body(10, names), format="json").status_code == 200
    set_checks = min_rows == 1 and connection.vendor == "postgresql"
    bound = MAX_QUERIES + (SET_CHECKS if set_checks else 0)
    assert len(small) <= bound, [q["sql"][:100] for q in small]
    with django_assert_num_queries(len(small)):
        assert api.post(url, _body(3000, names), format="json").status_code == 200
    with CaptureQueriesContext(connection) as unlabelled_small:
        api.post(url, _body(10, names, keep=False), format="json")
    with django_assert_num_queries(len(unlabelled_small)):
        api.post(url, _body(3000, names, keep=False), format="json")
    assert Item.objects.filter(dataset_version=version).count() == 2 * 3010
    assert_stats_exact([splits["train"].pk])


def test_ten_thousand_inferences_in_one_request(api, version, splits):
    names = _labels(version)
    train = splits["train"]
    response = api.post(_url(train), _body(10_000, names), format="json")
    assert response.status_code == 200
    answered = response.json()["inferences"]
    assert len(answered) == 10_000
    new_ids = [a["dataset_item_id"] for a in answered]
    assert len(set(new_ids)) == 10_000
    assert Item.objects.filter(pk__in=new_ids[:50], memberships__split=train).count() == 50
    # Inference items, when there are some, replace the top-level prediction.
    labelled = sum(1 for i in range(10_000) if i % 3 and i % 5)
    regions = sum(1 for i in range(10_000) if i % 5 == 0)
    assert Annotation.objects.filter(split=train).count() == labelled + regions
    total = LabelStat.objects.get(split=train, kind=LabelStat.Kind.TOTAL)
    unlabelled = LabelStat.objects.get(split=train, kind=LabelStat.Kind.UNLABELLED)
    assert (total.item_count, total.annotation_count) == (10_000, labelled + regions)
    bare = sum(1 for i in range(10_000) if not i % 3 and i % 5)
    assert unlabelled.item_count == bare
    assert_stats_exact([train.pk])


def test_a_failed_bulk_request_writes_nothing(api, version, splits):
    names = _labels(version)
    body = _body(2000, names)
    body["inferences"][1999]["prediction"] = "zebra"
    response = api.post(_url(splits["train"]), body, format="json")
    assert response.status_code == 400
    assert "zebra" in response.json()["message"]
    assert not Item.objects.filter(dataset_version=version).exists()
    assert_stats_exact([splits["train"].pk])


def test_ten_thousand_realistic_inferences_fit_in_the_body_limit(api, version, splits):
    """10,000 inferences with descriptions and regions weigh ~4 MB, over Django's default."""
    names = _labels(version)
    body = {
        "keep_annotations": True,
        "inferences": [
            {
                "name": f"photo-{i:06d}.jpg",
                "description": "d" * 200,
                "prediction": names[i % 3],
                "confidence": 0.9,
                "inference_items": [
                    {
                        "prediction": names[(i + 1) % 3],
                        "confidence": 0.5,
                        "coordinates": "[0.1234, 0.2345, 0.3456, 0.4567]",
                    }
                ],
            }
            for i in range(10_000)
        ],
    }
    assert len(json.dumps(body)) > 3 * 2**20
    response = api.post(_url(splits["train"]), body, format="json")
    assert response.status_code == 200, response.content[:200]
    assert_stats_exact([splits["train"].pk])


def test_a_body_over_the_limit_is_a_json_400(api, version, splits, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(_url(splits["train"]), _body(100, _labels(version)), format="json")
    assert response.status_code == 400
    assert "larger than this server accepts" in response.json()["message"]
