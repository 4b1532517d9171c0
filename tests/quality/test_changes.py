"""Every kind of registry write that can move a data-quality count marks the provinces concerned,
so the 15-minute refresh (the real task path: the periodic job, then its tasks) recounts them
the same day — not only the province of the row written (docs/data-quality.md, "What marks a
province"). Each test makes the change through the owning service, checks that exactly the
provinces concerned are due (the tallies are today's: not the daily recount), runs the refresh,
and asserts the report's figures of both provinces moved and ``dancu quality check`` agrees."""

from __future__ import annotations

import copy
import datetime as dt
import io
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.utils import timezone

from dancu.core.errors import DomainError
from dancu.core.worker import run_until_idle
from dancu.population import services as population
from dancu.population.bulk import import_file
from dancu.quality import selectors, services
from dancu.quality.models import Change
from dancu.quality.selectors.changes import provinces_touched
from dancu.residence import services as residence
from dancu.residence.models import Registration
from tests.population.test_import_export import person, pid, resident, write_csv
from tests.quality.test_quality import TODAY, _citizen, _resident


@pytest.fixture
def refresh() -> Iterator:
    """Run the refresh job as the worker does, once per call (each call is a later quarter)."""
    runs = iter(range(1, 100))

    def run() -> None:
        at = timezone.now() + dt.timedelta(minutes=16 * next(runs))
        assert run_until_idle(periodic=["quality.refresh"], now=at) >= 1

    yield run


def _temporary(actor, who, commune, started_on, expires_on):
    return residence.register_temporary(
        actor,
        who.personal_id,
        commune=commune,
        address="1 Lý Bôn",
        started_on=started_on,
        expires_on=expires_on,
        reason="tạm trú",
    )


def _permanent(actor, who, commune, **household):
    return residence.register_permanent(
        actor,
        who.personal_id,
        commune=commune,
        address="9 Hàng Gai",
        started_on=TODAY,
        reason="nhập hộ",
        **household,
    )


def _baseline() -> None:
    services.recompute_all()
    assert services.due_provinces() == []
    assert not Change.objects.exists()


def _figures(actor, *units) -> list:
    return [selectors.tallies(actor, u) for u in units]


def _check_agrees() -> None:
    out = io.StringIO()
    call_command("quality", "check", stdout=out)  # exits 1 on any difference
    assert "agree" in out.getvalue()


@pytest.mark.parametrize("how", ["permanent", "temporary", "expiry"])
def test_a_move_recounts_the_province_left_as_well_as_the_one_reached(
    geo, ministry_admin, refresh, how
) -> None:
    actor = ministry_admin
    mover = _resident(actor, geo.hac_thanh, "Đinh Văn Chuyển", "1980-04-04", sex="M")
    _citizen(actor, geo.hong_ha, "Mai Thị Ở", "1985-01-01")
    if how == "expiry":  # living in Hà Nội until tomorrow, then back to Thanh Hóa
        _temporary(actor, mover, geo.hong_ha, TODAY - dt.timedelta(days=40), TODAY + dt.timedelta(days=1))
    _baseline()
    th, hn = _figures(actor, geo.thanh_hoa, geo.ha_noi)
    if how == "permanent":
        _permanent(actor, mover, geo.hong_ha)
    elif how == "temporary":  # the permanent residence in Thanh Hóa is not touched
        _temporary(actor, mover, geo.hong_ha, TODAY, TODAY + dt.timedelta(days=200))
    else:
        assert residence.apply_expiries(TODAY + dt.timedelta(days=2)) == 1
    assert set(services.due_provinces()) == {geo.thanh_hoa.pk, geo.ha_noi.pk}
    refresh()
    th2, hn2 = _figures(actor, geo.thanh_hoa, geo.ha_noi)
    step = -1 if how != "expiry" else 1
    assert (th2.total, hn2.total) == (th.total + step, hn.total - step)
    assert th2.computed_at > th.computed_at and hn2.computed_at > hn.computed_at
    assert services.due_provinces() == []
    _check_agrees()


