"""The background scan of split health's item-level checks (items in several splits,
duplicates across splits) for versions too big to check in a request.

Those two checks aggregate every membership of the version: O(items). Past the sync limit
the health page and API read the last scan's results instead, in two queries on Job rows
whatever the version's size. A scan is a job (kind ``split_health_scan``, registered in
``labels.jobs``); its result holds the findings as numbers and ids (messages are rebuilt
with the splits' current names) and the *marker* of the statistics it saw.

The marker is a SHA-256 of the version's LabelStat rows (every split, kind, label and
count), read with the report anyway. It changes with every write that changes a count:
adding, removing or moving items, annotating, creating or deleting splits and labels. It
does not see a change that leaves every count as it was (two items with the same labels
swapping splits, an item's file or text replaced): the page says so, and "Re-check" runs a
new scan.
"""

import hashlib
import uuid
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from labels.reports import (
    Finding,
    ItemChecks,
    duplicate_finding,
    item_findings,
    multi_split_finding,
)
from labels.selectors.stats import VersionStats, version_stats
from seeme.jobs.models import Job, JobState
from seeme.models import Version

HEALTH_SCAN = "split_health_scan"
# The scan keeps this many item ids per finding: the API's largest item_limit.
SCAN_ITEM_LIMIT = 1000


def stats_marker(stats: VersionStats) -> str:
    """A fingerprint of the version's statistics: its splits and every LabelStat row."""
    digest = hashlib.sha256()
    for split in sorted(stats.splits, key=lambda s: str(s.pk)):
        digest.update(f"split {split.pk}\n".encode())
    for key, (items, annotations) in sorted(stats.rows.items(), key=lambda kv: repr(kv[0])):
        split_id, kind, label_id = key
        digest.update(f"{split_id} {kind} {label_id} {items} {annotations}\n".encode())
    return digest.hexdigest()


def _finding_json(finding: Finding) -> dict:
    data = {
        "kind": finding.kind,
        "split_ids": [str(s.pk) for s in finding.splits],
        "item_count": finding.item_count,
        "item_ids": [str(i) for i in finding.item_ids],
    }
    if finding.kind == "duplicates":
        data["groups"] = int(finding.value or 0)
    return data


def health_scan_run(*, version: Version, progress=None) -> dict:
    """Run the item-level checks of ``version`` and return the scan's JSON result: the
    statistics' marker (read first, so a write during the scan shows as a change), when, and
    the findings with up to ``SCAN_ITEM_LIMIT`` item ids each."""
    started = timezone.now()
    stats = version_stats(version=version)
    marker = stats_marker(stats)
    if progress is not None:
        progress(0, 1, "Checking items in several splits and duplicates")
    findings = item_findings(version, list(stats.splits), SCAN_ITEM_LIMIT)
    if progress is not None:
        progress(1, 1, "Done")
    return {
        "version_id": str(version.pk),
        "marker": marker,
        "computed_at": started.isoformat(),
        "item_limit": SCAN_ITEM_LIMIT,
        "findings": [_finding_json(f) for f in findings],
    }


def _findings_from_json(data: list, stats: VersionStats, limit: int) -> list[Finding]:
    """The stored findings with today's split objects; a finding naming a split that no
    longer exists is dropped (its deletion changed the marker: the page says so)."""
    by_id = {str(s.pk): s for s in stats.splits}
    findings = []
    for row in data:
        splits = [by_id.get(i) for i in row.get("split_ids", [])]
        if len(splits) != 2 or None in splits:
            continue
        ids = [uuid.UUID(i) for i in row.get("item_ids", [])[:limit]]
        if row.get("kind") == "multi_split_items":
            findings.append(multi_split_finding(splits[0], splits[1], row["item_count"], ids))
        elif row.get("kind") == "duplicates":
            findings.append(
                duplicate_finding(splits[0], splits[1], row["groups"], row["item_count"], ids)
            )
    return findings


def _scans(version: Version):
    return Job.objects.filter(
        dataset_id=version.dataset_id, kind=HEALTH_SCAN, params__version_id=str(version.pk)
    )


def pending_scan(version: Version) -> Job | None:
    """The newest queued or running scan of the version (one query)."""
    return (
        _scans(version)
        .filter(state__in=[JobState.QUEUED, JobState.RUNNING])
        .defer("result")
        .order_by("-created_at", "id")
        .first()
    )


def last_scan(*, version: Version, stats: VersionStats, item_limit: int) -> ItemChecks:
    """The item-level findings of the last finished scan (two queries on Job rows)."""
    checks = ItemChecks(live=False, pending=pending_scan(version))
    scan = _scans(version).filter(state=JobState.DONE).order_by("-finished_at", "id").first()
    result = scan.result if scan is not None and isinstance(scan.result, dict) else None
    if scan is None or result is None:
        return checks
    computed: datetime | None = parse_datetime(str(result.get("computed_at", "")))
    checks.scan = scan
    checks.computed_at = computed or scan.finished_at
    checks.changed = result.get("marker") != stats_marker(stats)
    checks.findings = _findings_from_json(result.get("findings", []), stats, item_limit)
    return checks
