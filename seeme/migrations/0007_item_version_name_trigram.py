"""A trigram index on items' names within their version, for the item browser's and the
API's ``name`` filter.

The filter is a case-insensitive substring (``name__icontains``: ``UPPER(name::text) LIKE
UPPER('%…%')`` on PostgreSQL), which no B-tree answers: with few matches in a million-item
version the browser scanned every item of the version (~1 s). A GIN index of ``pg_trgm``
trigrams finds the matching rows instead (patterns of three characters or more). It leads
with the version (``btree_gin``), so a version's search skips the other versions' entries:
a 1,000-item version in a database that also holds a million-item one reads ~30 index
pages, not the other version's posting lists (measured 0.5 ms against 30-40 ms for a
name-only trigram index). Within one version the cost follows how common the pattern's
rarest trigram is there (docs/benchmarks.md, "Pages and admin lists at 1,000,000 items").

PostgreSQL only: ``pg_trgm`` and ``btree_gin`` are trusted extensions (PostgreSQL 13+), so
the database owner may create them; on SQLite every step does nothing. The index is not
declared in ``Item.Meta`` (SQLite cannot build it), so the model state does not know it.
"""

from django.contrib.postgres.operations import BtreeGinExtension, TrigramExtension
from django.db import migrations

INDEX = "item_version_name_trigram"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON seeme_item "
            "USING gin (dataset_version_id, (UPPER(name::text)) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("seeme", "0006_drop_covered_fk_indexes")]

    operations = [
        TrigramExtension(),
        BtreeGinExtension(),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
