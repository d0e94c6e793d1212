"""Keyset pages for the item browser: a page costs the same at item 24 and at item 999,976.

An OFFSET page reads and drops every row before it (page 40,000 of a million items scans
them all). A keyset page starts from the sort key of the row it follows instead, through
the version's ordered index (``item_version_order`` for the creation order,
``item_version_name`` for names), so it reads one page of rows wherever it is:

- ``?after=<cursor>``: the page after a row (Next); ``?before=<cursor>``: the page before
  a row (Previous); ``?page=last``: the last page (the list read backwards); no parameter:
  the first page. The cursor is opaque to the user: the sort, the row's sort value and id,
  base64url-encoded; a cursor that does not decode is a form error and the first page.
- ``?page=N`` (old links, the first pages) is still served by OFFSET up to
  ``OFFSET_PAGES`` (at most ``EXACT_COUNT_LIMIT`` rows skipped: bounded); past it, or past
  the end, the last page is shown, as Django's ``get_page`` did for numbers past the end.

Every page runs the same queries: the rows (``per_page + 1`` of them, the extra one says
whether there is a page beyond) and their prefetches. Filtered by name, ``counted_page``
takes the same pages from the matches it also counts, in one statement.
"""

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Q, QuerySet, prefetch_related_objects
from django.db.models.expressions import RawSQL

from labels.selectors import counts
from labels.selectors.counts import EXACT_COUNT_LIMIT, ItemCount
from labels.views.walk import SORTS
from seeme.db import with_sql_prefix
from seeme.models import Item
from seeme.textsafety import has_refused_character

PER_PAGE = 24
OFFSET_PAGES = EXACT_COUNT_LIMIT // PER_PAGE
CURSOR_PARAMS = ("after", "before")


# fetch(start, stop, reverse=..., cursor=...): rows start..stop of the list (read backwards
# with ``reverse``), only those beyond ``cursor`` (a row's sort value and id) in that direction.
Fetch = Callable[..., list]


class BadCursor(ValueError):
    """A cursor that does not decode, or that belongs to another sort."""


