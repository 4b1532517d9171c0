"""The audit trail is append-only in the database: raw SQL cannot change or remove an event."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from dancu.accounts.actor import system_actor
from dancu.audit import services as audit
from dancu.audit.models import AuditEvent


def _refused(sql: str, params: list | None = None) -> str:
    with pytest.raises(DatabaseError) as info, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(info.value)


@pytest.mark.django_db
def test_raw_sql_cannot_update_or_delete_an_event() -> None:
    event = audit.record(system_actor(), "citizen.view", personal_id="038190000001", reason="x")
    assert "append-only" in _refused("UPDATE audit_auditevent SET reason = 'changed' WHERE id = %s",
                                     [event.pk])
    assert "append-only" in _refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert "append-only" in _refused("DELETE FROM audit_auditevent")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="changed")
    assert AuditEvent.objects.get(pk=event.pk).reason == "x"
    # inserting stays possible
    audit.record(system_actor(), "citizen.view", personal_id="038190000001", reason="y")
    assert AuditEvent.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_test_suites_flush_still_clears_the_table() -> None:
    """A transactional test (committed rows): TRUNCATE is refused too on PostgreSQL, also to the
    application's role with the flush's setting; yet the teardown's flush clears the table
    (run here once more)."""
    event = audit.record(system_actor(), "citizen.view", personal_id="038190000001", reason="x")
    if connection.vendor == "postgresql":
        assert "append-only" in _refused("TRUNCATE audit_auditevent")
        # the flush's setting does not help the application's role (not a superuser)
        with connection.cursor() as cursor:
            cursor.execute("CREATE ROLE dancu_app_test NOSUPERUSER")
            cursor.execute("GRANT ALL ON audit_auditevent TO dancu_app_test")
        try:
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL ROLE dancu_app_test")
                cursor.execute("SET LOCAL dancu.audit_flush = 'on'")
                cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
        finally:
            with connection.cursor() as cursor:
                cursor.execute("REVOKE ALL ON audit_auditevent FROM dancu_app_test")
                cursor.execute("DROP ROLE dancu_app_test")
    assert AuditEvent.objects.count() == 1
    call_command("flush", interactive=False, verbosity=0)  # what the teardown runs
    assert AuditEvent.objects.count() == 0
