"""How many items a list shows, at a cost that does not grow with the version.

Counting a million items takes 100 ms or more; a page of 24 takes a few. So a list is
counted exactly only up to ``EXACT_COUNT_LIMIT`` rows (a bounded ``COUNT`` over a
``LIMIT`` subquery); past that the unfiltered list takes its size from the split totals
in LabelStat (an estimate: an item in several splits counts once per split, an item in
none not at all), and any other filter says "more than" the limit."""

from dataclasses import dataclass

from django.db.models import QuerySet, Sum

from labels.models import LabelStat

EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class ItemCount:
    value: int
    exact: bool


def items_count_bounded(
    items: QuerySet, *, version_id, whole_version: bool, limit: int | None = None
) -> ItemCount:
    """The number of ``items``: exact up to ``limit``; past it an estimate (``exact`` is
    False). ``whole_version``: ``items`` are all of the version's items (no filter), so the
    split totals estimate them. Two queries at most, each bounded."""
    limit = EXACT_COUNT_LIMIT if limit is None else limit
    counted = items.order_by().values("pk")[: limit + 1].count()
    if counted <= limit:
        return ItemCount(counted, True)
    estimate = 0
    if whole_version:
        estimate = (
            LabelStat.objects.filter(
                split__version_id=version_id, kind=LabelStat.Kind.TOTAL
            ).aggregate(n=Sum("item_count"))["n"]
            or 0
        )
    return ItemCount(max(estimate, counted), False)
