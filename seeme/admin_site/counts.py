"""Change lists that cost the same at a thousand rows and at a million.

Django's admin counts the whole (filtered) table for its "N results" line and its page
links; at a million items that COUNT alone takes longer than the rest of the page. So a
change list is counted exactly only up to ``COUNT_LIMIT`` rows (a ``COUNT`` over a
``LIMIT`` subquery); past that an unfiltered list takes its size from the model admin's
``estimated_count()`` (read from the statistics rows), and a filtered one says "more
than" the limit. The page shows which (``templates/admin/pagination.html``)."""

from collections.abc import Callable
from functools import cached_property

from django.core.paginator import Paginator

COUNT_LIMIT = 10_000


class BoundedCountPaginator(Paginator):
    """A paginator whose ``count`` is exact up to ``limit``; past it, ``estimate()`` (when
    given) or ``limit + 1``, with ``count_exact`` False."""

    def __init__(
        self,
        object_list,
        per_page,
        *,
        limit: int = COUNT_LIMIT,
        estimate: Callable[[], int | None] | None = None,
        **kwargs,
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.limit = limit
        self.estimate = estimate
        self.count_exact = True
        self.count_estimated = False

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by().values("pk")[: self.limit + 1].count()
        if counted <= self.limit:
            return counted
        self.count_exact = False
        estimate = self.estimate() if self.estimate is not None else None
        if estimate is not None and estimate >= counted:
            self.count_estimated = True
            return estimate
        return counted


class BoundedCountAdminMixin:
    """For a ModelAdmin: its change list counts through ``BoundedCountPaginator``.
    ``estimated_count()`` sizes the unfiltered list past the limit (None: no estimate)."""

    count_limit = COUNT_LIMIT
    show_full_result_count = False

    def estimated_count(self) -> int | None:
        return None

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        unfiltered = not queryset.query.where
        return BoundedCountPaginator(
            queryset,
            per_page,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
            limit=self.count_limit,
            estimate=self.estimated_count if unfiltered else None,
        )
