"""The progress bar of long CLI runs (generate, import)."""

from __future__ import annotations

from typing import Any, TextIO


def progress_bar(enabled: bool, stdout: TextIO | None) -> Any:
    """A started rich Progress (the caller adds tasks and stops it), or None when disabled."""
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), console=Console(file=stdout) if stdout else None, transient=True)
    bar.start()
    return bar
