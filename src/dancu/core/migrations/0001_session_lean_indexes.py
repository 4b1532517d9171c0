from django.db import migrations

from dancu.core.schema import drop_pattern_ops_twin

# Every citizen login INSERTs a django_session row (dancu.core.session_store), looked up by
# its primary key only: the key's varchar_pattern_ops twin is one index more to write each time.


class Migration(migrations.Migration):

    dependencies = [
        ('sessions', '0001_initial'),
    ]

    operations = [
        drop_pattern_ops_twin("django_session", "session_key",
                              "django_session_session_key_c0390e0f_like"),
    ]
