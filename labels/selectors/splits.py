"""Reads of one split's statistics, from its persisted LabelStat rows (never a recount)."""

import functools
import uuid

from django.db.models import QuerySet

from labels.models import LabelStat
from seeme.models import User
from seeme.selectors import AnyUser, dataset_list_visible
from splits.models import DatasetSplit

Kind = LabelStat.Kind


def label_stats_for_split(*, split: DatasetSplit) -> list[LabelStat]:
    """The split's label rows ordered by label index, then the unlabelled row. One query."""
    rows = list(
        LabelStat.objects.filter(split=split, kind__in=[Kind.LABEL, Kind.UNLABELLED])
        .select_related("label")
        .order_by("kind", "label__index")
    )
    # "label" sorts before "unlabelled", so the bucket comes last.
    return rows


def _rows_for_reader(
    *, user: AnyUser, dataset_id: uuid.UUID, version_id: uuid.UUID, split_id: uuid.UUID
) -> QuerySet[LabelStat]:
    """The split's rows if ``user`` may see its dataset (``dataset_list_visible``, the one
    access rule: any dataset they see they may read) and the ids nest; else none. The
    access check, the ids and the rows are one query: a stats read costs one query after
    authentication."""
    return LabelStat.objects.filter(
        split_id=split_id,
        split__version_id=version_id,
        split__version__dataset_id=dataset_id,
        split__version__dataset__in=dataset_list_visible(user=user),
    )


# Stand-in ids for compiling a reader query once: each is replaced by the request's own.
_USER, _DATASET, _VERSION, _SPLIT = (uuid.UUID(int=n) for n in (1, 2, 3, 4))


@functools.cache
def _compiled_read(total: bool, superuser: bool) -> tuple[str, tuple]:
    """The SQL of a reader query and its parameters with stand-in ids, compiled by the ORM
    once per process and shape: compiling it took longer than running it (5.7 ms against
    2.4 ms on PostgreSQL, docs/benchmarks.md, "Reads vs the framework floor")."""
    stand_in = User(pk=_USER, is_superuser=superuser)
    rows = _rows_for_reader(
        user=stand_in, dataset_id=_DATASET, version_id=_VERSION, split_id=_SPLIT
    )
    if total:
        rows = rows.filter(kind=Kind.TOTAL)
    else:
        rows = rows.filter(kind__in=[Kind.LABEL, Kind.UNLABELLED]).order_by("kind", "label__index")
    sql, params = rows.query.sql_with_params()
    return sql, tuple(params)


def _read(
    *, user: AnyUser, dataset_id: uuid.UUID, version_id: uuid.UUID, split_id: uuid.UUID, total: bool
) -> list[LabelStat]:
    """The rows of ``_rows_for_reader`` through the compiled query (``raw``, so the fields'
    database converters still apply)."""
    if not user.is_authenticated:
        return []
    sql, params = _compiled_read(total, bool(user.is_superuser))
    ids: dict[uuid.UUID, uuid.UUID] = {
        _USER: uuid.UUID(str(user.pk)),
        _DATASET: dataset_id,
        _VERSION: version_id,
        _SPLIT: split_id,
    }
    bound: list[object] = []
    for param in params:
        # UUIDs go to the database as UUIDs (PostgreSQL) or as 32 hex digits (SQLite).
        hex_id = _hex_id(param) if isinstance(param, str) and len(param) == 32 else None
        if isinstance(param, uuid.UUID) and param in ids:
            bound.append(ids[param])
        elif hex_id is not None and hex_id in ids:
            bound.append(ids[hex_id].hex)
        else:
            bound.append(param)
    return list(LabelStat.objects.raw(sql, bound))


def _hex_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(hex=value)
    except ValueError:
        return None


def label_stats_of_split_id(
    *, user: AnyUser, dataset_id: uuid.UUID, version_id: uuid.UUID, split_id: uuid.UUID
) -> list[LabelStat]:
    """For the API: the split's label rows by label index, then the unlabelled row, in one
    query with the access check (see ``_rows_for_reader``). Empty when the user may not see
    it or the ids do not nest: a split always has its unlabelled row."""
    return _read(
        user=user, dataset_id=dataset_id, version_id=version_id, split_id=split_id, total=False
    )


def label_stat_total_of_split_id(
    *, user: AnyUser, dataset_id: uuid.UUID, version_id: uuid.UUID, split_id: uuid.UUID
) -> LabelStat | None:
    """For the API: the split-total row, in one query with the access check; None when the
    user may not see it or the ids do not nest."""
    rows = _read(
        user=user, dataset_id=dataset_id, version_id=version_id, split_id=split_id, total=True
    )
    return rows[0] if rows else None


def label_stat_total_for_split(*, split: DatasetSplit) -> LabelStat | None:
    """The split-total row: every item and every annotation in the split. One query."""
    return LabelStat.objects.filter(split=split, kind=Kind.TOTAL).first()
