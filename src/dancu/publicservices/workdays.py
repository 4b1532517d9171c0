"""Vietnamese working days: the deadlines of administrative procedures.

A time limit "in working days" skips Saturdays, Sundays and public holidays (Labour Code
Art. 112: New Year, Tết, Hùng Kings, 30 April, 1 May, National Day…; with the substitute days
the government announces). The holidays come from the maintained ``holidays`` library
(``holidays.VN``), never from a list of our own; a year's list is built once per process.

The day of receipt is not counted: a dossier received on a working day with a limit of one
working day is due the next working day.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays_of(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _holidays_of(day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself not counted). With 0, the
    first working day on or after ``start``."""
    if days < 0:
        raise ValueError("days must be >= 0")
    day = start
    if days == 0:
        while not is_working_day(day):
            day += dt.timedelta(days=1)
        return day
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 if end <= start):
    ``working_days_between(d, add_working_days(d, n)) == n``."""
    if end <= start:
        return 0
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
