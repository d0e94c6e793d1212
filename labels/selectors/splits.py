"""Reads of one split's statistics, from its persisted LabelStat rows (never a recount)."""

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from django.db import connection
from django.db.models import Field, QuerySet

from labels.models import Label, LabelStat
from seeme import services
from seeme.db import fetch_prepared, row_converter
from seeme.models import APIKey, Dataset, DatasetShare, User, Version
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


@dataclass(frozen=True, slots=True)
class StatRow:
    """A LabelStat row as the API shows it (what ``label_stat_json`` reads)."""

    pk: uuid.UUID
    created_at: datetime
    updated_at: datetime
    split_id: uuid.UUID
    label_id: uuid.UUID | None
    count: int
    annotation_count: int
    item_count: int


_STAT_FIELDS = tuple(
    cast(Field, LabelStat._meta.get_field(name))
    for name in (
        "id",
        "created_at",
        "updated_at",
        "split",
        "label",
        "count",
        "annotation_count",
        "item_count",
    )
)


@functools.cache
def _keyed_sql(total: bool) -> str:
    """The rows of ``_rows_for_reader`` joined to the key check of ``services.apikey_sql``:
    one row per stat row (or one row of NULLs) when the key is live, none when it is not.
    The access rule is ``dataset_list_visible``'s, restated in SQL beside the key's user:
    superusers see every dataset, others what they own or is shared with them."""
    q = connection.ops.quote_name
    stat, split = q(LabelStat._meta.db_table), q(DatasetSplit._meta.db_table)
    version, dataset = q(Version._meta.db_table), q(Dataset._meta.db_table)
    share, label = q(DatasetShare._meta.db_table), q(Label._meta.db_table)
    kinds = "ls.kind = %s" if total else "ls.kind IN (%s, %s)"
    columns = ", ".join(f"ls.{q(str(f.column))}" for f in _STAT_FIELDS)
    return (
        f"SELECT {{key_columns}}, {columns} FROM {{key_from}} "
        f"LEFT JOIN {stat} ls ON (ls.{q('split_id')} = %s AND {kinds} AND EXISTS ("
        f"SELECT 1 FROM {split} sp INNER JOIN {version} v ON (v.{q('id')} = sp.{q('version_id')}) "
        f"INNER JOIN {dataset} d ON (d.{q('id')} = v.{q('dataset_id')}) "
        f"WHERE sp.{q('id')} = ls.{q('split_id')} AND sp.{q('version_id')} = %s "
        f"AND v.{q('dataset_id')} = %s AND (u.{q('is_superuser')} "
        f"OR d.{q('owner_id')} = u.{q('id')} "
        f"OR EXISTS (SELECT 1 FROM {share} sh WHERE sh.{q('dataset_id')} = d.{q('id')} "
        f"AND sh.{q('user_id')} = u.{q('id')})))) "
        f"LEFT JOIN {label} lb ON (lb.{q('id')} = ls.{q('label_id')}) "
        f"WHERE {{key_where}} ORDER BY ls.{q('kind')}, lb.{q('index')}"
    )


@functools.cache
def _stat_converter():
    return row_converter(_STAT_FIELDS)


def label_stats_by_key(
    *,
    raw_key: str,
    dataset_id: uuid.UUID,
    version_id: uuid.UUID,
    split_id: uuid.UUID,
    total: bool,
) -> tuple[APIKey | None, list[StatRow]]:
    """The API's stats reads for a caller with an API key, in ONE query: the key check of
    ``seeme.services.apikey_authenticate`` and the rows of ``label_stats_of_split_id`` (or,
    with ``total``, of ``label_stat_total_of_split_id``) together, a prepared statement on
    PostgreSQL (``seeme.db.fetch_prepared``). Returns (None, []) for a key that does not
    authenticate, (key, []) when the key's user may not see the split or the ids do not
    nest, else (key, rows) in the same order and with the same access rule as the ORM read
    (tests/labels/test_keyed_reads.py holds the two to the same answers)."""
    key_columns, key_from, key_where, key_params = services.apikey_sql(raw_key=raw_key)
    sql = _keyed_sql(total).format(key_columns=key_columns, key_from=key_from, key_where=key_where)
    ids = [_uuid_param(split_id), _uuid_param(version_id), _uuid_param(dataset_id)]
    kinds = [Kind.TOTAL] if total else [Kind.LABEL, Kind.UNLABELLED]
    params = [ids[0], *kinds, ids[1], ids[2], *key_params]
    found = fetch_prepared(sql, params)
    if not found:
        return None, []
    key = services.apikey_from_row(found[0])
    width = services.APIKEY_SQL_WIDTH
    convert = _stat_converter()
    return key, [StatRow(*convert(row[width:])) for row in found if row[width] is not None]


def _uuid_param(value: uuid.UUID) -> object:
    return LabelStat._meta.get_field("id").get_db_prep_value(value, connection)


def label_stat_total_for_split(*, split: DatasetSplit) -> LabelStat | None:
    """The split-total row: every item and every annotation in the split. One query."""
    return LabelStat.objects.filter(split=split, kind=Kind.TOTAL).first()
