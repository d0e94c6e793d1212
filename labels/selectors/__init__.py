"""Reads of labels and statistics; the stats reads touch only LabelStat, Label and
DatasetSplit rows, never the items.

- ``stats``: the version's one statistics read model (``version_stats``) and the shapes
  derived from it (matrix, CSV rows, before / after counts), and the list selectors
  ``version_splits`` / ``version_labels``;
- ``splits``: one split's rows, for the API and the split page;
- ``recount``: fresh recounts and drift, for repair and tests;
- ``counts``: bounded item counts for lists (exact up to a limit, then estimated).
"""

from labels.selectors.counts import EXACT_COUNT_LIMIT, ItemCount, items_count_bounded
from labels.selectors.recount import Counts, Drift, label_stats_drift, label_stats_recount
from labels.selectors.splits import (
    label_stat_total_for_split,
    label_stat_total_of_split_id,
    label_stats_by_key,
    label_stats_for_split,
    label_stats_of_split_id,
)
from labels.selectors.stats import (
    CSV_HEADER,
    CountsTable,
    MatrixCell,
    MatrixRow,
    SplitCounts,
    StatsMatrix,
    VersionStats,
    counts_change,
    label_stats_csv_rows,
    label_stats_matrix,
    stats_matrix,
    version_labels,
    version_splits,
    version_stats,
)

__all__ = [
    "CSV_HEADER",
    "EXACT_COUNT_LIMIT",
    "ItemCount",
    "items_count_bounded",
    "Counts",
    "CountsTable",
    "Drift",
    "MatrixCell",
    "MatrixRow",
    "SplitCounts",
    "StatsMatrix",
    "VersionStats",
    "counts_change",
    "label_stat_total_for_split",
    "label_stat_total_of_split_id",
    "label_stats_csv_rows",
    "label_stats_drift",
    "label_stats_for_split",
    "label_stats_matrix",
    "label_stats_by_key",
    "label_stats_of_split_id",
    "label_stats_recount",
    "stats_matrix",
    "version_labels",
    "version_splits",
    "version_stats",
]
