"""Foreign keys of a bulk copy, checked once per statement instead of once per row.

PostgreSQL checks a foreign key with one index lookup per inserted row (queued until the
commit: Django declares foreign keys ``DEFERRABLE INITIALLY DEFERRED``). A copy of a version
of 1,000,000 items inserts about 3,000,000 rows holding 8,000,000 references, and those
lookups took 35 s of a 90 s copy (docs/benchmarks.md). The same guarantee costs one
set-based query per foreign key:

- a parent made earlier in the same transaction (the copy's version, labels, splits and
  items) is invisible to every other transaction until the commit, so nobody can delete it:
  an anti-join that finds no missing parent is the whole check;
- any other parent (users, files) is locked ``FOR KEY SHARE`` in one statement, the lock the
  per-row check would have taken, so that a concurrent delete waits for the copy's commit,
  and each one must exist.

``SetBasedChecks`` switches the per-row checks off for the statements of its block with
``SET LOCAL session_replication_role = replica`` (foreign-key triggers are ordinary
triggers, which that role skips), back on when the block ends, then runs those queries for
the rows it was told about (``check``) and raises ``IntegrityError`` on a missing parent, as
the commit would have. It does so only where that is safe and allowed: on PostgreSQL, when
the tables have no trigger but foreign keys' (no user trigger, no deferrable unique check),
when the database role may set ``session_replication_role`` (a superuser, or after
``GRANT SET ON PARAMETER session_replication_role TO <role>``, PostgreSQL 15 and later),
when ``SEEME_SET_BASED_FK_CHECKS`` is on, and for at least ``MIN_ROWS`` rows. Anywhere else
the block changes nothing and the per-row checks run as always: callers write one path.
"""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection
from django.db.models import ForeignKey, Model

_ALLOWED_SQL = """
SELECT (current_setting('is_superuser') = 'on' OR {granted})
   AND NOT EXISTS (
        SELECT 1 FROM pg_trigger t
        WHERE t.tgrelid = ANY(%s::regclass[])
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint k WHERE k.oid = t.tgconstraint AND k.contype = 'f'
          )
   )
"""
# Below this many rows the per-row checks cost less than the dozen statements of the set checks
# (a per-row check is a few microseconds a key; a statement a few hundred).
MIN_ROWS = 500
# has_parameter_privilege is new in PostgreSQL 15; before it only a superuser may.
_GRANTED_15 = "has_parameter_privilege('session_replication_role', 'SET')"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


class SetBasedChecks:
    """``with SetBasedChecks(Item, Annotation) as checks:`` insert rows of those models, then
    ``checks.check(Item, where, params)`` for each set of new rows (``where``: SQL on the
    table aliased ``c``). Must run inside a transaction (the copy's)."""

    def __init__(
        self, *models: type[Model], created: Sequence[type[Model]] = (), rows: int | None = None
    ):
        self.models = models
        self.created = set(created)  # parents made in this transaction: checked, not locked
        self.rows = rows  # how many rows the block writes, when known
        self.active = False
        self._pending: list[tuple[type[Model], str, list[Any]]] = []

    def __enter__(self) -> "SetBasedChecks":
        self.active = self._allowed()
        if self.active:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.active or isinstance(exc, DatabaseError):
            # A database error aborted the transaction; its rollback restores the role.
            return
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = origin")
        if exc_type is None:
            for model, where, params in self._pending:
                self._check_now(model, where, params)

    def check(self, model: type[Model], where: str, params: Sequence[Any]) -> None:
        """Check the foreign keys of ``model``'s rows matching ``where`` when the block ends
        (nothing to do when the per-row checks run)."""
        if self.active:
            self._pending.append((model, where, list(params)))

    def _allowed(self) -> bool:
        if connection.vendor != "postgresql" or not settings.SEEME_SET_BASED_FK_CHECKS:
            return False
        if self.rows is not None and self.rows < MIN_ROWS:
            return False
        granted = _GRANTED_15 if connection.pg_version >= 150000 else "false"
        tables = [str(model._meta.db_table) for model in self.models]
        with connection.cursor() as cursor:
            cursor.execute(_ALLOWED_SQL.format(granted=granted), [tables])
            return bool(cursor.fetchone()[0])

    def _check_now(self, model: type[Model], where: str, params: list[Any]) -> None:
        table = _q(str(model._meta.db_table))
        for field in model._meta.concrete_fields:
            if not isinstance(field, ForeignKey) or not field.db_constraint:
                continue
            parent = field.related_model
            column = f"c.{_q(field.column)}"
            parent_table = _q(str(parent._meta.db_table))
            key = _q(field.target_field.column)
            rows = f"FROM {table} c WHERE ({where}) AND {column} IS NOT NULL"
            if parent in self.created:
                sql = (
                    f"SELECT count(*) FROM (SELECT 1 {rows} AND NOT EXISTS "
                    f"(SELECT 1 FROM {parent_table} p WHERE p.{key} = {column}) LIMIT 1) m"
                )
            else:
                sql = (
                    f"WITH refs AS (SELECT DISTINCT {column} AS ref {rows}) "
                    "SELECT (SELECT count(*) FROM refs) - (SELECT count(*) FROM "
                    f"(SELECT 1 FROM {parent_table} p WHERE p.{key} IN (SELECT ref FROM refs) "
                    "FOR KEY SHARE OF p) locked)"
                )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                missing = cursor.fetchone()[0]
            if missing:
                raise IntegrityError(
                    f"{model.__name__}.{field.name} refers to a missing {parent.__name__}."
                )
