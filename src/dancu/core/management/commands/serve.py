"""``dancu serve``: the console and the API under gunicorn (production-grade WSGI server)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def run_gunicorn(bind: str, workers: int, threads: int, timeout: int = 60,
                 access_log: bool = False) -> None:
    from gunicorn.app.base import BaseApplication

    from dancu.wsgi import application

    class _App(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("timeout", timeout)
            self.cfg.set("worker_class", "gthread" if threads > 1 else "sync")
            if access_log:
                self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            return application

    _App().run()


class Command(BaseCommand):
    help = "Serve the officer console and the JSON API with gunicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("DANCU_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("DANCU_WORKERS", str((os.cpu_count() or 1) * 2))))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("DANCU_THREADS", "1")))
        parser.add_argument("--timeout", type=int, default=60)
        parser.add_argument("--access-log", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stdout.write(f"dancu: serving on http://{opts['bind']}/ "
                          f"({opts['workers']} workers × {opts['threads']} threads)")
        run_gunicorn(opts["bind"], opts["workers"], opts["threads"], opts["timeout"], opts["access_log"])
