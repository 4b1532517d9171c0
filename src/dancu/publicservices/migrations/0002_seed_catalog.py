"""Seeds the procedure catalog from publicservices/catalog.json (issue #12)."""

from django.db import migrations


def seed(apps, schema_editor):
    from dancu.publicservices.catalog import sync_catalog

    sync_catalog(apps.get_model("publicservices", "Procedure"))


class Migration(migrations.Migration):

    dependencies = [("publicservices", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
