"""Name search on PostgreSQL: a trigram GIN index on name_key serves both prefix and
substring (LIKE '%…%') matches. SQLite has no such index type: the B-tree on name_key is used."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS citizen_name_key_trgm "
        "ON population_citizen USING gin (name_key gin_trgm_ops)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS citizen_name_key_trgm")


class Migration(migrations.Migration):
    dependencies = [("population", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
