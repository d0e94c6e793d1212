"""The label-stats reads by API key check the key in the query of their rows
(``labels.selectors.label_stats_by_key``, a hand-written SQL statement). These tests hold it
to the two reads it replaces: ``seeme.services.apikey_authenticate`` for the key and
``label_stats_of_split_id`` / ``label_stat_total_of_split_id`` (``dataset_list_visible``, the
one access rule) for the rows, over every key state and every kind of reader."""

from datetime import UTC, datetime, timedelta
from datetime import timezone as timezone_of

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from labels import selectors
from seeme import services
from seeme.models import APIKey, Role
from tests.factories import DatasetFactory, LabelFactory, UserFactory, share

ROUTES = {"label-stats": False, "split-total": True}


def url_of(route: str, *, dataset_id, version_id, split_id) -> str:
    kwargs = {"dataset_id": dataset_id, "version_id": version_id, "split_id": split_id}
    return reverse(route, kwargs=kwargs)


def orm_read(user, total: bool, **ids) -> list:
    if total:
        row = selectors.label_stat_total_of_split_id(user=user, **ids)
        return [] if row is None else [row]
    return selectors.label_stats_of_split_id(user=user, **ids)


@pytest.fixture
def world(db):
    """Two datasets of two owners, with labels, and readers of every kind."""
    owner, other = UserFactory(), UserFactory()
    mine = DatasetFactory(owner=owner).versions.get()
    theirs = DatasetFactory(owner=other).versions.get()
    for version in (mine, theirs):
        for name in ("cat", "dog", "eel"):
            LabelFactory(version=version, name=name)
    readers = {
        "owner": owner,
        "stranger": UserFactory(),
        "staff": UserFactory(is_staff=True),
        "superuser": UserFactory(is_superuser=True),
    }
    for role in (Role.VIEWER, Role.ANNOTATOR, Role.EDITOR):
        readers[f"shared {role}"] = UserFactory()
        share(mine.dataset, readers[f"shared {role}"], role)
    return mine, theirs, readers


def id_combinations(mine, theirs):
    """The right ids, and every way of mixing in another dataset's, version's or split's."""
    right = {"dataset_id": mine.dataset_id, "version_id": mine.pk}
    yield {**right, "split_id": mine.splits.order_by("created_at").first().pk}
    yield {**right, "split_id": mine.splits.order_by("created_at").last().pk}
    yield {**right, "split_id": theirs.splits.first().pk}
    yield {
        "dataset_id": theirs.dataset_id,
        "version_id": mine.pk,
        "split_id": mine.splits.first().pk,
    }
    yield {
        "dataset_id": mine.dataset_id,
        "version_id": theirs.pk,
        "split_id": theirs.splits.first().pk,
    }
    yield {
        "dataset_id": theirs.dataset_id,
        "version_id": theirs.pk,
        "split_id": theirs.splits.first().pk,
    }


@pytest.mark.parametrize("total", [False, True], ids=["label-stats", "split-total"])
def test_rows_equal_the_orm_read_for_every_reader_and_every_mix_of_ids(world, total):
    mine, theirs, readers = world
    checked = 0
    for who, user in readers.items():
        _, raw = services.apikey_create(user=user, name="k")
        for ids in id_combinations(mine, theirs):
            key, rows = selectors.label_stats_by_key(raw_key=raw, total=total, **ids)
            assert key is not None and key.user_id == user.pk, who
            expected = orm_read(user, total, **ids)
            assert [r.pk for r in rows] == [r.pk for r in expected], (who, ids)
            assert [(r.label_id, r.count, r.item_count) for r in rows] == [
                (r.label_id, r.count, r.item_count) for r in expected
            ]
            checked += bool(expected)
    # Not vacuous: the owner, the three shares and the superuser read both of the first
    # dataset's splits they were asked for; the superuser also the other dataset's.
    assert checked == 5 * 2 + 1


def key_states(user):
    """(name, raw key, authenticates?) for every state a key can be in."""
    now = timezone.now()
    live, live_raw = services.apikey_create(user=user, name="live")
    yield "live", live_raw, True
    expiring, raw = services.apikey_create(user=user, name="future")
    APIKey.objects.filter(pk=expiring.pk).update(expires_at=now + timedelta(hours=1))
    yield "expires later", raw, True
    expired, raw = services.apikey_create(user=user, name="expired")
    APIKey.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(seconds=1))
    yield "expired", raw, False
    revoked, raw = services.apikey_create(user=user, name="revoked")
    services.apikey_revoke(key=revoked)
    yield "revoked", raw, False
    yield "unknown", live_raw + "x", False
    yield "empty", "", False
    inactive = UserFactory(is_active=False)
    _, raw = services.apikey_create(user=inactive, name="inactive")
    yield "user deactivated", raw, False


@pytest.mark.parametrize("route", ROUTES)
def test_every_key_state_answers_as_the_key_lookup_does(world, route):
    mine, _, readers = world
    split = mine.splits.first()
    url = url_of(route, dataset_id=mine.dataset_id, version_id=mine.pk, split_id=split.pk)
    for name, raw, live in key_states(readers["owner"]):
        assert (services.apikey_authenticate(raw_key=raw) is not None) is live, name
        key, _ = selectors.label_stats_by_key(
            raw_key=raw,
            total=ROUTES[route],
            dataset_id=mine.dataset_id,
            version_id=mine.pk,
            split_id=split.pk,
        )
        assert (key is not None) is live, name
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        stats, floor = client.get(url), client.get(reverse("applications"))
        # The same answer as an endpoint that authenticates the usual way.
        assert stats.status_code == (200 if live else floor.status_code), name
        if not live:
            assert stats.status_code == 401
            assert stats.json() == floor.json()
            assert stats["WWW-Authenticate"] == floor["WWW-Authenticate"]


def test_the_request_user_is_the_key_user_with_every_field(world):
    """The user comes back from the keyed read with a few columns; the rest load on use."""
    mine, _, readers = world
    owner = readers["owner"]
    _, raw = services.apikey_create(user=owner, name="k")
    key, _ = selectors.label_stats_by_key(
        raw_key=raw,
        total=True,
        dataset_id=mine.dataset_id,
        version_id=mine.pk,
        split_id=mine.splits.first().pk,
    )
    assert key is not None
    assert key.user.pk == owner.pk and key.user.username == owner.username
    assert key.user.email == owner.email  # deferred: read on first use
    assert key.name == "k"
    assert key.last_used_at is not None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL prepared statements")
@pytest.mark.parametrize("enabled", [True, False])
def test_the_read_is_a_prepared_statement_on_postgresql(world, settings, enabled):
    settings.SEEME_PREPARED_STATEMENTS = enabled
    mine, _, readers = world
    _, raw = services.apikey_create(user=readers["owner"], name="k")
    ids = {
        "dataset_id": mine.dataset_id,
        "version_id": mine.pk,
        "split_id": mine.splits.first().pk,
    }
    for _ in range(3):
        assert selectors.label_stats_by_key(raw_key=raw, total=False, **ids)[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%seeme_apikey%labels_labelstat%"],
        )
        (prepared,) = cursor.fetchone()
    assert (prepared >= 1) is enabled


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9998, 12, 30),
        timezones=st.sampled_from([UTC, timezone_of(timedelta(hours=5, minutes=30))]),
    )
)
def test_the_fast_timestamp_equals_the_drf_field(value):
    from labels.api.serializers import _TIMESTAMP, _timestamp

    assert _timestamp(value) == _TIMESTAMP.to_representation(value)
