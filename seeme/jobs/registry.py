"""Job kinds: a name -> the function that does the work.

A kind is registered by the module that owns the work (``labels/jobs.py`` for the label
services), imported from its app's ``ready()``, so web processes and workers know the same
kinds. The function receives a ``JobRun`` and returns a JSON-able result (or None)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seeme.jobs.services import JobRun

JobFunction = Callable[["JobRun"], Any]


@dataclass(frozen=True)
class JobKind:
    """``atomic``: the function and the job's "done" are one transaction (a retried run
    finds either nothing done or the job finished). Otherwise the function commits its own
    steps and must make each one idempotent (``JobRun.checkpoint`` records how far it got,
    in the step's transaction)."""

    name: str
    func: JobFunction
    atomic: bool = True
    title: str = ""


_KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str, *, atomic: bool = True, title: str = ""
) -> Callable[[JobFunction], JobFunction]:
    """Register ``func`` as the work of job kind ``name`` (decorator)."""

    def register(func: JobFunction) -> JobFunction:
        existing = _KINDS.get(name)
        if existing is not None and existing.func is not func:
            raise ValueError(f"job kind {name!r} is already registered by {existing.func!r}")
        _KINDS[name] = JobKind(name=name, func=func, atomic=atomic, title=title or name)
        return func

    return register


def kind_for(name: str) -> JobKind | None:
    return _KINDS.get(name)


def kind_names() -> list[str]:
    return sorted(_KINDS)
