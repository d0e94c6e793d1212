"""Reads across a version's splits: split health (balance, leakage). Version comparison is
``labels.compare``.

Shares and balance come from the statistics read model (``version_stats``, never a
recount); memberships in several splits and duplicates across splits are SQL aggregations
over ItemSplit and Item, O(memberships). Past ``scan_over`` memberships those two checks are
not run in the request: the report carries the last background scan's results instead
(``labels.health_scan``), with when they were computed and whether the statistics changed
since.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from typing import Any

from django.db.models import Count, F, Subquery

from labels.models import Label, LabelStat
from labels.selectors.stats import VersionStats, version_stats
from seeme.csvsafe import csv_text
from seeme.models import Version
from splits.models import DatasetSplit, ItemSplit

Kind = LabelStat.Kind

SHARE_THRESHOLD = 0.10
UNDER_REPRESENTED_RATIO = 0.10
UNLABELLED_THRESHOLD = 0.0
ITEM_LIMIT = 50

FINDING_KINDS = (
    "missing_label",
    "share_imbalance",
    "under_represented",
    "multi_split_items",
    "duplicates",
    "unlabelled",
)


@dataclass
class Finding:
    """One problem. ``filters`` are item-list filters (``splitId``, ``labelId``,
    ``onlyUnlabelled``) that show the items concerned; ``item_ids`` name them directly (at
    most the report's item limit; ``item_count`` is the full number)."""

    kind: str
    severity: str
    message: str
    splits: list[DatasetSplit] = field(default_factory=list)
    label: Label | None = None
    value: float | None = None
    item_count: int = 0
    item_ids: list[uuid.UUID] = field(default_factory=list)
    filters: list[dict] = field(default_factory=list)


@dataclass
class SplitSummary:
    split: DatasetSplit
    items: int
    annotations: int
    unlabelled: int
    label_items: dict[uuid.UUID, int]

    @property
    def unlabelled_share(self) -> float | None:
        return self.unlabelled / self.items if self.items else None

    def share(self, label: Label) -> float | None:
        return self.label_items.get(label.pk, 0) / self.items if self.items else None


@dataclass
class ItemChecks:
    """Where the item-level findings of a report come from. ``live``: computed in this
    request. Otherwise from the last finished scan (``scan``, a Job; None when there is
    none), ``computed_at`` when it read the version, ``changed`` whether the version's
    statistics differ from what the scan saw (``labels.health_scan.stats_marker``), and
    ``pending`` a queued or running scan."""

    live: bool
    memberships: int = 0
    limit: int | None = None
    findings: list[Finding] = field(default_factory=list)
    scan: Any = None
    computed_at: datetime | None = None
    changed: bool | None = None
    pending: Any = None


@dataclass
class HealthReport:
    version: Version
    labels: list[Label]
    splits: list[SplitSummary]
    findings: list[Finding]
    thresholds: dict[str, float]
    item_checks: ItemChecks


def _summaries(stats: VersionStats) -> tuple[list[Label], list[SplitSummary]]:
    """Per split: items, annotations, unlabelled and items per label (``version_stats``)."""
    summaries = {s.pk: SplitSummary(s, 0, 0, 0, {}) for s in stats.splits}
    for (split_id, kind, label_id), (items, annotations) in stats.rows.items():
        summary = summaries[split_id]
        if kind == Kind.TOTAL:
            summary.items, summary.annotations = items, annotations
        elif kind == Kind.UNLABELLED:
            summary.unlabelled = items
        else:
            summary.label_items[label_id] = items
    return stats.labels, [summaries[s.pk] for s in stats.splits]


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _label_findings(labels, summaries, share_threshold, under_ratio) -> list[Finding]:
    findings: list[Finding] = []
    filled = [s for s in summaries if s.items]
    totals = {lb.pk: sum(s.label_items.get(lb.pk, 0) for s in summaries) for lb in labels}
    for label in labels:
        if not totals[label.pk]:
            continue
        for summary in filled:
            if not summary.label_items.get(label.pk, 0):
                findings.append(
                    Finding(
                        kind="missing_label",
                        severity="warning",
                        message=(
                            f"Label {label.name!r} has no item in split {summary.split.name!r}."
                        ),
                        splits=[summary.split],
                        label=label,
                        value=0.0,
                        filters=[{"labelId": label.pk}],
                    )
                )
    for label in labels:
        shares = [(s.share(label), s) for s in filled]
        if len(shares) < 2:
            continue
        high = max(shares, key=lambda p: p[0])
        low = min(shares, key=lambda p: p[0])
        gap = high[0] - low[0]
        if gap > share_threshold:
            findings.append(
                Finding(
                    kind="share_imbalance",
                    severity="warning",
                    message=(
                        f"Label {label.name!r} is {_pct(high[0])} of {high[1].split.name!r} "
                        f"but {_pct(low[0])} of {low[1].split.name!r}."
                    ),
                    splits=[high[1].split, low[1].split],
                    label=label,
                    value=round(gap, 6),
                    filters=[
                        {"splitId": high[1].split.pk, "labelId": label.pk},
                        {"splitId": low[1].split.pk, "labelId": label.pk},
                    ],
                )
            )
    largest = max(totals.values(), default=0)
    if largest:
        top = next(lb for lb in labels if totals[lb.pk] == largest)
        for label in labels:
            ratio = totals[label.pk] / largest
            if ratio < under_ratio:
                findings.append(
                    Finding(
                        kind="under_represented",
                        severity="warning",
                        message=(
                            f"Label {label.name!r} has {totals[label.pk]:,} items, "
                            f"{_pct(ratio)} of the largest label {top.name!r} "
                            f"({largest:,})."
                        ),
                        label=label,
                        value=round(ratio, 6),
                        item_count=totals[label.pk],
                        filters=[{"labelId": label.pk}],
                    )
                )
    return findings


def _multi_split_findings(version, splits, limit) -> list[Finding]:
    """Items in two splits at once, one finding per pair of splits (one aggregate query, then
    one query per pair that has any, for the ids)."""
    by_id = {s.pk: s for s in splits}
    # By split ids, not ``split__version``: the planner then sees how big these splits are
    # (per-value statistics) instead of assuming a share of the whole table, and reads a
    # small version's memberships by index even beside a big one.
    split_ids = list(by_id)
    pairs = (
        ItemSplit.objects.filter(split_id__in=split_ids)
        .annotate(other=F("item__memberships__split_id"))
        .filter(other__gt=F("split_id"))
        .values_list("split_id", "other")
        .annotate(n=Count("item_id"))
        .order_by()
    )
    findings = []
    for split_id, other_id, n in pairs:
        first, second = sorted(
            (by_id[split_id], by_id[other_id]), key=lambda s: (s.created_at, str(s.pk))
        )
        ids = list(
            ItemSplit.objects.filter(split=first, item__memberships__split=second)
            .order_by("item_id")
            .values_list("item_id", flat=True)[:limit]
        )
        findings.append(multi_split_finding(first, second, n, ids))
    findings.sort(key=lambda f: [(s.created_at, str(s.pk)) for s in f.splits])
    return findings


def multi_split_finding(first, second, n: int, ids: list) -> Finding:
    return Finding(
        kind="multi_split_items",
        severity="warning",
        message=f"{n:,} item(s) are in both {first.name!r} and {second.name!r}.",
        splits=[first, second],
        value=float(n),
        item_count=n,
        item_ids=ids,
    )


def _duplicate_findings(version, splits, limit) -> list[Finding]:
    """Different items with the same content hash in different splits (leakage), one finding
    per pair of splits: a grouping query finds the hashes, a second reads their members."""
    split_ids = [s.pk for s in splits]  # (as in _multi_split_findings)
    hashes = (
        ItemSplit.objects.filter(split_id__in=split_ids)
        .exclude(item__content_hash="")
        .values("item__content_hash")
        .annotate(items=Count("item_id", distinct=True), splits=Count("split_id", distinct=True))
        .filter(items__gt=1, splits__gt=1)
        .values("item__content_hash")
    )
    members: dict[str, dict[uuid.UUID, set]] = defaultdict(lambda: defaultdict(set))
    for content_hash, item_id, split_id in (
        ItemSplit.objects.filter(split_id__in=split_ids, item__content_hash__in=Subquery(hashes))
        .order_by()
        .values_list("item__content_hash", "item_id", "split_id")
    ):
        members[content_hash][split_id].add(item_id)
    by_pair: dict[tuple, list[set]] = defaultdict(list)
    order = {s.pk: i for i, s in enumerate(splits)}
    for per_split in members.values():
        for a, b in combinations(sorted(per_split, key=order.get), 2):
            both = per_split[a] | per_split[b]
            # One item in both splits is a membership problem, not a duplicate.
            if len(both) > 1:
                by_pair[(a, b)].append(both)
    by_id = {s.pk: s for s in splits}
    findings = []
    for (a, b), groups in sorted(by_pair.items(), key=lambda p: (order[p[0][0]], order[p[0][1]])):
        items = sorted({i for g in groups for i in g}, key=str)
        findings.append(
            duplicate_finding(by_id[a], by_id[b], len(groups), len(items), items[:limit])
        )
    return findings


def duplicate_finding(first, second, groups: int, items: int, ids: list) -> Finding:
    return Finding(
        kind="duplicates",
        severity="warning",
        message=(
            f"{groups:,} group(s) of identical items ({items:,} items) are "
            f"split between {first.name!r} and {second.name!r}."
        ),
        splits=[first, second],
        value=float(groups),
        item_count=items,
        item_ids=ids,
    )


def item_findings(version: Version, splits: list[DatasetSplit], limit: int) -> list[Finding]:
    """The item-level checks (items in several splits, duplicates across splits): each an
    aggregation over the version's memberships, so O(memberships)."""
    return _multi_split_findings(version, splits, limit) + _duplicate_findings(
        version, splits, limit
    )


def split_health(
    *,
    version: Version,
    share_threshold: float = SHARE_THRESHOLD,
    under_represented_ratio: float = UNDER_REPRESENTED_RATIO,
    unlabelled_threshold: float = UNLABELLED_THRESHOLD,
    item_limit: int = ITEM_LIMIT,
    scan_over: int | None = None,
) -> HealthReport:
    """The health of a version's splits, findings ordered by kind.

    ``share_threshold``: largest allowed gap between a label's shares of two splits (0.1 =
    10 points); ``under_represented_ratio``: a label with fewer items than this fraction of
    the largest label's is flagged; ``unlabelled_threshold``: a split whose unlabelled share
    exceeds it is reported. A fixed number of queries plus one per pair of splits sharing
    items.

    ``scan_over``: when the splits hold more memberships than this, the item-level checks
    come from the last background scan (``labels.health_scan``: two more queries, none on
    items) and ``item_checks`` says when they were computed and whether the statistics
    changed since; None (the default) always runs them here.
    """
    stats = version_stats(version=version)
    labels, summaries = _summaries(stats)
    splits = [s.split for s in summaries]
    findings = _label_findings(labels, summaries, share_threshold, under_represented_ratio)
    memberships = sum(s.items for s in summaries)
    if scan_over is not None and memberships > scan_over:
        # Imported here: the scan module builds its findings with this module's constructors.
        from labels.health_scan import last_scan

        checks = last_scan(version=version, stats=stats, item_limit=item_limit)
        checks.memberships, checks.limit = memberships, scan_over
        findings += checks.findings
    else:
        checks = ItemChecks(live=True, memberships=memberships, limit=scan_over)
        findings += item_findings(version, splits, item_limit)
    for summary in summaries:
        share = summary.unlabelled_share
        if share is not None and summary.unlabelled and share > unlabelled_threshold:
            findings.append(
                Finding(
                    kind="unlabelled",
                    severity="info",
                    message=(
                        f"{summary.unlabelled:,} of {summary.items:,} items of "
                        f"{summary.split.name!r} ({_pct(share)}) have no label."
                    ),
                    splits=[summary.split],
                    value=round(share, 6),
                    item_count=summary.unlabelled,
                    filters=[{"splitId": summary.split.pk, "onlyUnlabelled": True}],
                )
            )
    findings.sort(key=lambda f: FINDING_KINDS.index(f.kind))
    return HealthReport(
        version=version,
        labels=labels,
        splits=summaries,
        findings=findings,
        thresholds={
            "share_threshold": share_threshold,
            "under_represented_ratio": under_represented_ratio,
            "unlabelled_threshold": unlabelled_threshold,
        },
        item_checks=checks,
    )


CSV_HEADER = [
    "kind",
    "severity",
    "splits",
    "label",
    "label_id",
    "value",
    "item_count",
    "message",
    "item_ids",
]


def split_health_csv(report: HealthReport) -> str:
    """The findings as CSV, one row each (item ids space-separated, as many as reported);
    written by ``seeme.csvsafe`` (formulas neutralised)."""
    rows: list[list] = [CSV_HEADER]
    for f in report.findings:
        rows.append(
            [
                f.kind,
                f.severity,
                " ".join(s.name for s in f.splits),
                f.label.name if f.label else "",
                str(f.label.pk) if f.label else "",
                "" if f.value is None else f.value,
                f.item_count,
                f.message,
                " ".join(str(i) for i in f.item_ids),
            ]
        )
    return csv_text(rows)