def encode_cursor(sort: str, row) -> str:
    field_name, _ = SORTS[sort]
    value = getattr(row, field_name)
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([sort, value, str(row.pk)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, text: str) -> tuple[object, uuid.UUID]:
    """The (sort value, id) of ``text``; BadCursor when it is not a cursor of ``sort``."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        cursor_sort, value, pk = json.loads(raw)
        key = uuid.UUID(pk)
        if not isinstance(value, str) or has_refused_character(value):
            raise TypeError(value)  # NUL or a lone surrogate: no database takes it
        if cursor_sort == sort and SORTS[sort][0] == "created_at":
            value = datetime.fromisoformat(value)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
        raise BadCursor("This page link is not valid.") from error
    if cursor_sort != sort:
        raise BadCursor("This page link belongs to another sort.")
    return value, key


def beyond(items: QuerySet, sort: str, value, pk, *, forward: bool) -> QuerySet:
    """The rows of ``items`` after (``forward``) or before the row (``value``, ``pk``) in the
    order of ``sort``. Written as a range on the sort field and a tie-break on the id, so the
    range is an index condition (an ``OR`` of the two would scan from the list's start)."""
    field_name, desc = SORTS[sort]
    op = "gt" if forward != desc else "lt"
    bound = f"{field_name}__{op}e"
    return items.filter(
        Q(**{bound: value}), Q(**{f"{field_name}__{op}": value}) | Q(**{f"id__{op}": pk})
    )


@dataclass
class KeysetPage:
    """A page of rows and where its links go. ``number`` is known on the first pages (and
    on offset pages); ``is_last`` on the last one."""

    object_list: list
    number: int | None
    has_previous: bool
    has_next: bool
    is_last: bool = False
    error: str | None = None
    after: str | None = field(default=None)  # cursor of the last row: the Next link
    before: str | None = field(default=None)  # cursor of the first row: the Previous link
    count: int = 0  # the list's size (exact or estimated: the caller's count)

    @property
    def num_pages(self) -> int:
        return max(-(-self.count // PER_PAGE), 1)

    @property
    def start_index(self) -> int | None:
        return None if self.number is None else (self.number - 1) * PER_PAGE + 1


def _page(rows: list, number, *, has_previous, has_next, is_last=False) -> KeysetPage:
    return KeysetPage(rows, number, has_previous, has_next, is_last)


def keyset_page(items: QuerySet, sort: str, params, per_page: int | None = None) -> KeysetPage:
    """The page of ``items`` (ordered by ``sort``, ties by id) that ``params`` ask for."""
    return _keyset_page(_orm_fetch(items, sort), sort, params, per_page or PER_PAGE)


def _keyset_page(fetch: Fetch, sort: str, params, per_page: int) -> KeysetPage:
    error = None
    page = _choose(fetch, sort, params, per_page)
    if isinstance(page, str):
        error, page = page, _first(fetch, per_page)
    if page.object_list:
        page.after = encode_cursor(sort, page.object_list[-1])
        page.before = encode_cursor(sort, page.object_list[0])
    page.error = error
    return page


def _orm_fetch(items: QuerySet, sort: str) -> Fetch:
    def fetch(start: int, stop: int, *, reverse: bool = False, cursor=None) -> list:
        rows = items.reverse() if reverse else items
        if cursor is not None:
            rows = beyond(rows, sort, *cursor, forward=not reverse)
        return list(rows[start:stop])

    return fetch


def _first(fetch: Fetch, per_page: int) -> KeysetPage:
    rows = fetch(0, per_page + 1)
    return _page(rows[:per_page], 1, has_previous=False, has_next=len(rows) > per_page)


def _last(fetch: Fetch, per_page: int) -> KeysetPage:
    rows = fetch(0, per_page + 1, reverse=True)
    more = len(rows) > per_page
    rows = rows[:per_page][::-1]
    return _page(rows, None if more else 1, has_previous=more, has_next=False, is_last=True)


def _choose(fetch: Fetch, sort: str, params, per_page: int) -> KeysetPage | str:
    """The page, or the error message when the parameters cannot say which."""
    after, before = params.get("after"), params.get("before")
    if after or before:
        try:
            cursor = decode_cursor(sort, after or before)
        except BadCursor as error:
            return str(error)
        if after:
            rows = fetch(0, per_page + 1, cursor=cursor)
            return _page(rows[:per_page], None, has_previous=True, has_next=len(rows) > per_page)
        rows = fetch(0, per_page + 1, reverse=True, cursor=cursor)
        more = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return _page(rows, None if more else 1, has_previous=more, has_next=True)
    number = params.get("page") or "1"
    if number == "last":
        return _last(fetch, per_page)
    try:
        n = max(int(number), 1)
    except ValueError:
        n = 1
    if n == 1:
        return _first(fetch, per_page)
    if n > OFFSET_PAGES:
        return _last(fetch, per_page)
    start = (n - 1) * per_page
    rows = fetch(start, start + per_page + 1)
    if not rows:  # past the end: the last page, as get_page did
        return _last(fetch, per_page)
    return _page(rows[:per_page], n, has_previous=True, has_next=len(rows) > per_page)


def counted_page(
    matches: QuerySet, items: QuerySet, sort: str, params, *, limit: int | None = None
) -> tuple[KeysetPage, ItemCount]:
    """The page of ``matches`` (``items`` filtered) that ``params`` ask for and how many
    matches there are (exact up to ``limit``, as ``items_count_bounded``), reading the
    matches once where the bounded count and the page would each read them.

    For the name filter: its trigram index scan costs the same however few rows it keeps
    (~15 ms at 1,000,000 items for a pattern of common trigrams), and the bounded count and
    the page ran it twice. Here one statement takes at most ``limit + 1`` matches (id and
    sort value) into a ``WITH`` table, counts them, picks the page's ids from them and
    reads those rows of ``items`` (by primary key, with its joins and annotations). Past
    ``limit`` matches that table holds only some of them: the page is read again from
    ``matches`` (dense matches, found early in the ordered index) and the count is "more
    than ``limit``". A page with no rows carries no count: it is then counted apart."""
    limit = counts.EXACT_COUNT_LIMIT if limit is None else limit
    fetch = _MatchesFetch(matches, items, sort, limit)
    page = _keyset_page(fetch, sort, params, PER_PAGE)
    if fetch.matched is None:
        count = counts.items_count_bounded(
            matches, version_id=None, whole_version=False, limit=limit
        )
    else:
        count = ItemCount(fetch.matched, fetch.matched <= limit)
    if not count.exact:
        return keyset_page(matches, sort, params), count
    # Prefetched only now: a page read again past the bound would have wasted them.
    prefetch_related_objects(page.object_list, *items._prefetch_related_lookups)
    return page, count


class _MatchesFetch:
    """A Fetch for counted_page: one statement per call, which also notes how many
    matches there are (``matched``: None until a call returned rows or proved none)."""

    def __init__(self, matches: QuerySet, items: QuerySet, sort: str, limit: int):
        field_name, self.desc = SORTS[sort]
        self.field = Item._meta.get_field(field_name)
        sql, params = (
            matches.order_by().values_list("pk", field_name)[: limit + 1].query.sql_with_params()
        )
        self.matches_sql = f"matches (id, sort_key) AS MATERIALIZED ({sql})"
        self.matches_params = tuple(params)
        self.items = items.prefetch_related(None).annotate(
            matched=RawSQL("SELECT COUNT(*) FROM matches", ())
        )
        self.matched: int | None = None

    def __call__(self, start: int, stop: int, *, reverse: bool = False, cursor=None) -> list:
        descending = self.desc != reverse
        op, direction = ("<", "DESC") if descending else (">", "ASC")
        where, params = "", []
        if cursor is not None:
            # The rows beyond the cursor, written as beyond() writes them.
            where = f"WHERE sort_key {op}= %s AND (sort_key {op} %s OR id {op} %s)"
            value = self.field.get_db_prep_value(cursor[0], connection)
            key = Item._meta.pk.get_db_prep_value(cursor[1], connection)
            params = [value, value, key]
        page_ids = (
            f"page_ids (id) AS (SELECT id FROM matches {where} "
            f"ORDER BY sort_key {direction}, id {direction} LIMIT %s OFFSET %s)"
        )
        rows_sql = with_sql_prefix(
            self.items.filter(pk__in=RawSQL("SELECT id FROM page_ids", ())),
            f"WITH {self.matches_sql}, {page_ids}",
            [*self.matches_params, *params, stop - start, start],
        )
        rows = list(rows_sql.reverse() if reverse else rows_sql)
        if rows:
            self.matched = rows[0].matched
        elif cursor is None and start == 0:
            self.matched = 0  # the whole list read from its start, and nothing in it
        return rows
