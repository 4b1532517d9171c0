"""The audit trail refuses UPDATE, DELETE (and TRUNCATE on PostgreSQL) in the database:
see dancu.audit.append_only. (On SQLite, a later migration that rebuilds this table must
create the triggers again.)"""

from django.db import migrations

from dancu.audit import append_only


def forward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(append_only.POSTGRES_FORWARD, None)
    elif vendor == "sqlite":
        for sql in append_only.SQLITE_FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(append_only.POSTGRES_BACKWARD, None)
    elif vendor == "sqlite":
        for sql in append_only.SQLITE_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_lean_indexes'),
    ]

    operations = [migrations.RunPython(forward, backward)]
