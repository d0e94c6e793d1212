"""The kernel's own job kind: ``noop``, a job that does nothing but report, for measuring the
queue (docs/benchmarks.md) and for tests of the machinery. Params: ``steps`` (progress
steps), ``sleep`` (seconds per step), ``fail`` (fail with this message after the steps)."""

import time

from seeme.jobs.registry import job_kind
from seeme.jobs.services import JobRun


# Not atomic: it writes nothing of its own, and an atomic kind holds a transaction for its
# whole run (on SQLite, the database's one write lock).
@job_kind("noop", atomic=False, title="No-op (diagnostics)")
def noop(run: JobRun) -> dict:
    steps = max(0, min(int(run.params.get("steps", 0)), 100_000))
    pause = max(0.0, min(float(run.params.get("sleep", 0)), 60.0))
    for step in range(1, steps + 1):
        run.check_cancelled()
        if pause:
            time.sleep(pause)
        run.progress(step, steps, f"Step {step} of {steps}")
    if run.params.get("fail"):
        raise RuntimeError(str(run.params["fail"]))
    return {"steps": steps}
