"""The PostgreSQL connection health check (``dancu.core.postgresql``): no round trip for a
healthy connection, and a connection the server closed is replaced before a request uses it."""

from __future__ import annotations

import select
import time

import pytest
from django.db import connection, connections

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as served


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the health check is PostgreSQL's (SQLite has no server connection to lose)")


def _terminate_own_backend() -> None:
    """PostgreSQL closes this connection (as a restart would), seen from another connection."""
    pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _ in range(100):  # terminating is asynchronous: wait until the backend is gone
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.02)
    finally:
        other.close()
    sock = connection.connection.fileno()
    assert select.select([sock], [], [], 2)[0], "the server's notice did not arrive"


def test_settings_select_the_backend_with_health_checks() -> None:
    from dancu.core.postgresql.base import DatabaseWrapper

    assert isinstance(connections["default"], DatabaseWrapper)
    assert connections["default"].settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_healthy_connection_is_checked_without_a_statement(monkeypatch) -> None:
    connection.ensure_connection()
    raw = connection.connection

    def no_statement(*args, **kwargs):
        raise AssertionError("the health check sent a statement")

    monkeypatch.setattr(type(raw), "cursor", no_statement)
    monkeypatch.setattr(type(raw), "execute", no_statement)
    assert connection.is_usable() is True


def test_a_connection_the_server_closed_is_found_unusable() -> None:
    connection.ensure_connection()
    _terminate_own_backend()
    try:
        assert connection.is_usable() is False
    finally:
        connection.close()


def test_data_waiting_on_a_healthy_connection_is_settled_by_asking_the_server() -> None:
    """A notification waiting on the socket is not an end: SELECT 1 decides, and it answers."""
    connection.ensure_connection()
    raw = connection.connection
    raw.execute("LISTEN dancu_health")
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("NOTIFY dancu_health, 'x'")
    finally:
        other.close()
    assert select.select([raw.fileno()], [], [], 2)[0], "the notification did not arrive"
    assert connection.is_usable() is True
    raw.execute("UNLISTEN *")


def test_a_failed_transaction_is_not_usable() -> None:
    connection.ensure_connection()
    raw = connection.connection
    raw.execute("BEGIN")
    with pytest.raises(Exception, match="division by zero"):
        raw.execute("SELECT 1 / 0")
    try:
        assert connection.is_usable() is False
    finally:
        raw.rollback()
    assert connection.is_usable() is True


def test_a_descriptor_above_1024_is_checked_too(monkeypatch) -> None:
    """A busy worker can hold more than 1024 descriptors (select() refuses those; poll() not)."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip("the descriptor limit is below 2048")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048), hard))
    connection.ensure_connection()
    raw = connection.connection
    high = os.dup2(raw.fileno(), 2000)  # the same socket under a descriptor select() cannot take
    try:
        monkeypatch.setattr(type(raw), "fileno", lambda self: high)
        assert connection.is_usable() is True
    finally:
        os.close(high)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _served(path: str) -> int:
    """A request through Django's WSGI handler as a server runs it (request_started and
    request_finished manage the connection; Django's test client turns that off)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    status: list[str] = []
    body = WSGIHandler()(RequestFactory().get(path).environ, lambda s, h, e=None: status.append(s))
    b"".join(body)
    body.close()
    return int(status[0].split()[0])


def test_a_request_after_the_server_closed_the_connection_gets_a_new_one() -> None:
    """Between requests PostgreSQL drops the worker's persistent connection (a restart): the next
    request does not fail — the health check replaces the connection before its first statement."""
    assert _served("/api/v1/health") == 200
    old_pid = connection.connection.info.backend_pid
    _terminate_own_backend()
    assert _served("/api/v1/health") == 200
    assert connection.connection.info.backend_pid != old_pid
