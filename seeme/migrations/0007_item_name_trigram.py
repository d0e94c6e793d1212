"""A trigram index on items' names, for the item browser's and the API's ``name`` filter.

The filter is a case-insensitive substring (``name__icontains``: ``UPPER(name::text) LIKE
UPPER('%…%')`` on PostgreSQL), which no B-tree answers: with few matches in a million-item
version the page scanned every item of the version. A GIN index of ``pg_trgm`` trigrams over
the same expression finds the matching rows directly (patterns of three characters or
more). PostgreSQL only: ``pg_trgm`` is a trusted extension (PostgreSQL 13+), so the
database owner may create it; on SQLite both steps do nothing. The index is not declared
in ``Item.Meta`` (SQLite cannot build it), so the model state does not know it.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "item_name_trigram"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON seeme_item "
            "USING gin ((UPPER(name::text)) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("seeme", "0006_drop_covered_fk_indexes")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
