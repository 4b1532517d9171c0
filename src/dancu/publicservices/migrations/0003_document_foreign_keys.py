"""The component's and the result's document become foreign keys to documents.Document (they
were plain integer columns of the same names until the documents app existed). The columns keep
their names (document_id, result_document_id); the tables hold no rows yet anywhere."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("documents", "0001_initial"),
        ("publicservices", "0002_seed_catalog"),
    ]

    operations = [
        migrations.RemoveField(model_name="dossiercomponent", name="document_id"),
        migrations.AddField(
            model_name="dossiercomponent", name="document",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="documents.document"),
            preserve_default=False,
        ),
        migrations.RemoveField(model_name="dossier", name="result_document_id"),
        migrations.AddField(
            model_name="dossier", name="result_document",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="documents.document"),
        ),
    ]
