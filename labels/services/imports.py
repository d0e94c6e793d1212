"""Import of a checked archive into a version: all of it in one transaction, or nothing."""

import uuid
from collections.abc import Callable

from labels.archive import build_plan
from labels.archive.content import spooled
from labels.archive.plan import ArchiveRejected, ImportPlan, PlannedItem
from labels.archive.safety import SafeArchive
from labels.models import Label
from labels.services._locks import _lock_exclusive
from labels.services.bulk import NewItem, items_bulk_create
from labels.services.structure import label_create, split_create
from seeme.db import atomic_write
from seeme.files import store_blob
from seeme.models import ContentType, User, Version
from splits.models import DatasetSplit

Progress = Callable[[int, int], None]


def plan_for_version(*, version: Version, archive: SafeArchive, fmt: str) -> ImportPlan:
    """The plan of ``archive`` for this version (its dataset's rules: single- or multi-label,
    tabular or not, the default split). Reads the archive; writes nothing."""
    dataset = version.dataset
    return build_plan(
        archive,
        fmt,
        tabular=dataset.content_type == ContentType.TABULAR,
        multi_label=dataset.multi_label,
        default_split=version.default_split,
    )


def plan_summary(*, version: Version, plan: ImportPlan) -> dict:
    """The dry-run report of ``plan`` for ``version``: what it would add, which splits and
    labels are new there, and every problem. Reads two lists; writes nothing."""
    return plan.summary(
        existing_splits=DatasetSplit.objects.filter(version=version).values_list("name", flat=True),
        existing_labels=Label.objects.filter(version=version).values_list("name", flat=True),
    )


@atomic_write
def version_import(
    *,
    version: Version,
    user: User | None,
    plan: ImportPlan,
    archive: SafeArchive | None = None,
    progress: Progress | None = None,
) -> dict:
    """Write an ImportPlan into a version and answer its report (the dry run's, as it was
    when the import began).

    Refuses a plan with problems (``ArchiveRejected``, nothing written). Takes the version
    lock exclusive (splits and labels may be created), creates the splits and labels the
    plan names that the version lacks (by name; existing ones are reused, labels in the
    plan's order and colours), then writes every item, membership and annotation with
    ``items_bulk_create`` (COPY on PostgreSQL; statistics moved once, in aggregate). Adds
    to what the version holds. One transaction: a failure anywhere leaves nothing.
    """
    if plan.problems:
        raise ArchiveRejected(plan.problems)
    _lock_exclusive(version)
    report = plan_summary(version=version, plan=plan)
    split_ids = dict(DatasetSplit.objects.filter(version=version).values_list("name", "id"))
    for name in plan.splits:
        if name not in split_ids:
            split_ids[name] = split_create(version=version, user=user, name=name).pk
    label_ids = dict(Label.objects.filter(version=version).values_list("name", "id"))
    for name in plan.labels:
        if name not in label_ids:
            label = label_create(version=version, user=user, name=name, color=plan.colors.get(name))
            label_ids[name] = label.pk
    total = len(plan.items)
    new_items = []
    for n, planned in enumerate(plan.items, start=1):
        sha256, extension = "", planned.extension
        if planned.file_entry:
            if archive is None:
                raise ValueError("A plan with files needs its archive to import.")
            with spooled(archive, archive.by_path[planned.file_entry]) as data:
                info = store_blob(data)
            sha256, extension = info.sha256, info.extension
        new_items.append(_new_item(planned, split_ids, label_ids, sha256, extension))
        if progress is not None and n % 500 == 0:
            progress(n, total)
    items_bulk_create(version=version, user=user, items=new_items)
    return report


def _new_item(
    planned: PlannedItem,
    split_ids: dict[str, uuid.UUID],
    label_ids: dict[str, uuid.UUID],
    sha256: str,
    extension: str,
) -> NewItem:
    return NewItem(
        name=planned.name,
        split_ids=tuple(split_ids[s] for s in dict.fromkeys(planned.splits)),
        annotations=tuple(
            (split_ids[split], label_ids[label], coordinates)
            for split, label, coordinates in planned.annotations
        ),
        extension=extension,
        text=planned.text,
        file_sha256=sha256,
    )
