"""Recount label statistics and repair the rows that drifted (it should never find any)."""

import uuid

from django.core.management.base import BaseCommand, CommandError

from labels.jobs import RECONCILE
from labels.models import Label
from labels.selectors import Drift
from labels.services import label_stats_reconcile
from seeme.jobs.services import enqueue_job
from seeme.models import Dataset
from splits.models import DatasetSplit


class Command(BaseCommand):
    help = (
        "Recount every LabelStat row from the items and annotations tables, print each row "
        "that differs (expected vs stored) and fix it, unless --dry-run."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only report drifted rows; change nothing."
        )
        parser.add_argument(
            "--dataset",
            action="append",
            metavar="ID",
            default=None,
            help="Only this dataset (a UUID); may be given several times.",
        )
        parser.add_argument(
            "--job",
            action="store_true",
            help="Run as jobs on the queue (one per dataset, or one for all): prints their ids.",
        )

    def handle(self, *args, dry_run: bool, dataset: list[str] | None, **options):
        dataset_ids = self._dataset_ids(dataset) if dataset else None
        if options.get("job"):
            targets = Dataset.objects.filter(pk__in=dataset_ids) if dataset_ids else [None]
            for target in targets:
                job = enqueue_job(RECONCILE, dataset=target, user=None, params={"dry_run": dry_run})
                where = f"dataset {target.pk}" if target is not None else "every dataset"
                self.stdout.write(f"Reconcile of {where}: job {job.pk} (/jobs/{job.pk}/)")
            return
        splits = DatasetSplit.objects.all()
        if dataset_ids is not None:
            splits = splits.filter(version__dataset_id__in=dataset_ids)
        checked = splits.count()
        drift = label_stats_reconcile(dataset_ids=dataset_ids, dry_run=dry_run)
        for line in self._describe(drift):
            self.stdout.write(line)
        if not drift:
            self.stdout.write(
                self.style.SUCCESS(
                    f"No drift: the statistics of {checked} split(s) equal a fresh count."
                )
            )
        elif dry_run:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(drift)} drifted row(s) in {checked} split(s); "
                    "nothing changed (--dry-run)."
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Fixed {len(drift)} drifted row(s) in {checked} split(s).")
            )

    def _dataset_ids(self, raw: list[str]) -> list[uuid.UUID]:
        try:
            ids = [uuid.UUID(value) for value in raw]
        except ValueError as exc:
            raise CommandError(f"--dataset takes dataset ids (UUIDs): {exc}") from exc
        found = set(Dataset.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise CommandError("No dataset with id " + ", ".join(missing))
        return ids

    def _describe(self, drift: list[Drift]) -> list[str]:
        """One line per drifted row, naming the dataset, version, split and label."""
        splits = {
            s.pk: s
            for s in DatasetSplit.objects.filter(pk__in={d.split_id for d in drift}).select_related(
                "version__dataset"
            )
        }
        labels = dict(
            Label.objects.filter(pk__in={d.label_id for d in drift if d.label_id}).values_list(
                "pk", "name"
            )
        )
        lines = []
        for d in drift:
            split = splits.get(d.split_id)
            where = (
                f"{split.version.dataset.name} / {split.version.name} / {split.name}"
                if split
                else "(split gone)"
            )
            row = (
                f"label {labels.get(d.label_id, '?')!r} ({d.label_id})"
                if d.label_id
                else f"{d.kind} row"
            )
            stored = (
                f"annotations={d.stored.annotation_count} items={d.stored.item_count}"
                if d.stored
                else "missing"
            )
            lines.append(
                f"{where} [split {d.split_id}] {row}: expected annotations="
                f"{d.expected.annotation_count} items={d.expected.item_count}, stored {stored}"
            )
        return lines
