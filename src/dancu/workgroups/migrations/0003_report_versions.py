"""Corrected reports (báo cáo thay thế): a version number, the report a correction replaces and
its reason; one version per (group, kind, period, version) and one successor per report.

SQLite rebuilds the table for these changes (new table, copy, drop, rename), which loses the
append-only triggers of 0002: they are dropped before and created again after, on both vendors
(on PostgreSQL the ALTERs fire no row trigger; dropping and re-creating is the same there)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from dancu.audit import append_only

TABLE = "workgroups_report"


class Migration(migrations.Migration):

    dependencies = [
        ('workgroups', '0002_reports_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        append_only.migration_operation(TABLE, lift=True),
        migrations.RemoveConstraint(
            model_name='report',
            name='workgroup_report_once_per_period',
        ),
        migrations.AddField(
            model_name='report',
            name='reason',
            field=models.TextField(blank=True, default='', help_text='why a correction was issued'),
        ),
        migrations.AddField(
            model_name='report',
            name='replaces',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='replaced_by', to='workgroups.report'),
        ),
        migrations.AddField(
            model_name='report',
            name='version',
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddConstraint(
            model_name='report',
            constraint=models.UniqueConstraint(fields=('group', 'kind', 'period_start', 'version'), name='workgroup_report_version_once_per_period'),
        ),
        migrations.AddConstraint(
            model_name='report',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('reason', ''), ('replaces__isnull', True), ('version', 1)), models.Q(('replaces__isnull', False), ('version__gt', 1), models.Q(('reason', ''), _negated=True)), _connector='OR'), name='workgroup_report_correction_shape'),
        ),
        append_only.migration_operation(TABLE),
    ]