def test_a_duplicate_across_provinces_is_counted_in_both_when_it_appears_and_goes(
    geo, ministry_admin, refresh
) -> None:
    actor = ministry_admin
    _citizen(actor, geo.hac_thanh, "Lý Thị Song", "1992-03-04")
    _baseline()
    th, hn = _figures(actor, geo.thanh_hoa, geo.ha_noi)
    twin = _citizen(actor, geo.hong_ha, "Lý Thị Song", "1992-03-04")  # a second record, Hà Nội
    assert set(services.due_provinces()) == {geo.thanh_hoa.pk, geo.ha_noi.pk}
    refresh()
    th2, hn2 = _figures(actor, geo.thanh_hoa, geo.ha_noi)
    assert (th2.counts["Q_DUPLICATE"], hn2.counts["Q_DUPLICATE"]) == (
        th.counts["Q_DUPLICATE"] + 1,
        hn.counts["Q_DUPLICATE"] + 1,
    )
    _check_agrees()
    # The name corrected in Hà Nội: the Thanh Hóa record is no longer a duplicate either.
    population.correct_citizen(actor, twin.personal_id, {"full_name": "Lý Thị Sương"}, reason="sửa tên")
    assert set(services.due_provinces()) == {geo.thanh_hoa.pk, geo.ha_noi.pk}
    refresh()
    th3, hn3 = _figures(actor, geo.thanh_hoa, geo.ha_noi)
    assert (th3.counts["Q_DUPLICATE"], hn3.counts["Q_DUPLICATE"]) == (
        th.counts["Q_DUPLICATE"],
        hn.counts["Q_DUPLICATE"],
    )
    _check_agrees()


def test_ending_an_expired_temporary_residence_recounts_where_it_was_registered(
    geo, ministry_admin, refresh
) -> None:
    """The person lives in Hà Nội (the expired stay no longer counts as their place): ending it
    changes no citizen row's place, only the registration in Thanh Hóa."""
    actor = ministry_admin
    person_ = _resident(actor, geo.hong_ha, "Tạ Văn Hết", "1975-09-09", sex="M")
    stay = _temporary(
        actor, person_, geo.dong_son, TODAY - dt.timedelta(days=60), TODAY - dt.timedelta(days=1)
    )
    _baseline()
    th, hn = _figures(actor, geo.thanh_hoa, geo.ha_noi)
    assert th.counts["Q_TEMP_EXPIRED"] == 1
    residence.end_registration(actor, stay.pk, ended_on=TODAY, reason="xóa tạm trú hết hạn")
    assert services.due_provinces() == [geo.thanh_hoa.pk]
    refresh()
    th2, hn2 = _figures(actor, geo.thanh_hoa, geo.ha_noi)
    assert th2.counts["Q_TEMP_EXPIRED"] == 0
    assert hn2.total == hn.total and hn2.computed_at == hn.computed_at  # nothing moved there
    _check_agrees()


def test_a_heads_death_and_a_new_head_recount_the_households_province(geo, ministry_admin, refresh) -> None:
    """The head of a household of Thanh Hóa lives in Hà Nội for now: their death moves
    ``Q_DECEASED_HEAD`` in Thanh Hóa and the living in Hà Nội; naming a new head (a write of the
    household alone) moves it back."""
    actor = ministry_admin
    head = _resident(actor, geo.hac_thanh, "Hồ Văn Chủ", "1950-02-02", sex="M")
    number = Registration.objects.get(citizen=head, kind="permanent").household.number
    son = _citizen(actor, geo.hac_thanh, "Hồ Văn Con", "1980-02-02", sex="M")
    _permanent(actor, son, geo.hac_thanh, household_number=number, relationship="child")
    _temporary(actor, head, geo.hong_ha, TODAY, TODAY + dt.timedelta(days=300))
    _baseline()
    th, hn = _figures(actor, geo.thanh_hoa, geo.ha_noi)
    population.correct_citizen(
        actor,
        head.personal_id,
        {"life_status": "deceased", "death_date": TODAY.isoformat()},
        reason="khai tử",
    )
    assert set(services.due_provinces()) == {geo.thanh_hoa.pk, geo.ha_noi.pk}
    refresh()
    th2, hn2 = _figures(actor, geo.thanh_hoa, geo.ha_noi)
    assert th2.counts["Q_DECEASED_HEAD"] == th.counts["Q_DECEASED_HEAD"] + 1
    assert hn2.not_deceased == hn.not_deceased - 1
    _check_agrees()
    residence.change_household_head(actor, number, son.personal_id, reason="đổi chủ hộ", on=TODAY)
    assert services.due_provinces() == [geo.thanh_hoa.pk]
    refresh()
    assert selectors.tallies(actor, geo.thanh_hoa).counts["Q_DECEASED_HEAD"] == th.counts["Q_DECEASED_HEAD"]
    _check_agrees()


