"""The server's database connection dies between requests (a PostgreSQL restart, a fail-over,
an idle timeout, pg_terminate_backend): the next request must still succeed. Persistent
connections (CONN_MAX_AGE) are checked before reuse (CONN_HEALTH_CHECKS); without the check
the next request fails with a 500 on the dead connection.

The requests go through Django's WSGI handler directly, as a server calls it (the test
client would disconnect the request_started hook that does the check)."""

import json

import psycopg
import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from seeme import services
from tests.factories import DatasetFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def serve(path: str, key: str) -> tuple[int, bytes]:
    environ = RequestFactory()._base_environ(
        PATH_INFO=path, REQUEST_METHOD="GET", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    status = {}

    def start_response(line, headers, exc_info=None):
        status["code"] = int(line.split()[0])

    body = b"".join(WSGIHandler()(environ, start_response))
    return status["code"], body


def terminate(pid: int) -> None:
    params = connection.get_connection_params()
    dsn = {k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")}
    with psycopg.connect(**dsn, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_settings_keep_and_check_connections():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    if connection.vendor == "postgresql":
        assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0


@pytest.mark.postgres_only
def test_a_killed_connection_is_replaced_before_the_next_request():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (pg_terminate_backend)")
    user = UserFactory()
    dataset = DatasetFactory(owner=user)
    _, key = services.apikey_create(user=user, name="t")
    url = reverse("dataset-detail", kwargs={"pk": dataset.pk})
    assert serve(url, key)[0] == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    terminate(pid)
    for _ in range(3):
        code, body = serve(url, key)
        assert code == 200, body[:300]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def post(path: str, key: str, body: str) -> tuple[int, dict, bytes]:
    environ = (
        RequestFactory()
        .post(path, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
        .environ
    )
    answer = {}

    def start_response(line, headers, exc_info=None):
        answer["code"] = int(line.split()[0])
        answer["headers"] = dict(headers)

    content = b"".join(WSGIHandler()(environ, start_response))
    return answer["code"], answer["headers"], content


@pytest.mark.postgres_only
def test_a_connection_dropped_mid_request_writes_nothing_and_the_next_request_works(monkeypatch):
    """The database connection is terminated inside a write's transaction (rows inserted,
    statistics about to be updated): the request answers 503 JSON (nothing was saved, try
    again), nothing of it is kept, and the same request then succeeds on a new connection."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (pg_terminate_backend)")
    from labels import stats
    from seeme.models import Item
    from tests.conftest import assert_stats_exact
    from tests.factories import LabelFactory

    user = UserFactory()
    dataset = DatasetFactory(owner=user)
    version = dataset.versions.get()
    train = version.splits.get(name="train")
    LabelFactory(version=version, name="cat")
    _, key = services.apikey_create(user=user, name="t")
    url = reverse(
        "split-add-inferences",
        kwargs={"dataset_id": dataset.pk, "version_id": version.pk, "pk": train.pk},
    )
    body = json.dumps(
        {"inferences": [{"name": f"drop-{i}", "prediction": "cat"} for i in range(50)]}
    )
    original = stats.StatsDelta.apply

    def apply_on_a_dead_connection(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            terminate(cursor.fetchone()[0])
        return original(self)

    monkeypatch.setattr(stats.StatsDelta, "apply", apply_on_a_dead_connection)
    code, headers, content = post(url, key, body)
    assert code == 503, content[:300]
    assert headers["Content-Type"] == "application/json"
    assert b"nothing was saved" in content
    monkeypatch.setattr(stats.StatsDelta, "apply", original)
    assert not Item.objects.filter(name__startswith="drop-").exists()
    assert_stats_exact()
    code, _, content = post(url, key, body)
    assert code == 200, content[:300]
    assert Item.objects.filter(name__startswith="drop-").count() == 50
    assert_stats_exact()
