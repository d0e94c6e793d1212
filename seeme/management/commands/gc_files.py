"""Remove stored files that no item and no dataset logo refers to any more."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from seeme.files import blobs_collect_garbage


class Command(BaseCommand):
    help = (
        "Remove blobs (item files, logos, their thumbnails) nothing refers to, last stored "
        "more than the grace period ago. Deleting items, versions or datasets never removes "
        "files by itself: run this from cron (e.g. hourly)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=settings.SEEME_BLOB_GRACE_MINUTES,
            help="Leave blobs stored more recently than this (default SEEME_BLOB_GRACE_MINUTES).",
        )
        parser.add_argument("--dry-run", action="store_true", help="List, do not remove.")
        parser.add_argument(
            "--scan-storage",
            action="store_true",
            help="Also remove files in storage that have no blob row (slow on big stores).",
        )

    def handle(self, *args, grace_minutes, dry_run, scan_storage, **options):
        removed = blobs_collect_garbage(
            grace=timedelta(minutes=grace_minutes), dry_run=dry_run, scan_storage=scan_storage
        )
        verb = "would remove" if dry_run else "removed"
        for sha256 in removed:
            self.stdout.write(f"{verb} {sha256}")
        self.stdout.write(f"{verb} {len(removed)} files")
