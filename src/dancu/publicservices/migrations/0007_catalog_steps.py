"""The two interconnected procedures (Decree 63/2024) get their steps (issue #13) and the death
bundle's payee fields: catalog.json synced again."""

from django.db import migrations


def seed(apps, schema_editor):
    from dancu.publicservices.catalog import sync_catalog

    sync_catalog(apps.get_model("publicservices", "Procedure"))


class Migration(migrations.Migration):

    dependencies = [("publicservices", "0006_dossier_steps")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
