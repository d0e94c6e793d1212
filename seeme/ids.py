"""Primary keys that grow with time: UUID version 7 (RFC 9562).

A random key (version 4) puts every new row on a random page of every index that leads with
it: the primary key, and the item-keyed indexes of annotations and memberships. A bulk write
of 10,000 rows then touches thousands of pages spread over indexes larger than PostgreSQL's
buffer cache, and writes a full copy of each page to the WAL the first time it is dirtied
after a checkpoint. A key that starts with the time lands on the rightmost pages instead,
the ones the previous rows just filled. The key is as unguessable as it needs to be: 32 of
its bits are random, and no access in seeme depends on a key being secret.

``uuid7()`` follows the layout of Python 3.14's ``uuid.uuid7`` (and uses it there): 48 bits
of Unix time in milliseconds, a 42-bit counter that keeps ids of one process increasing
within a millisecond, then 32 random bits. Models name ``seeme.ids.uuid7`` as their default,
never the function behind it, so their migrations do not depend on the Python version.
"""

import os
import threading
import time
import uuid
from collections.abc import Callable

_COUNTER_BITS = 42
_COUNTER_MAX = (1 << _COUNTER_BITS) - 1
_lock = threading.Lock()
_last_ms = 0
_counter = 0


def _next_stamp() -> tuple[int, int]:
    """(milliseconds, counter), strictly increasing as a pair within this process."""
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            # A fresh random start, its top bit clear, leaves room to count up.
            _last_ms, _counter = now_ms, int.from_bytes(os.urandom(6)) >> 7
        elif _counter < _COUNTER_MAX:
            # The same millisecond, or the clock went back: count on from the last id.
            _counter += 1
        else:  # the counter ran out within a millisecond: borrow the next one
            _last_ms, _counter = _last_ms + 1, 0
        return _last_ms, _counter


def _uuid7() -> uuid.UUID:
    """A version 7 UUID made here, for Pythons before 3.14."""
    ms, counter = _next_stamp()
    value = (ms & 0xFFFF_FFFF_FFFF) << 80
    value |= 0x7 << 76  # version 7
    value |= (counter >> 30) << 64  # the counter's high 12 bits
    value |= 0b10 << 62  # RFC 9562 variant
    value |= (counter & 0x3FFF_FFFF) << 32  # its low 30 bits
    value |= int.from_bytes(os.urandom(4))
    return uuid.UUID(int=value)


def _implementation() -> Callable[[], uuid.UUID]:
    """The standard library's ``uuid.uuid7`` where it exists (Python 3.14+), else ours."""
    return getattr(uuid, "uuid7", _uuid7)


_make = _implementation()


def uuid7() -> uuid.UUID:
    """A new time-ordered id: the default of every primary key."""
    return _make()
