"""The data-quality tallies: recounted by the task queue, read by the report and by other
contexts (``selectors.tallies``), checked against a live count (``dancu quality check``)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dancu.audit.models import AuditEvent
from dancu.core.errors import OutOfJurisdiction
from dancu.core.worker import run_until_idle
from dancu.population.models import Citizen
from dancu.quality import selectors, services
from dancu.quality.checks import CHECKS, CITIZEN, Group
from dancu.quality.models import QualityTally
from tests.factories import mini_geo, officer_actor
from tests.parallel import run_parallel
from tests.quality.test_quality import TODAY, _citizen, _client


def _failing_citizens(world, codes: set[str]) -> set[str]:
    return {pid for code, planted in world.expected.items() if code in codes for pid in planted}


def test_tallies_hold_every_count_and_the_clean_records(world, ministry_admin, geo) -> None:
    nation = selectors.tallies(ministry_admin, None)
    assert nation.total == Citizen.objects.count()
    for check in CHECKS:
        assert nation.counts[check.code] == len(world.expected.get(check.code, {})), check.code
    citizen_codes = {c.code for c in CHECKS if c.source == CITIZEN}
    assert nation.clean == nation.total - len(_failing_citizens(world, citizen_codes))
    for group in Group.LABELS:
        codes = {c.code for c in CHECKS if c.source == CITIZEN and c.group == group}
        assert nation.group_clean[group] == nation.total - len(_failing_citizens(world, codes)), group
    assert nation.as_of == TODAY and nation.computed_at is not None
    assert nation.denominator("Q_MINOR_NO_PARENT") == nation.minors > 0
    # The breakdown adds up to the nation (people with no place included as their own row).
    rows = selectors.tallies_breakdown(ministry_admin, None)
    assert sum(r.total for r in rows) == nation.total and any(r.unit is None for r in rows)
    communes = selectors.tallies_breakdown(ministry_admin, geo.thanh_hoa)
    assert {r.unit for r in communes} >= {geo.hac_thanh, geo.dong_son}
    assert sum(r.total for r in communes) == selectors.tallies(ministry_admin, geo.thanh_hoa).total


def test_tallies_follow_the_officers_area(world, province_officer, commune_officer, geo) -> None:
    assert selectors.tallies(province_officer, geo.hac_thanh).counts["Q_DUPLICATE"] == 1
    assert selectors.tallies(commune_officer, geo.hac_thanh).total > 0
    for actor, unit in ((province_officer, None), (province_officer, geo.ha_noi),
                        (province_officer, geo.hong_ha), (commune_officer, geo.thanh_hoa),
                        (commune_officer, geo.dong_son)):
        with pytest.raises(OutOfJurisdiction):
            selectors.tallies(actor, unit)
    assert AuditEvent.objects.filter(action="quality.tallies.read.denied").count() == 5


def test_check_agrees_after_recompute_and_finds_what_changed_since(world, ministry_admin, geo) -> None:
    assert list(selectors.differences()) == []
    before = selectors.tallies(ministry_admin, geo.hac_thanh)
    _citizen(ministry_admin, geo.hac_thanh, "Hà Thị Mới", "1990-05-17")
    province = selectors.tallies(ministry_admin, geo.thanh_hoa)
    diffs = {(d.unit, d.code): (d.tally, d.live) for d in selectors.differences()}
    assert diffs[(geo.hac_thanh, "TOTAL")] == (before.total, before.total + 1)
    assert diffs[(geo.hac_thanh, "CLEAN")] == (before.clean, before.clean + 1)
    assert diffs[(geo.thanh_hoa, "TOTAL")] == (province.total, province.total + 1)  # its sum
    assert {unit for unit, _ in diffs} == {geo.hac_thanh, geo.thanh_hoa}
    # The report still shows the tallies (and when they were computed) until the recount.
    assert selectors.tallies(ministry_admin, geo.hac_thanh).total == before.total
    services.recompute(geo.thanh_hoa.pk)
    assert list(selectors.differences()) == []
    assert selectors.tallies(ministry_admin, geo.hac_thanh).total == before.total + 1


def test_check_command_exits_1_on_a_stale_tally_and_0_when_they_agree(world, geo) -> None:
    out = io.StringIO()
    call_command("quality", "check", stdout=out)
    assert "agree" in out.getvalue()
    QualityTally.objects.filter(commune=geo.dong_son, code="Q_DUPLICATE").update(count=7)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("quality", "check", "--province", "38", stdout=out)
    assert exited.value.code == 1
    assert "Q_DUPLICATE" in out.getvalue() and "Đông Sơn" in out.getvalue()
    call_command("quality", "recompute", "--province", "38", stdout=io.StringIO())
    call_command("quality", "check", stdout=io.StringIO())  # no SystemExit


def test_a_missing_tally_row_is_a_difference(world, geo) -> None:
    QualityTally.objects.filter(commune=geo.hac_thanh, code="TOTAL").delete()
    [diff] = list(selectors.differences([geo.thanh_hoa.pk]))
    assert (diff.unit, diff.code, diff.tally) == (geo.hac_thanh, "TOTAL", None)
    QualityTally.objects.filter(commune=None, province=geo.thanh_hoa, code="CLEAN").update(count=0)
    [_, diff] = list(selectors.differences([geo.thanh_hoa.pk]))
    assert (diff.unit, diff.code, diff.tally) == (geo.thanh_hoa, "CLEAN", 0)


def test_recompute_now_enqueues_and_the_worker_recounts(world, province_officer, ministry_admin, geo) -> None:
    _citizen(ministry_admin, geo.dong_son, "Hà Thị Mới", "1990-05-17")
    old = selectors.tallies(province_officer, geo.dong_son).total
    client = _client(province_officer)
    for _ in range(2):  # a second click before the worker ran
        response = client.post(reverse("quality:recompute"))
        assert response.status_code == 302
    assert selectors.tallies(province_officer, geo.dong_son).total == old  # not yet
    assert run_until_idle(periodic=False) == 2
    assert selectors.tallies(province_officer, geo.dong_son).total == old + 1
    assert AuditEvent.objects.filter(action="quality.recompute.request", subject_id="2025:38").count() == 2
    page = client.get(reverse("quality:report"))
    assert "Đã đưa việc tính lại vào hàng đợi" in page.content.decode()
    assert client.get(reverse("quality:recompute")).status_code == 405


def test_the_second_of_two_requests_costs_nothing(world, geo) -> None:
    asked = timezone.now()
    assert services.recompute(geo.thanh_hoa.pk, requested_at=asked) > 0
    assert services.recompute(geo.thanh_hoa.pk, requested_at=asked) == 0


def test_recompute_now_beyond_the_area_is_refused(world, province_officer) -> None:
    response = _client(province_officer).post(reverse("quality:recompute"), {"province": "2025:01"})
    assert response.status_code == 403
    assert run_until_idle(periodic=False) == 0


def test_report_page_shows_when_the_counts_were_computed(world, province_officer, geo) -> None:
    at = timezone.localtime(selectors.tallies(province_officer, geo.thanh_hoa).computed_at)
    html = _client(province_officer).get(reverse("quality:report")).content.decode()
    assert 'data-testid="quality-freshness"' in html and at.strftime("%H:%M %d/%m/%Y") in html
    assert 'data-testid="quality-recompute"' in html


def test_report_page_before_any_count_says_so(geo, province_officer) -> None:
    html = _client(province_officer).get(reverse("quality:report")).content.decode()
    assert "chưa có số liệu tổng hợp" in html


def test_periodic_job_recounts_changed_and_out_of_date_provinces(world, ministry_admin, geo) -> None:
    assert services.due_provinces() == []
    _citizen(ministry_admin, geo.hac_thanh, "Hà Thị Mới", "1990-05-17")
    assert services.due_provinces() == [geo.thanh_hoa.pk]
    tomorrow = timezone.now() + dt.timedelta(days=1)  # the date-dependent checks move at midnight
    assert set(services.due_provinces(tomorrow)) == {*selectors.provinces(), selectors.UNPLACED}
    assert run_until_idle(periodic=["quality.refresh"]) >= 2  # the job, then its task
    assert list(selectors.differences()) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_recounts_of_a_province_leave_one_row_per_commune_and_code() -> None:
    geo = mini_geo()
    actor = officer_actor("bo.songsong", "ministry_admin", None)
    _citizen(actor, geo.hac_thanh, "Hà Thị Một", "1990-05-17")
    errors = run_parallel(lambda i: services.recompute(geo.thanh_hoa.pk if i % 3 else None), 6)
    assert errors == []
    per_key = QualityTally.objects.values_list("commune_id", "province_id", "code")
    assert len(per_key) == len(set(per_key)) > 0
    assert list(selectors.differences([geo.thanh_hoa.pk, None])) == []
