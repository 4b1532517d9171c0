"""Django's PostgreSQL backend, except for the connection health check.

With ``CONN_HEALTH_CHECKS`` Django asks PostgreSQL ``SELECT 1`` at the start of every request that
reuses a connection: a round trip, and a statement for the server, per request (0.4 ms of CPU a
login under load on the benchmark machine, with the server's side of it). A persistent connection
that PostgreSQL has closed while it sat idle — a restart, ``pg_terminate_backend``, an idle
timeout, a crashed server process — has the server's termination notice or the end of the stream
waiting on its socket. So the socket is polled instead (no wait, no I/O): nothing to read means
usable; anything to read (a notice, a notification, TLS records, or the end) means Django's own
``SELECT 1`` decides, as it does for a connection inside a transaction. A connection cut without
a word (a dead network path) looks usable to both checks until a statement fails; Django then
closes it at the end of that request, as before.

Selected by ``settings._database()`` for ``postgresql://`` URLs (``ENGINE =
"dancu.core.postgresql"``); everything else is Django's backend.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base

_IDLE = 0  # libpq's PQTRANS_IDLE: no transaction open (psycopg 3 and psycopg2 alike)
_EVENTS = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed or getattr(conn, "broken", False):
            return False
        if getattr(getattr(conn, "info", None), "transaction_status", _IDLE) != _IDLE:
            return super().is_usable()  # inside a transaction (or a failed one): ask the server
        try:
            poller = select.poll()  # not select(): no limit on the descriptor's number
            poller.register(conn.fileno(), _EVENTS)
            waiting = poller.poll(0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return not waiting or super().is_usable()
