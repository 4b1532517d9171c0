"""An issued report never changes: triggers refuse UPDATE and DELETE of workgroups_report (and
TRUNCATE on PostgreSQL), as for the audit trail (dancu.audit.append_only). On SQLite, a later
migration that rebuilds this table must create the triggers again."""

from django.db import migrations

from dancu.audit import append_only

TABLE = "workgroups_report"


def forward(apps, schema_editor) -> None:
    for sql in append_only.append_only_sql(schema_editor.connection.vendor, TABLE):
        schema_editor.execute(sql, None)


def backward(apps, schema_editor) -> None:
    for sql in append_only.drop_append_only_sql(schema_editor.connection.vendor, TABLE):
        schema_editor.execute(sql, None)


class Migration(migrations.Migration):

    dependencies = [
        ("workgroups", "0001_initial"),
        ("audit", "0004_append_only"),
    ]

    operations = [migrations.RunPython(forward, backward)]
