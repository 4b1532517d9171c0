"""A task's status, computed (no database): done, regular, late or in progress."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DONE, REGULAR, LATE, IN_PROGRESS = "done", "regular", "late", "in_progress"
ORDER = (LATE, IN_PROGRESS, REGULAR, DONE)


@dataclass(frozen=True)
class TaskStatus:
    code: str
    late: bool           # flagged: the deadline passed and the task is not done
    done_late: bool      # done, but after its deadline
    by_target: bool      # done because its target figure is met (not marked)


def compute(*, done_at: dt.datetime | None, target_met: bool, recurring: bool,
            deadline: dt.date | None, today: dt.date, done_on: dt.date | None = None) -> TaskStatus:
    """Done when marked done (with evidence) or when its target figure is met; otherwise late when
    its deadline has passed (recurring or not); otherwise regular when recurring; otherwise in
    progress."""
    if done_at is not None or target_met:
        finished = done_on if done_at is not None else None
        return TaskStatus(DONE, False, bool(deadline and finished and finished > deadline),
                          done_at is None)
    if deadline is not None and deadline < today:
        return TaskStatus(LATE, True, False, False)
    return TaskStatus(REGULAR if recurring else IN_PROGRESS, False, False, False)
