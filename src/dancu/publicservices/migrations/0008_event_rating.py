"""A ``rated`` event keeps its rating as data (``rating``, ``rating_before``): the kpi context
counts these fields instead of parsing the note. The events written before are filled in from
their note (``"<previous or ''>→<new>"``, as ``services.submission.rate`` wrote it); a note that
does not read so leaves both NULL — the event is then counted by no figure, by the tallies'
receiver and by ``dancu kpi check`` alike."""

import re

from django.db import migrations, models

NOTE = re.compile(r"\s*([1-5]?)\s*→\s*([1-5])\s*")
BATCH = 1000


def from_notes(apps, schema_editor):
    event_model = apps.get_model("publicservices", "DossierEvent")
    parsed = []
    for pk, note in event_model.objects.filter(action="rated").values_list("id", "note"):
        match = NOTE.fullmatch(note or "")
        if match is not None:
            parsed.append(event_model(id=pk, rating_before=int(match[1]) if match[1] else None,
                                      rating=int(match[2])))
    event_model.objects.bulk_update(parsed, ["rating", "rating_before"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("publicservices", "0007_catalog_steps"),
    ]

    operations = [
        migrations.AddField(
            model_name="dossierevent",
            name="rating",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="dossierevent",
            name="rating_before",
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(from_notes, migrations.RunPython.noop),
    ]
