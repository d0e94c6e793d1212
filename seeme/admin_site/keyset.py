"""Keyset pages for the big change lists: page 9,700 costs what page 1 costs.

Django's change list pages with OFFSET: page N reads and drops the (N - 1) x 100 rows
before it, so a deep page of a million-row list scans the million. In the lists' default
order (newest first: ``-created_at, -id``) a page can instead start from the last row of
the page before it, through the ``created_at`` index (or a filter's own index):

- ``?after=<cursor>`` (Next) and ``?before=<cursor>`` (Previous) carry the row's
  ``created_at`` and id, base64url-encoded; ``?last=1`` is the last page (the list read
  backwards). A cursor that does not decode is the admin's "bad filter" answer (``?e=1``).
- Numbered page links (OFFSET) stay while the list is counted exactly (at most
  ``COUNT_LIMIT`` rows: a bounded OFFSET); past the bound, and whenever a column sort is
  chosen (``?o=``), the numbers stop at ``COUNT_LIMIT`` rows and the keyset links go on.

A keyset page runs the queries of a numbered page (the bounded count, the rows, their
prefetches); it reads ``per_page + 1`` rows to know whether there is a next page.
"""

import base64
import binascii
import json
import uuid
from datetime import datetime

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.db.models import F, Q
from django.db.models.functions import Coalesce

AFTER_VAR, BEFORE_VAR, LAST_VAR = "after", "before", "last"
KEYSET_VARS = (AFTER_VAR, BEFORE_VAR, LAST_VAR)


def encode_cursor(row) -> str:
    raw = json.dumps([row.created_at.isoformat(), str(row.pk)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        created, pk = json.loads(raw)
        return datetime.fromisoformat(created), uuid.UUID(pk)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
        raise IncorrectLookupParameters("not a page link") from error


def older_than(queryset, created_at, pk, *, older: bool):
    """Rows after (``older``: further down a newest-first list) or before the row
    (``created_at``, ``pk``): a range on ``created_at`` (an index condition) and a tie-break
    on the id."""
    op = "lt" if older else "gt"
    return queryset.filter(
        Q(**{f"created_at__{op}e": created_at}),
        Q(**{f"created_at__{op}": created_at}) | Q(**{f"id__{op}": pk}),
    )


class KeysetChangeList(ChangeList):
    """A change list whose pages past the first go by keyset in the default order."""

    def __init__(self, request, *args, **kwargs):
        self.keyset_params = {k: request.GET[k] for k in KEYSET_VARS if request.GET.get(k)}
        self.keyset = ORDER_VAR not in request.GET
        self.has_next = self.has_previous = False
        self.next_cursor = self.previous_cursor = None
        self.is_last = False
        self.numbered = True  # numbered page links (OFFSET): only while the count is exact
        super().__init__(request, *args, **kwargs)

    def get_queryset(self, request, exclude_parameters=None):
        # The list's wide text columns are never shown: not read (the change form reads them).
        queryset = super().get_queryset(request, exclude_parameters)
        list_defer = getattr(self.model_admin, "list_defer", ())
        return queryset.defer(*list_defer) if list_defer else queryset

    def get_filters_params(self, params=None):
        lookup = super().get_filters_params(params)
        for key in KEYSET_VARS:
            lookup.pop(key, None)
        return lookup

    def get_query_string(self, new_params=None, remove=None):
        # Links to filters, sorts and numbered pages start over from the list's top.
        new_params = new_params or {}
        remove = [*(remove or []), *(k for k in KEYSET_VARS if k not in new_params)]
        return super().get_query_string(new_params, remove)

    def _rows(self):
        """The list's rows in its order. A list counted exactly (at most ``COUNT_LIMIT``
        rows) whose admin sets ``sort_small_lists`` is sorted on an expression, which keeps
        PostgreSQL off the table-wide ``created_at`` index: for a filter on a few old rows
        it walks that index backwards past every newer row (the rows of the other, bigger
        versions: 340 ms at 1M annotations) instead of reading the few rows through the
        filter's index and sorting them (bounded by the count)."""
        if self.paginator.count_exact and getattr(self.model_admin, "sort_small_lists", False):
            return self.queryset.order_by(
                Coalesce("created_at", "created_at").desc(), F("pk").desc()
            )
        return self.queryset

    def get_results(self, request):
        super().get_results(request)
        if not self.keyset:
            return
        rows_qs = self._rows()
        if not self.multi_page or (self.show_all and self.can_show_all):
            if rows_qs is not self.queryset:
                self.result_list = rows_qs
            return
        per_page = self.list_per_page
        offset_pages = max(self.model_admin.count_limit // per_page, 1)
        after = self.keyset_params.get(AFTER_VAR)
        before = self.keyset_params.get(BEFORE_VAR)
        if after or before:
            created_at, pk = decode_cursor(after or before)
            if after:
                rows = list(older_than(rows_qs, created_at, pk, older=True)[: per_page + 1])
                self.has_previous, self.has_next = True, len(rows) > per_page
                rows = rows[:per_page]
            else:
                rows = list(
                    older_than(rows_qs, created_at, pk, older=False).reverse()[: per_page + 1]
                )
                self.has_previous, self.has_next = len(rows) > per_page, True
                rows = rows[:per_page][::-1]
        elif self.keyset_params.get(LAST_VAR) or self.page_num > offset_pages:
            rows = list(rows_qs.reverse()[: per_page + 1])
            self.has_previous, self.is_last = len(rows) > per_page, True
            rows = rows[:per_page][::-1]
        else:
            start = (self.page_num - 1) * per_page
            rows = list(rows_qs[start : start + per_page + 1])
            self.has_previous, self.has_next = self.page_num > 1, len(rows) > per_page
            rows = rows[:per_page]
        self.result_list = rows
        if rows:
            self.next_cursor = encode_cursor(rows[-1])
            self.previous_cursor = encode_cursor(rows[0])
        self.numbered = bool(self.paginator.count_exact) and not (after or before or self.is_last)

    def keyset_links(self) -> dict:
        return {
            "first": self.get_query_string(remove=["p"]),
            "previous": self.get_query_string({BEFORE_VAR: self.previous_cursor}, ["p"]),
            "next": self.get_query_string({AFTER_VAR: self.next_cursor}, ["p"]),
            "last": self.get_query_string({LAST_VAR: "1"}, ["p"]),
        }


class KeysetAdminMixin:
    """For a ModelAdmin with ``ordering = ("-created_at", "-id")`` and a bounded count
    (``BoundedCountAdminMixin``): its change list pages by keyset."""

    def get_changelist(self, request, **kwargs):
        return KeysetChangeList
