"""The small threaded HTTP server of the stand-in processes (the sandbox payment gateway, the
agencies' stand-ins): the standard library's WSGI server, one thread per connection."""

from __future__ import annotations

from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the base class's parameter name
        pass


def make(app: Callable[..., Any], host: str, port: int, *, quiet: bool = False) -> WSGIServer:
    return make_server(host, port, app, server_class=_ThreadingServer,
                       handler_class=_QuietHandler if quiet else WSGIRequestHandler)
