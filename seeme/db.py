"""Transaction helpers shared by every service."""

import functools
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models.fields import AutoFieldMixin
from django.db.models.options import Options
from django.db.models.sql import Query
from django.utils import timezone

log = logging.getLogger(__name__)

# SQLSTATEs worth one more try: deadlock_detected, serialization_failure.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
MAX_ATTEMPTS = 5


def _retryable(exc: OperationalError) -> bool:
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(exc)


def atomic_write(func):
    """Run a service in one transaction, retrying it whole after a deadlock.

    The retry only happens at the outermost level: a service called from inside another
    transaction joins it and lets the error travel up to the outer ``atomic_write``.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if connection.in_atomic_block:
            with transaction.atomic():
                return func(*args, **kwargs)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except OperationalError as exc:
                if attempt == MAX_ATTEMPTS or not _retryable(exc):
                    raise
                log.info("retrying %s after %s (attempt %d)", func.__name__, exc, attempt)
                time.sleep(0.01 * attempt)
        raise AssertionError("unreachable")

    return wrapper


# -- bulk inserts whose cost in queries does not grow with the rows ----------------------------


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def column_of(meta: Options, name: str) -> str:
    """The database column of the concrete field ``name``."""
    return str(cast(Field, meta.get_field(name)).column)


def _insert_fields(model: type[Model]) -> list[Field]:
    return [f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin)]


def _complete(
    model: type[Model], names: Sequence[str], rows: Iterable[Sequence]
) -> tuple[list[Field], Iterator[list]]:
    """Every insertable field, and the rows with the fields not in ``names`` filled in with
    their model default (a callable one called per row; ``auto_now``: now)."""
    fields = _insert_fields(model)
    given = {model._meta.get_field(name).name: i for i, name in enumerate(names)}
    now = timezone.now()
    fillers: list[tuple[int | None, Callable[[], Any] | None]] = []
    for f in fields:
        if f.name in given:
            fillers.append((given[f.name], None))
        elif f.has_default() and callable(f.default):
            fillers.append((None, f.default))
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            fillers.append((None, lambda: now))
        else:
            value = f.get_default()
            fillers.append((None, _constant(value)))
    completed = (
        [row[i] if i is not None else make() for i, make in fillers]  # type: ignore[misc]
        for row in rows
    )
    return fields, completed


# Fields whose str / int / bool / None values go to every database as they are.
_PLAIN_FIELDS = {
    "CharField",
    "TextField",
    "IntegerField",
    "PositiveIntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "BooleanField",
}
_PLAIN_VALUES: set[type] = {str, int, bool, type(None)}
# On PostgreSQL psycopg also takes these as they are: the ORM's preparation returns them
# unchanged (a datetime only when aware; a naive one gets the ORM's warning and conversion).
_NATIVE_VALUES: dict[str, set[type]] = {
    "UUIDField": {uuid.UUID, type(None)},
    "DateTimeField": {datetime, type(None)},
    "AutoField": {int, type(None)},
    "BigAutoField": {int, type(None)},
}


def _ready_types(field: Field, conn: Any) -> set[type]:
    """The types of value ``field`` stores without ``get_db_prep_save``."""
    kind = field.get_internal_type()
    if kind in _PLAIN_FIELDS:
        return _PLAIN_VALUES
    if conn.vendor != "postgresql":
        return set()
    if field.is_relation:  # a foreign key: the field it points to decides
        kind = cast(Any, field).target_field.get_internal_type()
    return _NATIVE_VALUES.get(kind, set())


def insert_rows(model: type[Model], names: Sequence[str], rows: Sequence[Sequence]) -> None:
    """Insert ``rows`` (Python values, one per field named in ``names``; other fields take
    their model default) in ONE statement.

    Django's ``bulk_create`` needs more statements as rows grow (SQLite allows 999 parameters
    a statement, PostgreSQL 65,535). Here the rows travel in one statement: on PostgreSQL a
    ``COPY ... FROM STDIN`` (``_copy``), on SQLite one JSON document read by ``json_each``.
    Values are prepared by their field (``get_db_prep_save``), except those the database takes
    as they are (``_ready_types``). This, ``copy_rows`` and ``derived_uuid_sql`` are the only
    vendor-specific writes. No model ``save()`` runs and nothing is read back (not even
    auto-increment keys).
    """
    if not rows:
        return
    fields, completed = _complete(model, names, rows)
    conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is asked once per value below
    ops = conn.ops
    table = ops.quote_name(str(model._meta.db_table))
    columns = ", ".join(ops.quote_name(str(f.column)) for f in fields)
    preps = [(_ready_types(f, conn), f.get_db_prep_save) for f in fields]
    prepared = [
        [
            v
            if type(v) in ready and (type(v) is not datetime or v.utcoffset() is not None)
            else prep(v, conn)
            for (ready, prep), v in zip(preps, row, strict=True)
        ]
        for row in completed
    ]
    if conn.vendor == "postgresql":
        _copy(model, fields, prepared)
        return
    picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(fields)))
    sql = f"INSERT INTO {table} ({columns}) SELECT {picks} FROM json_each(%s)"
    with conn.cursor() as cursor:
        cursor.execute(sql, [json.dumps(prepared, default=str)])


def _copy(model: type[Model], fields: Sequence[Field], rows: Iterable[Sequence]) -> None:
    """``COPY ... FROM STDIN`` of ``rows`` (values psycopg adapts) into ``model``'s table, on
    PostgreSQL: one statement, which Django's query log (``CaptureQueriesContext``,
    ``django_assert_num_queries``) and ``connection.execute_wrapper`` see like any other,
    although psycopg runs it outside ``cursor.execute``.

    Measured on 10,000 items (docs/benchmarks.md): about three times faster than one
    ``INSERT ... SELECT FROM unnest(arrays)``, whose arrays psycopg builds value by value in
    Python, while the rows are written by its C implementation."""
    conn = connections[DEFAULT_DB_ALIAS]
    ops = conn.ops
    table = ops.quote_name(str(model._meta.db_table))
    columns = ", ".join(ops.quote_name(str(f.column)) for f in fields)
    sql = f"COPY {table} ({columns}) FROM STDIN"
    with conn.cursor() as cursor:

        def run(sql: str, params: Any, many: bool, context: dict) -> None:
            conn.validate_no_broken_transaction()
            with conn.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)

        executor: Callable[..., None] = run
        for wrapper in reversed(conn.execute_wrappers):
            executor = functools.partial(wrapper, executor)
        context = {"connection": conn, "cursor": cursor}
        if isinstance(cursor, CursorDebugWrapper):  # queries are being logged
            with cursor.debug_sql(sql):
                executor(sql, None, False, context)
        else:
            executor(sql, None, False, context)


def copy_rows(
    model: type[Model], names: Sequence[str], rows: Iterable[Sequence], chunk: int = 50_000
) -> None:
    """Stream many rows into a table, as fast as the database takes them: ``COPY ... FROM
    STDIN`` on PostgreSQL (values must already be what psycopg adapts: UUID, aware datetime,
    str, int, None), ``insert_rows`` by chunks elsewhere. Fields not in ``names`` take their
    model default. For bulk generators and imports."""
    if connection.vendor != "postgresql":
        batch: list[Sequence] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                insert_rows(model, names, batch)
                batch = []
        insert_rows(model, names, batch)
        return
    fields, completed = _complete(model, names, rows)
    _copy(model, fields, completed)


# -- set-based copies: INSERT ... SELECT inside the database -----------------------------------


def _derived_prefix(namespace: uuid.UUID, kind: str) -> str:
    return hashlib.md5(f"{namespace}:{kind}".encode()).hexdigest()[:16]


def derived_uuid(namespace: uuid.UUID, kind: str, old: uuid.UUID) -> uuid.UUID:
    """The id of the copy of row ``old`` (of ``kind``) made under ``namespace``: 64 bits
    naming (namespace, kind), then the LAST 64 bits of the original id. ``derived_uuid_sql``
    computes the same value inside the database, so copies need no id map.

    Why this shape: all copies of one kind under one namespace fall in one narrow key range,
    so the copy fills new index pages instead of touching pages all over the primary-key and
    foreign-key indexes (measured on PostgreSQL: docs/benchmarks.md). The last 64 bits, not
    the first, because those tell rows apart: ids made by ``uuid7`` in one millisecond by
    one process share their first 64 bits (time, version, the counter's top 12 bits), and
    all rows of a copy share theirs (the prefix here). The last 64 are the variant and 62
    bits that differ: in a uuid7 the counter's low 30 (distinct within a millisecond) and 32
    random ones, in a uuid4 62 random ones, in a copy its original's. Two originals sharing
    their last 64 bits (about 1 in 10^7 for a million rows) make the copy fail on the
    primary key, whole, never silently; a retry under a new namespace succeeds."""
    return uuid.UUID(_derived_prefix(namespace, kind) + old.hex[16:])


def derived_uuid_sql(column: str, namespace: uuid.UUID, kind: str) -> tuple[str, list[Any]]:
    """SQL (and its parameter) for ``derived_uuid(namespace, kind, <column>)``: the one
    vendor branch of the copy. PostgreSQL stores a native uuid; SQLite 32 hex digits."""
    prefix = _derived_prefix(namespace, kind)
    if connection.vendor == "postgresql":
        return f"(%s || right(replace({column}::text, '-', ''), 16))::uuid", [prefix]
    return f"(%s || substr({column}, 17, 16))", [prefix]


def mapped_sql(column: str, mapping: dict[Any, Any], field: Field) -> tuple[str, list[Any]]:
    """SQL (and its parameters) for ``mapping[<column>]``, for the few ids a copy renames by a
    known map (a version's labels and splits): a ``CASE``, measured about twice as cheap per
    row as deriving each id in SQL. A value the map lacks gives NULL, which a NOT NULL foreign
    key refuses: the copy fails whole, never silently."""
    if not mapping:
        return "NULL", []
    params: list[Any] = []
    for old, new in mapping.items():
        params += [
            field.get_db_prep_value(old, connection),
            field.get_db_prep_value(new, connection),
        ]
    return f"CASE {column} {' '.join(['WHEN %s THEN %s'] * len(mapping))} END", params


def insert_select(
    model: type[Model],
    *,
    source: str,
    where: str,
    where_params: Sequence[Any],
    set_values: dict[str, Any] | None = None,
    set_sql: dict[str, tuple[str, list[Any]]] | None = None,
) -> int:
    """Copy rows of ``model``'s table into the same table in ONE ``INSERT ... SELECT``.

    ``source`` is the FROM clause (the table aliased ``s``, plus any joins); ``where`` filters
    it. Each column takes ``s.<column>`` unless ``set_values`` gives it a constant (prepared
    for the database by its field) or ``set_sql`` an SQL expression with its parameters.
    Returns the number of rows inserted. No row passes through Python.
    """
    set_values = set_values or {}
    set_sql = set_sql or {}
    conn = connection
    ops = conn.ops
    table = ops.quote_name(str(model._meta.db_table))
    fields = _insert_fields(model)
    columns, exprs, params = [], [], []
    for f in fields:
        columns.append(ops.quote_name(str(f.column)))
        if f.name in set_sql:
            sql, sql_params = set_sql[f.name]
            exprs.append(sql)
            params.extend(sql_params)
        elif f.name in set_values:
            exprs.append("%s")
            params.append(f.get_db_prep_save(set_values[f.name], conn))
        else:
            exprs.append(f"s.{ops.quote_name(str(f.column))}")
    unknown = (set(set_values) | set(set_sql)) - {f.name for f in fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no insertable field(s) {sorted(unknown)}")
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(exprs)} FROM {source} WHERE {where}"
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, [*params, *where_params])
        return int(cursor.rowcount)


def row_converter(fields: Sequence[Field]) -> Callable[[Sequence[Any]], list[Any]]:
    """A function turning a raw cursor row of ``fields``' columns into Python values, with the
    same database converters the ORM applies (UUIDs and datetimes on SQLite, for instance)."""
    chains = []
    for field in fields:
        col = field.get_col(str(field.model._meta.db_table))
        chains.append(
            (col, [*connection.ops.get_db_converters(col), *field.get_db_converters(connection)])
        )

    def convert(row: Sequence[Any]) -> list[Any]:
        values = []
        for value, (col, converters) in zip(row, chains, strict=True):
            for converter in converters:
                value = converter(value, col, connection)
            values.append(value)
        return values

    return convert


def fetch_prepared(sql: str, params: Sequence[Any]) -> list[tuple]:
    """Run one hot read and return its rows. On PostgreSQL (unless
    ``SEEME_PREPARED_STATEMENTS`` is off) the query is a server-side prepared statement of
    the connection: planned on its first run, and each later run on that connection skips
    planning (persistent connections, ``SEEME_DB_CONN_MAX_AGE``, keep it for a while).
    Django turns psycopg's preparation off for everything else, to stay compatible with
    transaction-mode poolers; PgBouncer supports prepared statements from 1.21, and the
    setting turns them off behind an older one. Elsewhere a plain cursor. Django's cursor
    wrapper is kept, so the query is counted and logged like any other."""
    from django.conf import settings

    if connection.vendor != "postgresql" or not settings.SEEME_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    import psycopg

    # As BaseDatabaseWrapper.cursor() makes a cursor, with a server-binding psycopg one (the
    # client-binding cursors Django uses never prepare) and preparation on for this query.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    pg = connection.connection
    with connection.wrap_database_errors:
        threshold, pg.prepare_threshold = pg.prepare_threshold, 0
        try:
            wrap = connection._prepare_cursor  # type: ignore[attr-defined]
            with wrap(psycopg.Cursor(pg)) as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
        finally:
            pg.prepare_threshold = threshold
    if connection.queries_logged and connection.queries_log[-1]["sql"] is None:
        # Django logs a cursor's last query text, which a prepared run leaves unset.
        connection.queries_log[-1]["sql"] = connection.ops.compose_sql(sql, params)
    return rows


class _PrefixedQuery(Query):
    """A query whose SQL is preceded by ``sql_prefix`` (common table expressions), with the
    prefix's parameters first. Clones keep the prefix, so the query can still be filtered,
    ordered and sliced."""

    sql_prefix: tuple[str, tuple[Any, ...]] = ("", ())

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        compiler = super().get_compiler(using, connection, elide_empty)
        base = type(compiler)
        if base not in _PREFIXED_COMPILERS:
            _PREFIXED_COMPILERS[base] = type(f"Prefixed{base.__name__}", (_Prefixed, base), {})
        compiler.__class__ = _PREFIXED_COMPILERS[base]
        return compiler


class _Prefixed:
    """Mixed into the backend's own compiler class (each backend may have its own)."""

    query: _PrefixedQuery

    def as_sql(self, *args: Any, **kwargs: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = super().as_sql(*args, **kwargs)  # type: ignore[misc]
        prefix, prefix_params = self.query.sql_prefix
        return f"{prefix} {sql}", (*prefix_params, *params)


_PREFIXED_COMPILERS: dict[type, type] = {}


def with_sql_prefix(queryset: QuerySet, sql: str, params: Sequence[Any]) -> QuerySet:
    """``queryset`` run as ``<sql> <its own SQL>``: for a ``WITH`` clause that the query's
    ``RawSQL`` parts read (Django writes no common table expressions). Rows, ``select_related``
    and prefetches work as on any queryset."""
    prefixed = queryset.all()
    prefixed.query = prefixed.query.chain(_PrefixedQuery)
    prefixed.query.sql_prefix = (sql, tuple(params))  # type: ignore[attr-defined]
    return prefixed


def analyze(*models: type[Model]) -> None:
    """Refresh PostgreSQL's statistics of ``models``' tables (``ANALYZE``) after a job that
    wrote a version's worth of rows into them (a duplicate, an archive import).

    Until autovacuum gets to the tables (a minute or more; never where it is off, and not at
    all when the new rows are under a tenth of a big table), the planner has never seen the
    new version's id and takes it for one row: a name search of a 1,000,000-item copy was
    then planned as a walk through all of its items, 2.3 s; after ``ANALYZE``, 43 ms
    (docs/benchmarks.md). It samples about 30,000 rows a table, about a second for the
    three tables of a 1M copy, and runs in the job's transaction, which sees its own rows.
    A role that does not own a table gets a warning, not an error. No-op on SQLite, whose
    planner has no such statistics unless asked."""
    if connection.vendor != "postgresql" or not models:
        return
    tables = ", ".join(connection.ops.quote_name(str(model._meta.db_table)) for model in models)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
