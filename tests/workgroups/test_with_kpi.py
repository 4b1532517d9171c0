"""The working groups with the real kpi context (no stand-in): a report's figures and index are
kpi's for the group's unit and period, a target is met from a real figure, and the issued files
stay the same after more dossiers come in."""

from __future__ import annotations

import hashlib

from django.utils import timezone

from dancu.publicservices import services as publicservices
from dancu.workgroups import selectors, services
from tests.factories import officer_actor
from tests.publicservices.conftest import resident


def _submit(counter, person) -> None:
    publicservices.submit(counter, procedure_code="1.010123", applicant_personal_id=person.personal_id,
                          relation="self", data={"purpose": "Bổ sung hồ sơ vay vốn"}, components={},
                          channel="counter")


def test_a_report_freezes_kpi_figures_of_the_unit_and_period(geo, group, province_officer, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    counter = officer_actor("mc.hacthanh", "counter", geo.hac_thanh)
    people = [resident(geo.hac_thanh) for _ in range(3)]
    _submit(counter, people[0])
    today = timezone.localdate()
    plan = services.save_plan(province_officer, group, title="Kế hoạch", year=today.year)
    task = services.save_task(province_officer, plan, kind="specific", title="Tiếp nhận ít nhất 1 hồ sơ",
                              owner_agency="Bộ phận một cửa", target_code="submitted", target_value="1",
                              target_procedure="1.010123")
    row = selectors.task_rows(province_officer, group, [task], today=today)[0]
    assert row.status.code == "done" and row.status.by_target and row.target_actual == 1.0

    report = services.issue_report(province_officer, group, kind="fifteen_day", day=today)
    snap = report.snapshot
    assert snap["figures"]["available"] is True
    figures = {f["code"]: f for f in snap["figures"]["figures"]}
    assert figures["submitted"]["numerator"] == 1 and figures["submitted"]["source"] == "events"
    assert figures["submitted"]["label"] == "Hồ sơ tiếp nhận"  # Vietnamese, whatever the language
    assert snap["figures"]["index"]["grade_label"] and len(snap["figures"]["index"]["groups"]) == 5
    assert snap["tasks"]["rows"][0]["status"] == "done"

    _submit(counter, people[1])
    _submit(counter, people[2])
    live = services.build_snapshot(province_officer, group, kind="fifteen_day", start=report.period_start,
                                   end=report.period_end, today=today)
    assert {f["code"]: f for f in live["figures"]["figures"]}["submitted"]["numerator"] == 3
    for fmt in ("pdf", "xlsx"):
        _r, content = selectors.report_file(province_officer, group, report.pk, fmt)
        assert hashlib.sha256(content).hexdigest() == getattr(report, f"{fmt}_sha256")
        assert content == bytes(getattr(report, fmt))


def test_a_task_target_names_a_known_figure_and_procedure(group, province_officer):
    import pytest

    from dancu.core.errors import DomainError

    plan = services.save_plan(province_officer, group, title="Kế hoạch", year=2026)
    with pytest.raises(DomainError) as err:
        services.save_task(province_officer, plan, kind="specific", title="T", owner_agency="CA",
                           target_code="no_such_figure", target_value="1")
    assert err.value.field == "target_code"
    with pytest.raises(DomainError) as err:
        services.save_task(province_officer, plan, kind="specific", title="T", owner_agency="CA",
                           target_code="submitted", target_value="1", target_procedure="9.999999")
    assert err.value.field == "target_procedure" and err.value.status == 400


def test_a_target_on_an_average_compares_the_mean_not_a_percentage() -> None:
    from dancu.workgroups.figures import figure_value

    rating = {"code": "rating_average", "kind": "average", "numerator": 35, "denominator": 10, "ratio": 3.5}
    online = {"code": "online_dossiers", "kind": "ratio", "numerator": 8, "denominator": 10, "ratio": 0.8}
    count = {"code": "submitted", "kind": "count", "numerator": 12, "denominator": None, "ratio": None}
    assert (figure_value(rating), figure_value(online), figure_value(count)) == (3.5, 80.0, 12.0)


def test_a_member_outside_the_units_area_reads_the_groups_figures_and_issues_but_nothing_more(
        geo, group, province_officer, client, settings):
    """Membership lets an officer act for the group — the figures of the group's unit, the
    reports — without widening their own area: kpi's dashboards of that unit still refuse them."""
    import pytest
    from django.urls import reverse

    from dancu.audit.models import AuditEvent
    from dancu.core.errors import OutOfJurisdiction
    from dancu.kpi import selectors as kpi
    from dancu.kpi.periods import month
    from tests.factories import officer_login

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _submit(officer_actor("mc.hacthanh", "counter", geo.hac_thanh), resident(geo.hac_thanh))
    today = timezone.localdate()
    plan = services.save_plan(province_officer, group, title="Kế hoạch", year=today.year)
    task = services.save_task(province_officer, plan, kind="specific", title="Tiếp nhận ít nhất 1 hồ sơ",
                              owner_agency="Bộ phận một cửa", target_code="submitted", target_value="1")
    outsider = officer_actor("ca.dongson", "commune_police", geo.dong_son)  # another commune's officer
    assert selectors.figures_reader(outsider, group) is None
    member = services.save_member(province_officer, group, full_name="Lê Thị Thư Ký", role="secretary",
                                  username="ca.dongson")

    # acting for the group: the targets read from the unit's figures, a report issued from them
    reader = selectors.figures_reader(outsider, group)
    assert reader is not None and reader.user_id == outsider.user_id and reader.label == "ca.dongson"
    assert reader.covers(geo.hac_thanh.pk, geo.thanh_hoa.pk) and not reader.covers(geo.dong_son.pk, None)
    row = selectors.task_rows(outsider, group, [task], today=today)[0]
    assert row.target_actual == 1.0 and row.status.by_target
    report = services.issue_report(outsider, group, kind="monthly", day=today)
    figures = {f["code"]: f for f in report.snapshot["figures"]["figures"]}
    assert figures["submitted"]["numerator"] == 1 and report.issued_by == "ca.dongson"
    officer_login(client, outsider)
    page = client.get(reverse("workgroups:group", args=[group.pk]))
    assert page.status_code == 200 and "hiện đạt" in page.content.decode()

    # but their own area is unchanged: the unit's figures and dashboards outside the group refuse
    with pytest.raises(OutOfJurisdiction):
        kpi.figures(outsider, unit=geo.hac_thanh, period=month(today))
    assert client.get(reverse("kpi:dashboard"), {"unit": geo.hac_thanh.qualified_code}).status_code == 403
    assert client.get(reverse("kpi:dashboard"), {"unit": geo.dong_son.qualified_code}).status_code == 200
    assert AuditEvent.objects.filter(action="kpi.figures.view.denied", actor_label="ca.dongson").exists()

    # a member who leaves reads the group no more
    services.save_member(province_officer, group, member=member, full_name="Lê Thị Thư Ký", role="secretary",
                         username="ca.dongson", active=False)
    assert selectors.figures_reader(outsider, group) is None
    assert client.get(reverse("workgroups:group", args=[group.pk])).status_code == 403
