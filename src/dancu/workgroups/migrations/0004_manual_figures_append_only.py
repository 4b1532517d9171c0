"""A figure entered by hand is never edited nor deleted: a correction is a new entry (the latest
of a code and period is the one used). Triggers refuse UPDATE and DELETE of
workgroups_manualfigure (and TRUNCATE on PostgreSQL), as 0002 does for the reports."""

from django.db import migrations

from dancu.audit import append_only


class Migration(migrations.Migration):

    dependencies = [
        ("workgroups", "0003_report_versions"),
    ]

    operations = [append_only.migration_operation("workgroups_manualfigure")]
