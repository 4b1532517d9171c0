"""PostgreSQL helpers for the few hot paths that write one hand-written statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.backends.postgresql.psycopg_any import is_psycopg3


def fetchone_prepared(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> tuple | None:
    """One row of ``sql`` through a server-side prepared statement, on Django's connection and
    through Django's cursor wrapper: its health check and connection set-up, error translation,
    ``connection.execute_wrapper`` hooks (tracing) and query logging (``assertNumQueries``,
    ``CaptureQueriesContext``, ``django.db.backends`` at DEBUG) see the statement like any other.

    Django's psycopg 3 cursor binds on the client side, which never prepares, and Django turns
    psycopg's automatic preparation off (``prepare_threshold=None``, unless set in OPTIONS); these
    statements are prepared anyway: planning one costs PostgreSQL about as much as executing it,
    or more. So the cursor inside Django's wrapper is Django's own server-binding cursor class, and
    the connection prepares on first use while it runs (psycopg keeps the statement per
    connection)."""
    if not is_psycopg3:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    connection.close_if_health_check_failed()  # done once per request; cursor() then skips it
    connection.ensure_connection()
    raw = connection.connection
    saved = raw.cursor_factory, raw.prepare_threshold
    # Django's cursor() makes its cursor with the connection's factory (and its time zone set-up)
    raw.cursor_factory, raw.prepare_threshold = _preparing_cursor(), 0  # 0: prepared the first time
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    finally:
        raw.cursor_factory, raw.prepare_threshold = saved


_cursor_class: type | None = None


def _preparing_cursor() -> type:
    """Django's server-binding cursor class, which also notes a prepared statement's query as
    psycopg notes an unprepared one (``_query``): Django's query log reads it from there
    (``last_executed_query``), the text with its ``$n`` placeholders."""
    global _cursor_class
    if _cursor_class is None:
        from django.db.backends.postgresql.base import ServerBindingCursor

        class PreparingCursor(ServerBindingCursor):
            def _send_query_prepared(self, name: bytes, pgq: Any, *, binary: bool | None = None) -> None:
                self._query = pgq
                super()._send_query_prepared(name, pgq, binary=binary)  # type: ignore[misc]  # psycopg's private method, absent from its stubs

        _cursor_class = PreparingCursor
    return _cursor_class
