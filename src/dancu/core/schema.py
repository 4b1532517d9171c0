"""Schema helpers for migrations."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def drop_pattern_ops_twin(table: str, column: str, restore_name: str) -> migrations.RunPython:
    """Drop the ``varchar_pattern_ops`` index PostgreSQL gets beside a unique or indexed
    CharField, for a column looked up by equality only (no LIKE): one index fewer to write on
    every INSERT. Found by its definition, not its hashed name; reversible; nothing on SQLite."""
    find = ("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexdef LIKE %s ESCAPE '!'")
    pattern = "%(" + column.replace("!", "!!").replace("_", "!_").replace("%", "!%") + \
        " varchar_pattern_ops)%"

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(find, [table, pattern])
            for (name,) in cursor.fetchall():
                schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def restore(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(restore_name)} "
                              f"ON {schema_editor.quote_name(table)} "
                              f"({schema_editor.quote_name(column)} varchar_pattern_ops)")

    return migrations.RunPython(drop, restore)
