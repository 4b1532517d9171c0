"""PostgreSQL helpers for the few hot paths that write one hand-written statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.backends.postgresql.psycopg_any import is_psycopg3

if is_psycopg3:
    import psycopg


def fetchone_prepared(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> tuple | None:
    """One row of ``sql`` through a server-side prepared statement on Django's connection
    (psycopg 3), with Django's health check, connection set-up and error translation."""
    if not is_psycopg3:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    # Django turns psycopg's automatic preparation off (prepare_threshold=None, unless set in
    # OPTIONS); these statements are prepared anyway: planning one costs PostgreSQL about as
    # much as executing it, or more. psycopg keeps the statement per connection.
    threshold, raw.prepare_threshold = raw.prepare_threshold, 0
    try:
        with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchone()
    finally:
        raw.prepare_threshold = threshold
