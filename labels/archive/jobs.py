"""Large archive imports as jobs (``seeme.jobs``): the request keeps the archive
(``labels.archive.staging``), enqueues ``archive_import`` and answers 202; the job checks
the archive again, builds the plan and imports it in one transaction with the job's "done" (atomic
kind: a run cut short leaves nothing, a retry starts clean). A dry run as a job answers
the report as its result. Imported by ``labels.apps.LabelsConfig.ready``."""

from django.conf import settings

from labels.archive import SafeArchive
from labels.archive.plan import ArchiveRejected
from labels.archive.staging import discard, open_staged
from labels.services.imports import plan_for_version, plan_summary, version_import
from seeme.exceptions import NotFound
from seeme.jobs.registry import job_kind
from seeme.jobs.services import JobRun
from seeme.models import User, Version

ARCHIVE_IMPORT = "archive_import"


def runs_as_job(archive: SafeArchive) -> bool:
    """Whether an archive is large enough to import as a job: more file entries than
    ``SEEME_SYNC_LIMIT`` or more unpacked bytes than ``SEEME_ARCHIVE_SYNC_MB``."""
    entries = sum(1 for _ in archive.files())
    size = sum(e.size for e in archive.entries)
    limit_mb = int(getattr(settings, "SEEME_ARCHIVE_SYNC_MB", 100))
    return entries > int(getattr(settings, "SEEME_SYNC_LIMIT", 20_000)) or size > limit_mb << 20


def version_page(version: Version) -> str:
    return f"/datasets/{version.dataset_id}/versions/{version.pk}/"


@job_kind(ARCHIVE_IMPORT, title="Import a zip archive")
def run_archive_import(run: JobRun) -> dict:
    dataset_id = run.job.dataset_id
    version = (
        Version.objects.select_related("dataset")
        .filter(pk=run.params["version_id"], dataset_id=dataset_id)
        .first()
        if dataset_id is not None
        else None
    )
    if version is None:
        raise NotFound("The version no longer exists.")
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
    return {
        "report": report,
        "version_id": str(version.pk),
        "api_url": f"/api/v1/datasets/{version.dataset_id}/versions/{version.pk}",
        "url": version_page(version),
    }
