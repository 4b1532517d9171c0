"""The demo's clock: its six months of history are made by the real services, each step run
while the clock says the moment it happened.

Every service stamps its writes with ``django.utils.timezone.now()`` (the dossier's events, its
``submitted_at`` and ``due_on`` in working days, the KPI tallies' local day, the audit trail, the
e-ID applications, the payments). ``frozen(moment)`` makes that function answer ``moment`` for the
duration of the block — in this process only, and only while the demo seeds, before it serves
anything — so that a dossier submitted in July is due in July, decided late if its officer
decided after that, and counted on those days by the KPI receiver, exactly as if it had
happened then.

``run(stories, until=)``: a story is a generator that yields the moment of its next step, then
takes that step when it is resumed (under the frozen clock). The steps of all stories run in
the order of their moments, so the audit trail and the tallies are written in the order of
time; a step planned after ``until`` (the present) has not happened yet: its story stops there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import random
from collections.abc import Generator, Iterable, Iterator

from django.utils import timezone

from dancu.publicservices.workdays import add_working_days

Story = Generator[dt.datetime, None, None]
OPENS, CLOSES = dt.time(7, 30), dt.time(16, 30)  # a public office's hours


@contextlib.contextmanager
def frozen(moment: dt.datetime) -> Iterator[None]:
    """``timezone.now()`` (and so ``timezone.localdate()``) answers ``moment`` in the block."""
    if timezone.is_naive(moment):
        raise ValueError("the demo's clock needs an aware datetime")
    real, at = timezone.now, moment.astimezone(dt.UTC)
    timezone.now = lambda: at
    try:
        yield
    finally:
        timezone.now = real


def run(stories: Iterable[Story], *, until: dt.datetime) -> int:
    """Run the stories' steps in the order of their moments, each under ``frozen``; steps
    planned after ``until`` are not taken. Returns how many steps were taken."""
    queue: list[tuple[dt.datetime, int, Story]] = []
    for n, story in enumerate(stories):
        first = next(story, None)  # a story does nothing before its first moment
        if first is not None:
            heapq.heappush(queue, (first, n, story))
    taken = 0
    while queue:
        at, n, story = heapq.heappop(queue)
        if at > until:
            story.close()
            continue
        with frozen(at):
            following = next(story, None)
        taken += 1
        if following is not None:
            if following < at:
                raise ValueError(f"a story went back in time: {following} < {at}")
            heapq.heappush(queue, (following, n, story))
    return taken


# ---- Moments ----------------------------------------------------------------------------------


def local(day: dt.date, at: dt.time) -> dt.datetime:
    """``day`` at ``at``, Vietnam's time (settings.TIME_ZONE)."""
    return timezone.make_aware(dt.datetime.combine(day, at))


def office_moment(day: dt.date, rng: random.Random, *, after: dt.datetime | None = None) -> dt.datetime:
    """A moment in office hours of the first working day on or after ``day`` (holidays
    included, ``publicservices.workdays``), at least ten minutes after ``after``."""
    while True:
        day = add_working_days(day, 0)
        opens, closes = local(day, OPENS), local(day, CLOSES)
        if after is not None:
            opens = max(opens, after + dt.timedelta(minutes=10))
        if opens < closes:
            return opens + (closes - opens) * rng.random() ** 1.5  # mornings are busier
        day += dt.timedelta(days=1)


def waking_moment(day: dt.date, rng: random.Random) -> dt.datetime:
    """A moment of ``day`` between 6:30 and 23:00: when citizens use the portal."""
    return local(day, dt.time(6, 30)) + dt.timedelta(minutes=rng.uniform(0, 990))


def month_starts(today: dt.date, months: int) -> list[dt.date]:
    """The first days of the ``months`` months ending with today's, oldest first."""
    starts, day = [], today.replace(day=1)
    for _ in range(months):
        starts.append(day)
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return starts[::-1]
