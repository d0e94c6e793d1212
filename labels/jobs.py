"""Job kinds of the label services: the long work that runs on the queue (``seeme.jobs``).

Each kind is atomic (the default): the service's one transaction and the job's "done"
commit together, so a run cut short leaves nothing and a retry starts clean. Params are
JSON (ids as strings); a kind re-reads its rows, takes the same locks and validates again,
as the request would have. Imported by ``labels.apps.LabelsConfig.ready``.
"""

import uuid

from django.conf import settings
from django.db import transaction

from labels.generate import generate_chunk
from labels.health_scan import HEALTH_SCAN, health_scan_run, pending_scan
from labels.models import Annotation
from labels.services.assignment import items_assign_to_splits, items_move_to_split
from labels.services.reconcile import label_stats_reconcile
from labels.services.versions import version_duplicate
from seeme.db import analyze
from seeme.exceptions import NotFound
from seeme.jobs.models import Job
from seeme.jobs.registry import job_kind
from seeme.jobs.services import JobRun, enqueue_job
from seeme.models import Item, ItemState, User, Version
from splits.models import DatasetSplit, ItemSplit

VERSION_DUPLICATE = "version_duplicate"
SPLIT_ASSIGN = "split_assign"
SPLIT_MOVE = "split_move"
RECONCILE = "reconcile"
GENERATE_DATASET = "generate_dataset"


def sync_limit() -> int:
    """Work on more items than this runs as a job (``SEEME_SYNC_LIMIT``)."""
    return int(getattr(settings, "SEEME_SYNC_LIMIT", 20_000))


def job_version(run: JobRun) -> Version:
    version = (
        Version.objects.select_related("dataset")
        .filter(pk=run.params["version_id"], dataset_id=run.job.dataset_id)
        .first()
    )
    if version is None:
        raise NotFound("The version no longer exists.")
    return version


def job_split(version: Version, split_id: str | None) -> DatasetSplit | None:
    if not split_id:
        return None
    split = DatasetSplit.objects.filter(pk=split_id, version=version).first()
    if split is None:
        raise NotFound("The split no longer exists.")
    split.version = version
    return split


def version_page(version: Version) -> str:
    return f"/datasets/{version.dataset_id}/versions/{version.pk}/"


@job_kind(VERSION_DUPLICATE, title="Duplicate a version")
def run_version_duplicate(run: JobRun) -> dict:
    version = job_version(run)
    user = User.objects.filter(pk=run.job.created_by_id).first()
    copy = version_duplicate(
        version=version,
        user=user,
        name=run.params.get("name", ""),
        description=run.params.get("description") or None,
        progress=lambda done, total, message: (
            run.check_cancelled(),
            run.progress(done, total, message),
        ),
    )
    analyze(Item, ItemSplit, Annotation, ItemState)  # the planner meets the copy now
    return {
        "version_id": str(copy.pk),
        "name": copy.name,
        "api_url": f"/api/v1/datasets/{copy.dataset_id}/versions/{copy.pk}",
        "url": version_page(copy),
    }


def health_scan_enqueue(*, version: Version, user: User, idempotency_key: str = "") -> Job:
    """Start a scan of the version's item-level health checks, or hand back the one that is
    already queued or running (a second click while it runs is the same scan)."""
    pending = pending_scan(version)
    if pending is not None:
        return pending
    return enqueue_job(
        HEALTH_SCAN,
        dataset=version.dataset,
        user=user,
        params={"version_id": str(version.pk)},
        total=1,
        message="Queued",
        idempotency_key=idempotency_key,
    )


# Not atomic: it only reads (an atomic kind would hold a transaction for the whole scan, on
# SQLite the database's one write lock).
@job_kind(HEALTH_SCAN, atomic=False, title="Check split health (items)")
def run_health_scan(run: JobRun) -> dict:
    version = job_version(run)
    result = health_scan_run(version=version, progress=run.progress)
    return {**result, "url": f"{version_page(version)}health/"}


