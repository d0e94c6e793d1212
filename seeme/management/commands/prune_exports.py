"""``manage.py prune_exports``: delete export files (``exports/``) older than
``SEEME_EXPORT_KEEP_HOURS`` and those of jobs that were not done. Export jobs also prune on
their way; run this from cron where exports are rare."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from seeme.jobs.outputs import exports_prune


class Command(BaseCommand):
    help = "Delete export files older than SEEME_EXPORT_KEEP_HOURS (default 24)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours", type=float, default=None, help="Keep files younger than this instead."
        )

    def handle(self, *args, hours: float | None, **options):
        age = timedelta(hours=hours) if hours is not None else None
        removed = exports_prune(max_age=age)
        self.stdout.write(f"Removed {removed} export file(s).")
