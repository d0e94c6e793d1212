"""Transaction helpers shared by every service."""

import functools
import logging
import time

from django.db import OperationalError, connection, transaction

log = logging.getLogger(__name__)

# SQLSTATEs worth one more try: deadlock_detected, serialization_failure.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
MAX_ATTEMPTS = 5


def _retryable(exc: OperationalError) -> bool:
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(exc)


def atomic_write(func):
    """Run a service in one transaction, retrying it whole after a deadlock.

    The retry only happens at the outermost level: a service called from inside another
    transaction joins it and lets the error travel up to the outer ``atomic_write``.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if connection.in_atomic_block:
            with transaction.atomic():
                return func(*args, **kwargs)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except OperationalError as exc:
                if attempt == MAX_ATTEMPTS or not _retryable(exc):
                    raise
                log.info("retrying %s after %s (attempt %d)", func.__name__, exc, attempt)
                time.sleep(0.01 * attempt)
        raise AssertionError("unreachable")

    return wrapper
