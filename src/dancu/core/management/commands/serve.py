"""``dancu serve``: the console and the API under granian (a Rust HTTP server, WSGI).

One worker process per CPU by default, each running the WSGI application on a few threads:
Python's lock lets one thread of a process run at a time, so a process per CPU uses every CPU,
and the threads overlap one request's waits (PostgreSQL, the SMS gateway) with another's work.
The password hashes run on one thread per process (``dancu.eid.passwords``), so no more hashes
run at once than there are CPUs. A worker that dies is started again (granian stops the server
if workers keep dying); SIGHUP restarts the workers one after the other. The workers are forked
from this process, which has loaded the code: a new release needs the service restarted.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from dancu.core.language import command_language


def bind_arguments(bind: str) -> dict[str, Any]:
    """``HOST:PORT`` (``[::1]:8000``; a host name is resolved now) or ``unix:/path`` → granian's
    address arguments; a ``CommandError`` naming ``--bind`` otherwise."""
    if bind.startswith("unix:"):
        if not bind[5:]:
            raise CommandError(_("--bind %(bind)r: cần dạng unix:/path/to/socket") % {"bind": bind})
        return {"uds": Path(bind[5:])}
    host, sep, port = bind.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(_("--bind %(bind)r: cần dạng HOST:PORT, ví dụ 127.0.0.1:8000") % {"bind": bind})
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            host = str(socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)[0][4][0])
        except OSError:
            raise CommandError(_("--bind %(bind)r: không phân giải được máy %(host)r")
                               % {"bind": bind, "host": host}) from None
    return {"address": host, "port": int(port)}


def ensure_free(bind: str) -> None:
    """Refuse an address another server already listens on. granian binds with SO_REUSEPORT, so
    a second server on a taken port would start, say it listens, and share the port with the
    first; a socket bound here without SO_REUSEPORT fails instead (SO_REUSEADDR only lets a
    port in TIME_WAIT be taken again, not a listening one)."""
    where = bind_arguments(bind)
    if "uds" in where:
        path = where["uds"]
        if path.exists():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(str(path))
                except OSError:
                    return  # a stale socket file: granian replaces it
            raise CommandError(_("--bind %(bind)s: một máy chủ khác đang nghe ở socket này.")
                               % {"bind": bind})
        return
    family = socket.AF_INET6 if ":" in where["address"] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((where["address"], where["port"]))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise CommandError(f"--bind {bind}: {exc.strerror}") from None
            raise CommandError(
                _("--bind %(bind)s: cổng %(port)s đang được dùng (một dancu serve khác?). "
                  "Chọn cổng khác, ví dụ --bind %(host)s:%(other)s.")
                % {"bind": bind, "port": where["port"], "host": where["address"],
                   "other": where["port"] + 1}) from None


def without_debug() -> None:
    """``DEBUG`` off in this process and in the workers it starts (forked or spawned)."""
    from django.conf import settings

    os.environ["DANCU_DEBUG"] = "0"
    settings.DEBUG = False


def run_server(bind: str, workers: int, threads: int, access_log: bool = False) -> None:
    from django.db import connections
    from granian import Granian
    from granian.constants import Interfaces

    where = bind_arguments(bind)
    without_debug()
    # The workers are forked from this process: none may inherit a database connection.
    connections.close_all()
    Granian(
        "dancu.wsgi:application", interface=Interfaces.WSGI, **where,
        workers=workers, blocking_threads=threads, respawn_failed_workers=True,
        workers_kill_timeout=30, log_access=access_log, websockets=False,
    ).serve()


def default_workers() -> str:
    """``DANCU_WORKERS`` or one per CPU (a string: argparse checks it like a typed value)."""
    return os.environ.get("DANCU_WORKERS") or str(os.cpu_count() or 1)


class Command(BaseCommand):
    help = "Serve the officer console and the JSON API with granian (messages: DANCU_LANGUAGE)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("DANCU_BIND", "127.0.0.1:8000"),
                            help="HOST:PORT or unix:/path (default 127.0.0.1:8000, or DANCU_BIND)")
        parser.add_argument("--workers", type=int, default=default_workers(),
                            help="worker processes (default: one per CPU, or DANCU_WORKERS)")
        parser.add_argument("--threads", type=int, default=os.environ.get("DANCU_THREADS") or "4",
                            help="request threads per worker (default 4, or DANCU_THREADS)")
        parser.add_argument("--access-log", action="store_true", help="log every request")

    def handle(self, *args: Any, **opts: Any) -> None:
        with translation.override(command_language()):
            for name in ("workers", "threads"):
                if opts[name] < 1:
                    raise CommandError(_("--%(name)s %(value)s: ít nhất là 1")
                                       % {"name": name, "value": opts[name]})
            ensure_free(opts["bind"])
            self.stdout.write(_("dancu: phục vụ tại %(bind)s (%(workers)s tiến trình × %(threads)s luồng)")
                              % {"bind": opts["bind"], "workers": opts["workers"],
                                 "threads": opts["threads"]})
            self._warn_without_worker()
        run_server(opts["bind"], opts["workers"], opts["threads"], opts["access_log"])

    def _warn_without_worker(self) -> None:
        """Background tasks and periodic jobs need ``dancu worker`` (docs/tasks.md): say so if
        none has beaten lately. Never stops the start (a worker may be starting beside us)."""
        from django.db import DatabaseError

        from dancu.core.worker import workers_seen

        try:
            seen = workers_seen()
        except DatabaseError:  # not migrated yet: migrate says so
            return
        if not seen:
            self.stderr.write(_("Cảnh báo: không thấy tiến trình dancu worker nào gần đây: tác vụ nền "
                                "và việc định kỳ (hết hạn tạm trú…) sẽ không chạy. Hãy chạy "
                                "dancu worker bên cạnh máy chủ."))
