"""The audit trail is append-only in the database itself, not only by convention.

Migration ``audit.0004_append_only`` installs triggers that refuse any UPDATE or DELETE of
``audit_auditevent`` (PostgreSQL and SQLite) and any TRUNCATE (PostgreSQL). The application's
role gets an error whatever SQL it sends (ORM, raw SQL, an injected statement).

One exception exists, for the test suite only: between tests pytest-django *flushes* the
database (TRUNCATE on PostgreSQL, DELETE on SQLite). ``flushing()`` lets that flush through:

- PostgreSQL: it sets ``dancu.audit_flush = 'on'`` for the flush's transaction (``SET LOCAL``);
  the trigger honours it **only for a superuser** (the test runner's ``postgres``). A superuser
  can drop the trigger anyway, so this grants nothing more; the application's role, which must
  not be a superuser in production, cannot use it.
- SQLite: it raises a per-thread flag that the trigger reads through the SQL function
  ``dancu_audit_flush()``, registered on the application's connections (a connection without
  it — the sqlite3 shell — gets "no such function": refused as well). SQL text cannot raise it.

``tests/conftest.py`` wraps Django's ``execute_sql_flush`` in it. Production has no flush.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.backends.signals import connection_created
from django.dispatch import receiver

_flag = threading.local()

SQLITE_FUNCTION = "dancu_audit_flush"
POSTGRES_SETTING = "dancu.audit_flush"

POSTGRES_FORWARD = """
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('dancu.audit_flush', true), '') = 'on'
       AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_no_update_delete ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_append_only();
"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_auditevent
        WHEN NOT {SQLITE_FUNCTION}() BEGIN
        SELECT RAISE(ABORT, 'audit_auditevent is append-only: UPDATE refused'); END""",
    f"""CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_auditevent
        WHEN NOT {SQLITE_FUNCTION}() BEGIN
        SELECT RAISE(ABORT, 'audit_auditevent is append-only: DELETE refused'); END""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS audit_no_update", "DROP TRIGGER IF EXISTS audit_no_delete"]


# The same guard for another table that must never change once written (e.g. the issued reports of
# workgroups, migration workgroups.0002): one shared PostgreSQL function naming the table in its
# refusal, the same flush exception as the audit trail's.
POSTGRES_GENERIC_FUNCTION = """
CREATE OR REPLACE FUNCTION dancu_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('dancu.audit_flush', true), '') = 'on'
       AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def append_only_sql(vendor: str, table: str) -> list[str]:
    """The statements that make ``table`` append-only (UPDATE, DELETE and, on PostgreSQL,
    TRUNCATE refused) on this database vendor, as for the audit trail."""
    if vendor == "postgresql":
        return [POSTGRES_GENERIC_FUNCTION,
                f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION dancu_append_only()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION dancu_append_only()"]
    if vendor == "sqlite":
        return [f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
                    WHEN NOT {SQLITE_FUNCTION}() BEGIN
                    SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"""
                for op in ("UPDATE", "DELETE")]
    return []


def drop_append_only_sql(vendor: str, table: str) -> list[str]:
    """The reverse of ``append_only_sql`` (the shared function stays)."""
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}"]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
    return []


def migration_operation(table: str, *, lift: bool = False) -> Any:
    """The migration operation installing ``append_only_sql`` on ``table`` (reversed by
    ``drop_append_only_sql``); with ``lift``, the operation removing them (reversed by installing
    them) — around a change that rebuilds the table on SQLite, which drops its triggers."""
    from django.db import migrations

    def install(apps: Any, schema_editor: Any) -> None:
        for sql in append_only_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(sql, None)

    def remove(apps: Any, schema_editor: Any) -> None:
        for sql in drop_append_only_sql(schema_editor.connection.vendor, table):
            schema_editor.execute(sql, None)

    return migrations.RunPython(remove, install) if lift else migrations.RunPython(install, remove)


def _sqlite_flush_flag() -> int:
    return 1 if getattr(_flag, "on", False) else 0


@receiver(connection_created)
def _register_sqlite_function(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 0, _sqlite_flush_flag)


@contextlib.contextmanager
def flushing(connection: Any) -> Iterator[None]:
    """For the test suite's flush only (see the module docstring)."""
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL {POSTGRES_SETTING} = 'on'")
        _flag.on = True
        try:
            yield
        finally:
            _flag.on = False