def test_a_parents_birth_year_would_mark_the_childs_province(geo, ministry_admin) -> None:
    """No service changes a birth year today (the ID number encodes it: ``correct_citizen``
    refuses, and refuses any correction of a malformed legacy number), so this is checked on
    the rule itself: the parent's children are counted against it, wherever they live."""
    actor = ministry_admin
    mother = _citizen(actor, geo.hac_thanh, "Kiều Thị Mẹ", "1965-06-06")
    _citizen(actor, geo.hong_ha, "Kiều Thị Con", "1990-06-06", mother_id=mother.personal_id)
    with pytest.raises(DomainError, match="E_ID_NUMBER_BIRTH_YEAR"):
        population.correct_citizen(actor, mother.personal_id, {"birth_date": "1985-06-06"}, reason="sửa")
    older = copy.copy(mother)
    older.birth_year = 1985
    assert provinces_touched(mother, older) == {geo.thanh_hoa.pk, geo.ha_noi.pk}
    later = copy.copy(mother)
    later.birth_month = 7  # the month alone: her own province (no one shares her key)
    assert provinces_touched(mother, later) == {geo.thanh_hoa.pk}


def test_an_import_recounts_every_province(geo, ministry_admin, refresh, tmp_path) -> None:
    """A bulk import writes rows no service announces one by one: each chunk marks every province
    (its records may duplicate, or be the parents of, anyone's)."""
    actor = ministry_admin
    _citizen(actor, geo.hong_ha, "Lý Thị Song", "1992-03-04")
    _baseline()
    th, hn = _figures(actor, geo.thanh_hoa, geo.ha_noi)
    write_csv(
        tmp_path / "in.csv",
        [person(pid(1992, "F", 77), "Lý Thị Song", "1992-03-04", "F", **resident("H-9", "head"))],
    )
    assert import_file(tmp_path / "in.csv", progress=False).created == 1
    assert set(services.due_provinces()) == {*selectors.provinces(), selectors.UNPLACED}
    refresh()
    th2, hn2 = _figures(actor, geo.thanh_hoa, geo.ha_noi)
    assert (th2.total, th2.counts["Q_DUPLICATE"]) == (th.total + 1, th.counts["Q_DUPLICATE"] + 1)
    assert hn2.counts["Q_DUPLICATE"] == hn.counts["Q_DUPLICATE"] + 1
    _check_agrees()


def test_a_change_committed_during_a_recount_keeps_its_mark(geo, ministry_admin, monkeypatch) -> None:
    """A recount consumes only the marks it read before its scan: a change that lands while it
    scans is recounted by the next run, not lost."""
    actor = ministry_admin
    _citizen(actor, geo.hac_thanh, "Lò Văn Một", "1990-01-01", sex="M")
    real_scan = services.scan

    def scan_while_someone_writes(province_id, today):
        counts = real_scan(province_id, today)
        _citizen(actor, geo.dong_son, "Lò Văn Hai", "1991-01-01", sex="M")  # after the scan read
        return counts

    monkeypatch.setattr(services, "scan", scan_while_someone_writes)
    services.recompute(geo.thanh_hoa.pk)
    monkeypatch.undo()
    assert Change.objects.filter(province=geo.thanh_hoa).count() == 1
    assert geo.thanh_hoa.pk in services.due_provinces()
    services.recompute(geo.thanh_hoa.pk)
    assert not Change.objects.filter(province=geo.thanh_hoa).exists()
    assert list(selectors.differences([geo.thanh_hoa.pk])) == []
