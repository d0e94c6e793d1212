"""Large archive imports as jobs (``seeme.jobs``): the request keeps the archive
(``labels.archive.staging``), enqueues ``archive_import`` and answers 202; the job checks
the archive again, builds the plan and imports it in one transaction with the job's "done" (atomic
kind: a run cut short leaves nothing, a retry starts clean). A dry run as a job answers
the report as its result. Large exports run as ``archive_export`` jobs: the same streamed
zip written into the file storage (``seeme.jobs.outputs``), downloaded from the job.
Imported by ``labels.apps.LabelsConfig.ready``."""

import tempfile

from django.conf import settings
from django.core.files import File

from labels.archive import SafeArchive
from labels.archive.export import export_zip
from labels.archive.plan import ArchiveRejected
from labels.archive.rows import ExportScope
from labels.archive.staging import discard, open_staged
from labels.jobs import job_split, job_version, version_page
from labels.models import Annotation
from labels.services.imports import plan_for_version, plan_summary, version_import
from seeme.db import analyze
from seeme.exceptions import NotFound
from seeme.files import file_storage
from seeme.jobs.models import Job
from seeme.jobs.outputs import export_file_discard, export_file_name, exports_prune
from seeme.jobs.registry import job_kind
from seeme.jobs.services import JobRun, enqueue_job
from seeme.models import Item, ItemState, User, Version
from splits.models import DatasetSplit, ItemSplit

ARCHIVE_IMPORT = "archive_import"
ARCHIVE_EXPORT = "archive_export"


def runs_as_job(archive: SafeArchive) -> bool:
    """Whether an archive is large enough to import as a job: more file entries than
    ``SEEME_SYNC_LIMIT`` or more unpacked bytes than ``SEEME_ARCHIVE_SYNC_MB``."""
    entries = sum(1 for _ in archive.files())
    size = sum(e.size for e in archive.entries)
    limit_mb = int(getattr(settings, "SEEME_ARCHIVE_SYNC_MB", 100))
    return entries > int(getattr(settings, "SEEME_SYNC_LIMIT", 20_000)) or size > limit_mb << 20


@job_kind(ARCHIVE_IMPORT, title="Import a zip archive")
def run_archive_import(run: JobRun) -> dict:
    version = job_version(run)
    key = run.params["archive"]
    stream = open_staged(key)
    if stream is None:
        raise NotFound("The uploaded archive is no longer kept; upload it again.")
    user_id = run.job.created_by_id
    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    archive = SafeArchive.open(stream)
    try:
        run.progress(0, None, "Checking the archive")
        plan = plan_for_version(version=version, archive=archive, fmt=run.params["format"])
        total = len(plan.items)
        run.progress(0, total, f"Checked: {total} items")
        if run.params.get("dry_run"):
            report = plan_summary(version=version, plan=plan)
            return {"report": report, "url": version_page(version)}
        if plan.problems:
            discard(key)
            raise ArchiveRejected(plan.problems)

        def progress(done: int, total: int) -> None:
            run.check_cancelled()
            run.progress(done, total, f"Imported {done} of {total} items")

        report = version_import(
            version=version, user=user, plan=plan, archive=archive, progress=progress
        )
    finally:
        archive.close()
        stream.close()
    discard(key)
    analyze(Item, ItemSplit, Annotation, ItemState)  # the planner meets the new rows now
    return {
        "report": report,
        "version_id": str(version.pk),
        "api_url": f"/api/v1/datasets/{version.dataset_id}/versions/{version.pk}",
        "url": version_page(version),
    }


def export_item_count(version: Version, split: DatasetSplit | None) -> int:
    """The items an export covers: the split's members, or the version's items."""
    if split is not None:
        return ItemSplit.objects.filter(split=split).count()
    return Item.objects.filter(dataset_version=version).count()


def export_runs_as_job(version: Version, split: DatasetSplit | None) -> bool:
    """Whether the page exports by a job: more items than ``SEEME_SYNC_LIMIT``."""
    return export_item_count(version, split) > int(getattr(settings, "SEEME_SYNC_LIMIT", 20_000))


def export_enqueue(
    *, version: Version, split: DatasetSplit | None, fmt: str, user: User, key: str = ""
) -> Job:
    """Queue an ``archive_export`` of the version (or one split) in ``fmt``. ``key``: the
    idempotency key (a form's one-time token; the API's ``Idempotency-Key``)."""
    params = {"version_id": str(version.pk), "format": fmt}
    if split is not None:
        params["split_id"] = str(split.pk)
    return enqueue_job(
        ARCHIVE_EXPORT,
        dataset=version.dataset,
        user=user,
        params=params,
        message="Queued",
        idempotency_key=key,
    )


def export_filename(version: Version, split: DatasetSplit | None, fmt: str) -> str:
    """The download's file name: ``<dataset>-<version>[-<split>]-<format>.zip``, path-safe."""
    name = f"{version.dataset.name}-{version.name}" + (f"-{split.name}" if split else "")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:120]
    return f"{safe}-{fmt}.zip"


@job_kind(ARCHIVE_EXPORT, atomic=False, title="Export a zip archive")
def run_archive_export(run: JobRun) -> dict:
    """The streamed export written to a temporary file (memory stays flat), then kept as
    ``exports/<job id>.zip``. Progress per ``PROGRESS_EVERY`` rows read; a cancel stops it
    there. Nothing is kept when the run fails or is cancelled. It writes no rows, so it is
    not atomic: a retried run starts over and replaces the file."""
    exports_prune()
    version = job_version(run)
    split = job_split(version, run.params.get("split_id"))
    fmt = run.params["format"]
    scope = ExportScope.of(version, split)
    total = scope.row_count(fmt)
    run.progress(0, total, "Exporting")

    def on_rows(seen: int) -> None:
        run.check_cancelled()
        run.progress(min(seen, total), total, f"Read {min(seen, total):,} of {total:,} rows")

    scope.on_rows = on_rows
    name = export_file_name(run.job.pk)
    storage = file_storage()
    size = 0
    try:
        with tempfile.TemporaryFile() as spool:
            for chunk in export_zip(scope, fmt):
                spool.write(chunk)
                size += len(chunk)
            run.check_cancelled()
            spool.seek(0)
            export_file_discard(name)  # a retried run replaces the file
            saved = storage.save(name, File(spool))
        if saved != name:  # pragma: no cover - the name was just freed
            storage.delete(saved)
            raise RuntimeError(f"storage saved {name} as {saved}")
        run.check_cancelled()
    except BaseException:
        export_file_discard(name)
        raise
    run.progress(total, total, f"Exported {total:,} rows ({size:,} bytes)")
    return {
        "file": name,
        "filename": export_filename(version, split, fmt),
        "format": fmt,
        "size": size,
        "version_id": str(version.pk),
        "split_id": str(split.pk) if split else None,
        "url": f"/api/v1/jobs/{run.job.pk}/download",
    }
