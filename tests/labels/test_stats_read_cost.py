"""A stats read by API key costs ONE query (the key, access, ids and rows together), keeps
the access rules of every other read, and writes nothing: a key's ``last_used_at`` is
touched at most once a minute."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from seeme import services
from seeme.models import APIKey, Role
from tests.conftest import client_for
from tests.factories import DatasetFactory, LabelFactory, UserFactory, share

ROUTES = ["label-stats", "split-total"]


def stats_url(route, *, dataset_id, version_id, split_id) -> str:
    kwargs = {"dataset_id": dataset_id, "version_id": version_id, "split_id": split_id}
    return reverse(route, kwargs=kwargs)


def url_of(route, split) -> str:
    return stats_url(
        route,
        dataset_id=split.version.dataset_id,
        version_id=split.version_id,
        split_id=split.pk,
    )


def writes(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))
    ]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("reader", ["owner", "viewer", "superuser"])
def test_a_read_by_key_is_one_query(user, splits, route, reader, django_assert_num_queries):
    LabelFactory(version=splits["train"].version, name="cat")
    dataset = splits["train"].version.dataset
    who = {"owner": user, "viewer": UserFactory(), "superuser": UserFactory(is_superuser=True)}
    if reader == "viewer":
        share(dataset, who["viewer"], Role.VIEWER)
    api = client_for(who[reader])
    url = url_of(route, splits["train"])
    api.get(url)  # the key's first use records last_used_at
    with django_assert_num_queries(1):  # the key (with its user), access and rows together
        response = api.get(url)
    assert response.status_code == 200
    body = response.json()
    rows = body if route == "label-stats" else [body]
    assert {r["split_id"] for r in rows} == {str(splits["train"].pk)}
    if route == "label-stats":
        assert [r["label_id"] != "" for r in body] == [True, False]


@pytest.mark.parametrize("route", ROUTES)
def test_strangers_and_mismatched_ids_get_404(user, other_user, splits, route):
    train = splits["train"]
    version = train.version
    other = DatasetFactory(owner=user).versions.get()
    theirs = DatasetFactory(owner=other_user).versions.get()
    mine = client_for(user)
    assert mine.get(url_of(route, train)).status_code == 200
    assert client_for(other_user).get(url_of(route, train)).status_code == 404
    bad = [
        # another dataset's id, a version of another dataset, a split of another version
        {"dataset_id": other.dataset_id, "version_id": version.pk, "split_id": train.pk},
        {"dataset_id": version.dataset_id, "version_id": other.pk, "split_id": train.pk},
        {
            "dataset_id": version.dataset_id,
            "version_id": version.pk,
            "split_id": other.splits.first().pk,
        },
        {
            "dataset_id": theirs.dataset_id,
            "version_id": theirs.pk,
            "split_id": theirs.splits.first().pk,
        },
    ]
    for ids in bad:
        response = mine.get(stats_url(route, **ids))
        assert response.status_code == 404, ids
    assert mine.get(url_of(route, train).replace(str(train.pk), "not-an-id")).status_code == 404


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_is_refused(anon, splits, route):
    assert anon.get(url_of(route, splits["train"])).status_code in (401, 403)


def test_reads_write_the_key_at_most_once_a_minute(user, splits):
    key, raw = services.apikey_create(user=user, name="reader")
    api = client_for(None)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = url_of("label-stats", splits["train"])
    with CaptureQueriesContext(connection) as captured:
        for _ in range(5):
            assert api.get(url).status_code == 200
    assert len(writes(captured)) == 1
    first = APIKey.objects.get(pk=key.pk).last_used_at
    assert first is not None

    # A minute and more later, the next read records the use again (once).
    APIKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(seconds=61))
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert api.get(url).status_code == 200
    assert len(writes(captured)) == 1
    assert APIKey.objects.get(pk=key.pk).last_used_at > first - timedelta(seconds=61)


def test_the_fast_answer_equals_the_serializer(user, splits):
    from labels.api.serializers import LabelStatSerializer, label_stat_json
    from labels.models import LabelStat

    LabelFactory(version=splits["train"].version, name="cat")
    rows = list(LabelStat.objects.filter(split=splits["train"]))
    assert any(r.label_id is None for r in rows) and any(r.label_id for r in rows)
    assert [label_stat_json(r) for r in rows] == LabelStatSerializer(rows, many=True).data
    body = client_for(user).get(url_of("label-stats", splits["train"])).json()
    by_id = {str(r.pk): r for r in rows}
    assert body == [LabelStatSerializer(by_id[b["id"]]).data for b in body]
