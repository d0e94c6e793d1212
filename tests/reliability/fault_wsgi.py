"""The WSGI application with a fault point, for the reliability tests' gunicorn worker.

With ``SEEME_FAULT_POINT`` set to ``before-stats`` or ``before-commit``, the first write that
reaches the statistics engine stops there (inside its transaction: rows written, statistics
not yet, or both written and not committed), writes the worker's pid to
``SEEME_FAULT_MARKER`` and waits to be killed. ``after-commit`` stops right after the commit
(the control: there the whole write must be kept)."""

import os
import time
from pathlib import Path

from django.db import transaction

# isort: off
from seeme.wsgi import application  # noqa: F401  (sets Django up before the models load)
from labels import stats

# isort: on

_original_apply = stats.StatsDelta.apply


def _stop_here() -> None:
    Path(os.environ["SEEME_FAULT_MARKER"]).write_text(str(os.getpid()))
    time.sleep(120)  # the test kills this process long before


def apply(self):
    point = os.environ.get("SEEME_FAULT_POINT")
    if point == "before-stats":
        _stop_here()
    changed = _original_apply(self)
    if point == "before-commit":
        _stop_here()
    if point == "after-commit":  # the meta-test's control: the write is kept
        transaction.on_commit(_stop_here)
    return changed


stats.StatsDelta.apply = apply
