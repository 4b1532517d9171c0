"""A task's computed status (no database)."""

from __future__ import annotations

import datetime as dt

from dancu.workgroups.status import compute

TODAY = dt.date(2026, 11, 20)
DONE_AT = dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)


def test_marked_done_is_done_and_not_late_even_past_its_deadline():
    s = compute(done_at=DONE_AT, target_met=False, recurring=False, deadline=dt.date(2026, 11, 10),
                today=TODAY, done_on=dt.date(2026, 11, 18))
    assert (s.code, s.late, s.done_late, s.by_target) == ("done", False, True, False)


def test_a_met_target_makes_it_done():
    s = compute(done_at=None, target_met=True, recurring=False, deadline=dt.date(2026, 11, 10), today=TODAY)
    assert (s.code, s.late, s.by_target) == ("done", False, True)


def test_past_its_deadline_and_not_done_is_late_and_flagged_recurring_or_not():
    for recurring in (False, True):
        s = compute(done_at=None, target_met=False, recurring=recurring, deadline=dt.date(2026, 11, 19),
                    today=TODAY)
        assert (s.code, s.late) == ("late", True)


def test_the_deadline_day_itself_is_not_late():
    s = compute(done_at=None, target_met=False, recurring=False, deadline=TODAY, today=TODAY)
    assert (s.code, s.late) == ("in_progress", False)


def test_recurring_without_deadline_is_regular_otherwise_in_progress():
    def code(recurring: bool) -> str:
        return compute(done_at=None, target_met=False, recurring=recurring, deadline=None, today=TODAY).code

    assert code(True) == "regular"
    assert code(False) == "in_progress"
