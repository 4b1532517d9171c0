"""The demo's clock (``dancu.demo.clock``): the services' ``timezone.now()`` answers the story's
moment, the steps of all stories run in the order of time, none after the present."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dancu.demo import clock
from dancu.publicservices.workdays import is_working_day


def test_frozen_moves_now_and_the_local_day_then_gives_the_present_back() -> None:
    moment = clock.local(dt.date(2026, 7, 1), dt.time(23, 30))  # 16:30 UTC: the local day counts
    with clock.frozen(moment):
        assert timezone.now() == moment and timezone.localdate() == dt.date(2026, 7, 1)
    assert abs(timezone.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    with pytest.raises(ValueError, match="aware"):
        clock.frozen(dt.datetime(2026, 7, 1)).__enter__()  # a naive moment is refused


def test_the_steps_of_all_stories_run_in_the_order_of_time_and_none_after_until() -> None:
    day = dt.date(2026, 7, 6)
    seen: list[tuple[str, dt.datetime]] = []

    def story(name: str, hours: list[int]) -> clock.Story:
        for hour in hours:
            yield clock.local(day, dt.time(hour))
            seen.append((name, timezone.now()))

    until = clock.local(day, dt.time(15))
    taken = clock.run([story("a", [9, 12, 16]), story("b", [8, 10, 14, 15])], until=until)
    assert [(name, timezone.localtime(at).hour) for name, at in seen] == [
        ("b", 8),
        ("a", 9),
        ("b", 10),
        ("a", 12),
        ("b", 14),
        ("b", 15),
    ]  # a's 16:00 has not happened
    assert taken == 6

    def backwards() -> clock.Story:
        yield clock.local(day, dt.time(10))
        yield clock.local(day, dt.time(9))

    with pytest.raises(ValueError, match="back in time"):
        clock.run([backwards()], until=until)


def test_office_moments_fall_in_office_hours_of_working_days() -> None:
    import random

    rng = random.Random(1)
    new_year = dt.date(2026, 1, 1)  # a public holiday: the next working day
    for _ in range(50):
        moment = timezone.localtime(clock.office_moment(new_year, rng))
        assert is_working_day(moment.date()) and moment.date() > new_year
        assert clock.OPENS <= moment.time() <= clock.CLOSES
    late = clock.local(dt.date(2026, 7, 6), dt.time(16, 25))  # a Monday, five minutes before closing
    assert timezone.localdate(clock.office_moment(late.date(), rng, after=late)) == dt.date(2026, 7, 7)
    assert clock.month_starts(dt.date(2026, 2, 15), 3) == [
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
    ]
