"""The demo's child processes — the worker, the sandbox payment gateway, the social-insurance
agency's stand-in — started beside the server and stopped together.

``Children`` is a context manager: ``start(*argv)`` runs ``dancu *argv`` in a child process;
leaving the block (the server stopped, Ctrl+C, or SIGTERM to the demo) sends SIGTERM to every
child still running **at once**, waits for them together up to ``grace`` seconds (the worker
finishes its current task), then kills those left. Stopping them one after the other, each
with its own wait, made a SIGTERM to the demo take as long as the sum of their waits.

``terminated_as_exit()``: until the server installs its own handlers (granian stops gracefully
on SIGTERM and returns, and the block ends), a SIGTERM to the demo raises ``SystemExit``, so the
block still ends and stops the children; with Python's default action the demo would die at
once and leave them to Linux's parent-death signal alone.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from types import FrameType, TracebackType

from dancu.core.worker import _die_with_parent

GRACE_SECONDS = 10.0


class Children:
    def __init__(self, grace: float = GRACE_SECONDS) -> None:
        self.grace = grace
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *argv: str) -> subprocess.Popen[bytes]:
        """``dancu *argv`` in a child process."""
        return self.run([sys.executable, "-m", "dancu.cli", *argv])

    def run(self, command: list[str]) -> subprocess.Popen[bytes]:
        """``command`` in a child process (on Linux it gets SIGTERM if this process dies)."""
        child = subprocess.Popen(command, preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        self.processes.append(child)
        return child

    def stop(self) -> None:
        """SIGTERM to every child at once; those still running after ``grace`` seconds are killed."""
        running = [child for child in self.processes if child.poll() is None]
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for child in running:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.01))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def __enter__(self) -> Children:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


@contextlib.contextmanager
def terminated_as_exit() -> Iterator[None]:
    """SIGTERM raises ``SystemExit(143)`` in the block (until another handler replaces ours)."""

    def exit_on_term(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
