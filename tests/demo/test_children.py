"""The demo's child processes are stopped together and promptly (``dancu.demo.children``): real
subprocesses, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from dancu.demo.children import Children

SRC = str(Path(__file__).resolve().parents[2] / "src")

# A child that takes ``delay`` seconds to stop after SIGTERM (as the worker finishes its task), or
# ignores SIGTERM altogether (delay < 0); it says it is ready by creating ``ready``.
CHILD = """
import signal, sys, time, pathlib
delay = float(sys.argv[1])
def stop(signum, frame):
    time.sleep(delay)
    sys.exit(0)
signal.signal(signal.SIGTERM, signal.SIG_IGN if delay < 0 else stop)
pathlib.Path(sys.argv[2]).touch()
while True:
    time.sleep(0.05)
"""


def _child(children: Children, tmp_path: Path, delay: float, name: str) -> subprocess.Popen[bytes]:
    ready = tmp_path / name
    child = children.run([sys.executable, "-c", CHILD, str(delay), str(ready)])
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert child.poll() is None and time.monotonic() < deadline, "the child did not start"
        time.sleep(0.05)
    return child


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] == "Z"  # a zombie: exited, not yet reaped
    except FileNotFoundError:
        return True


def test_the_children_are_stopped_at_once_not_one_after_the_other(tmp_path: Path) -> None:
    children = Children(grace=10)
    slow = [_child(children, tmp_path, 1.5, f"ready-{i}") for i in range(3)]
    started = time.monotonic()
    children.stop()
    took = time.monotonic() - started
    assert all(child.returncode == 0 for child in slow)  # each stopped on its own, in 1.5 s
    assert took < 3.5, f"{took:.1f} s: three children of 1.5 s each were stopped one after the other"


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    with Children(grace=1) as children:
        stubborn = _child(children, tmp_path, -1, "ready")
        polite = _child(children, tmp_path, 0, "ready-2")
        started = time.monotonic()
    took = time.monotonic() - started
    assert stubborn.returncode == -signal.SIGKILL and polite.returncode == 0
    assert 0.9 < took < 5, took


def test_sigterm_to_the_demo_process_stops_its_children(tmp_path: Path) -> None:
    """A process that supervises children as ``dancu demo`` does (``terminated_as_exit`` around
    ``Children``) gets SIGTERM: it ends, and its children with it, within seconds."""
    parent = textwrap.dedent(f"""
        import sys, time, pathlib, django
        django.setup()
        from dancu.demo.children import Children, terminated_as_exit
        with terminated_as_exit(), Children(grace=5) as children:
            for i in range(3):
                child = children.run([sys.executable, "-c", {CHILD!r}, "0.5", "{tmp_path}/ready-%d" % i])
                pathlib.Path("{tmp_path}/child-%d" % i).write_text(str(child.pid))
            while True:
                time.sleep(0.05)
    """)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": "dancu.settings",
        "DANCU_DATA_DIR": str(tmp_path),
    }
    demo = subprocess.Popen([sys.executable, "-c", parent], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"ready-{i}").exists() for i in range(3)):
            assert demo.poll() is None and time.monotonic() < deadline, "the children did not start"
            time.sleep(0.05)
        pids = [int((tmp_path / f"child-{i}").read_text()) for i in range(3)]
        started = time.monotonic()
        demo.send_signal(signal.SIGTERM)  # to the demo alone, not its process group (not Ctrl+C)
        _out, err = demo.communicate(timeout=30)
        took = time.monotonic() - started
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()
    assert demo.returncode == 128 + signal.SIGTERM, err
    assert all(_gone(pid) for pid in pids)
    assert took < 4, f"{took:.1f} s"
