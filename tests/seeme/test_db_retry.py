"""seeme.db.atomic_write: a deadlock or serialization failure is retried, whole, and never
reaches the caller while a retry can still succeed. (Retries happen at the outermost
transaction only, hence ``transactional_db``: ``db`` wraps each test in one.)"""

import threading
import traceback

import pytest
from django.db import OperationalError, connection

from seeme.db import MAX_ATTEMPTS, atomic_write
from seeme.models import Version
from tests.factories import VersionFactory


class _Cause(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _failing(times: int, sqlstate: str):
    """A service that fails ``times`` times with ``sqlstate``, then answers."""
    calls = []

    @atomic_write
    def service():
        calls.append(1)
        if len(calls) <= times:
            error = OperationalError("simulated")
            error.__cause__ = _Cause(sqlstate)
            raise error
        return "done"

    return service, calls


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"], ids=["deadlock", "serialization"])
def test_a_retryable_failure_is_retried_whole(transactional_db, sqlstate):
    service, calls = _failing(2, sqlstate)
    assert service() == "done"
    assert len(calls) == 3


def test_other_operational_errors_are_not_retried(transactional_db):
    service, calls = _failing(1, "08006")
    with pytest.raises(OperationalError):
        service()
    assert len(calls) == 1


def test_retries_stop_after_the_last_attempt(transactional_db):
    service, calls = _failing(MAX_ATTEMPTS, "40P01")
    with pytest.raises(OperationalError):
        service()
    assert len(calls) == MAX_ATTEMPTS


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_is_retried_and_both_writers_finish():
    """Two writers lock two version rows in opposite orders: PostgreSQL aborts one of them
    (deadlock_detected), atomic_write runs it again, and both finish."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    first, second = VersionFactory().pk, VersionFactory().pk
    both_hold_one = threading.Barrier(2)
    attempts: list[str] = []
    errors: list[str] = []

    @atomic_write
    def lock_both(name: str, a, b) -> None:
        attempts.append(name)
        Version.objects.select_for_update().get(pk=a)
        if attempts.count(name) == 1:
            both_hold_one.wait(timeout=10)
        Version.objects.select_for_update().get(pk=b)

    def writer(name: str, a, b) -> None:
        try:
            lock_both(name, a, b)
        except BaseException:
            errors.append(traceback.format_exc())
        finally:
            connection.close()

    threads = [
        threading.Thread(target=writer, args=("one", first, second)),
        threading.Thread(target=writer, args=("two", second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [], "\n".join(errors)
    # At least one writer ran again. Its retry can meet the other writer once more (it may
    # take its first row back before the other writer, just woken, takes it), so the count is
    # not fixed; each writer stays within the retry budget and both finished.
    assert len(attempts) >= 3 and set(attempts) == {"one", "two"}
    assert all(attempts.count(name) <= MAX_ATTEMPTS for name in ("one", "two"))