@job_kind(SPLIT_ASSIGN, title="Assign items to splits")
def run_split_assign(run: JobRun) -> dict:
    version = job_version(run)
    options = {k: v for k, v in run.params.items() if k != "version_id"}
    run.progress(0, 1, "Assigning" if not options.get("dry_run") else "Planning (dry run)")
    result = items_assign_to_splits(version=version, **options)
    run.progress(1, 1)
    # A dry run's answer is the preview table, shown by the assign page.
    url = f"{version_page(version)}splits/assign/?job={run.job.pk}" if result.dry_run else ""
    # The plan's fingerprint lets the page hand out a preview token: Apply is this plan.
    extra = {"fingerprint": result.fingerprint()} if result.dry_run else {}
    return {**result.as_dict(), **extra, "url": url or version_page(version)}


@job_kind(SPLIT_MOVE, title="Move items to a split")
def run_split_move(run: JobRun) -> dict:
    version = job_version(run)
    split = job_split(version, run.params["split_id"])
    assert split is not None
    item_ids = run.params.get("item_ids")
    run.progress(0, 1, "Moving")
    result = items_move_to_split(
        split=split,
        item_ids=[uuid.UUID(i) for i in item_ids] if item_ids is not None else None,
        filters=run.params.get("filters"),
        from_split=job_split(version, run.params.get("from_split")),
    )
    run.progress(1, 1)
    return {**result.as_dict(), "split_id": str(split.pk), "url": version_page(version)}


def _counts(counts) -> dict | None:
    if counts is None:
        return None
    return {"annotations": counts.annotation_count, "items": counts.item_count}


@job_kind(RECONCILE, title="Reconcile label statistics")
def run_reconcile(run: JobRun) -> dict:
    dataset_ids = [run.job.dataset_id] if run.job.dataset_id else None
    run.progress(0, 1, "Recounting")
    drift = label_stats_reconcile(
        dataset_ids=dataset_ids, dry_run=bool(run.params.get("dry_run", False))
    )
    run.progress(1, 1)
    return {
        "drifted_rows": len(drift),
        "rows": [
            {
                "split_id": str(d.split_id),
                "kind": d.kind,
                "label_id": str(d.label_id) if d.label_id else "",
                "stored": _counts(d.stored),
                "expected": _counts(d.expected),
            }
            for d in drift[:100]
        ],
        "dry_run": bool(run.params.get("dry_run", False)),
    }


GENERATE_OPTIONS = (
    "items",
    "chunk",
    "seed",
    "zipf",
    "multi_label",
    "unlabelled",
    "multi",
    "images",
)


def generate_dataset_enqueue(
    *, version: Version, owner: User, split_ids, split_cum, label_ids, opts: dict
) -> Job:
    """Queue the item load of a generated dataset whose splits and labels exist."""
    return enqueue_job(
        GENERATE_DATASET,
        dataset=version.dataset,
        user=owner,
        params={
            "version_id": str(version.pk),
            "split_ids": [str(i) for i in split_ids],
            "split_cum": list(split_cum),
            "label_ids": [str(i) for i in label_ids],
            "opts": {k: opts[k] for k in GENERATE_OPTIONS},
        },
        total=opts["items"],
        message="Queued",
    )


@job_kind(GENERATE_DATASET, atomic=False, title="Generate a dataset")
def run_generate_dataset(run: JobRun) -> dict:
    """Chunk by chunk, each chunk and the job's ``done`` in one transaction: a retry resumes
    after the last committed chunk and makes the same items (per-chunk random streams)."""
    version = job_version(run)
    opts = run.params["opts"]
    total, chunk = int(opts["items"]), int(opts["chunk"])
    owner = User.objects.filter(pk=run.job.created_by_id).first()
    base = run.job.created_at
    start = run.job.done
    run.progress(start, total, "Loading items")
    while start < total:
        run.check_cancelled()
        size = min(chunk, total - start)
        with transaction.atomic():
            generate_chunk(
                version=version,
                owner=owner,
                split_ids=[uuid.UUID(i) for i in run.params["split_ids"]],
                split_cum=run.params["split_cum"],
                label_ids=[uuid.UUID(i) for i in run.params["label_ids"]],
                opts=opts,
                start=start,
                size=size,
                base=base,
            )
            run.checkpoint(start + size)
        start += size
        run.progress(start, total, f"{start:,} of {total:,} items")
    return {"version_id": str(version.pk), "items": total, "url": version_page(version)}
