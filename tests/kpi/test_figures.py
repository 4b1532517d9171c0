"""Periods, jurisdiction, the figures and Decision 766's index of a known workload (computed by
hand), breakdowns, trends, the dossiers behind a number, and the registry snapshot."""

from __future__ import annotations

import datetime as dt

import pytest

from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.eid.services import citizen_actor
from dancu.kpi import selectors, services
from dancu.kpi.models import DossierTally, RegistryTally, ScoringRule
from dancu.kpi.periods import month
from dancu.kpi.selectors.figures import FigureDef, points, score
from tests.factories import officer_actor
from tests.kpi.test_tallies import mixed_workload
from tests.publicservices.conftest import resident, today

pytestmark = pytest.mark.django_db


# ---- periods ------------------------------------------------------------------------------------


def test_parse_period_kinds_and_refusals():
    p = selectors.parse_period("2026-11")
    assert (p.kind, p.start, p.end, p.label) == (
        "month",
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
        "11/2026",
    )
    q = selectors.parse_period("2026-Q4")
    assert (q.kind, q.start, q.end) == ("quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    y = selectors.parse_period("2024")
    assert (y.kind, y.start, y.end) == ("year", dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    c = selectors.parse_period("2026-11-01..2026-11-15")
    assert (c.kind, c.start, c.end) == ("custom", dt.date(2026, 11, 1), dt.date(2026, 11, 15))
    for period in (p, q, y, c):
        assert selectors.parse_period(period.code) == period
    assert selectors.parse_period("2026-02").end == dt.date(2026, 2, 28)
    for bad in (
        "2026-13",
        "2026-Q5",
        "26",
        "2026-11-15..2026-11-01",
        "2026-02-30..2026-03-01",
        "x\x00",
        "9999",
        "",
        None,
        2026,
        "2026-11-01..2046-11-01",
    ):
        with pytest.raises(DomainError) as err:
            selectors.parse_period(bad)
        assert err.value.code == "E_PERIOD" and err.value.field == "period"


def test_fifteen_day_periods():
    first = selectors.fifteen_day_period(dt.date(2026, 2, 15))
    second = selectors.fifteen_day_period(dt.date(2026, 2, 16))
    assert (first.start, first.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 15))
    assert (second.start, second.end) == (dt.date(2026, 2, 16), dt.date(2026, 2, 28))
    assert selectors.fifteen_day_period(dt.date(2026, 12, 31)).end == dt.date(2026, 12, 31)


# ---- who may read -------------------------------------------------------------------------------


def test_scope_unit_follows_the_area(world, ministry_admin, province_officer):
    geo = world.geo
    assert selectors.scope_unit(world.police, "2025:14758") == geo.hac_thanh
    assert selectors.scope_unit(world.police, geo.hac_thanh.code) == geo.hac_thanh
    assert selectors.scope_unit(province_officer, "2025:38") == geo.thanh_hoa
    assert selectors.scope_unit(province_officer, "2025:14797") == geo.dong_son
    assert selectors.scope_unit(ministry_admin, None) is None
    for actor, code in (
        (world.police, "2025:38"),
        (world.police, None),
        (world.police, "2025:00097"),
        (province_officer, None),
        (province_officer, "2025:01"),
    ):
        with pytest.raises(OutOfJurisdiction):
            selectors.scope_unit(actor, code)
    with pytest.raises(NotFound):
        selectors.scope_unit(ministry_admin, "2025:99999")
    with pytest.raises(OutOfJurisdiction):
        selectors.scope_unit(citizen_actor(world.alice.personal_id, channel="web"), "2025:14758")
    with pytest.raises(OutOfJurisdiction):  # a unit handed over directly is checked too
        selectors.figures(world.police_elsewhere, unit=geo.hac_thanh, period=month(today()))


# ---- figures and index --------------------------------------------------------------------------


def test_figures_of_the_workload(world, ministry_admin):
    mixed_workload(world)
    period = month(today())
    f = selectors.figures(world.police, unit=world.geo.hac_thanh, period=period)
    got = {x.code: (x.numerator, x.denominator) for x in f}
    assert got["submitted"] == (5, None)
    assert got["online_dossiers"] == (4, 5) and f["online_dossiers"].ratio == pytest.approx(0.8)
    assert got["on_time"] == (3, 4)
    assert got["results_digital"] == (3, 3)
    assert got["reuse"] == (1, 2)
    assert got["online_payment"] == (1, 2)
    assert got["satisfaction"] == (1, 2)
    assert got["rating_average"] == (7, 2)
    assert (f["submitted"].kind, f["on_time"].kind, f["rating_average"].kind) == ("count", "ratio", "average")
    assert f["rating_average"].ratio == pytest.approx(3.5) and f["submitted"].ratio is None
    assert got["catalog_published"] == (27, 27)
    assert f["on_time"].source == "events" and f["on_time"].freshness is not None
    assert f["population"].freshness is None  # no snapshot yet
    assert f["data_quality"].source == "quality"
    # Elsewhere nothing; the nation (ministry) sees the same numbers; one procedure narrows.
    nation = selectors.figures(ministry_admin, unit=None, period=period)
    assert nation["submitted"].numerator == 5
    other = selectors.figures(ministry_admin, unit=world.geo.hong_ha, period=period)
    assert other["submitted"].numerator == 0 and other["on_time"].ratio is None
    from dancu.publicservices.models import Procedure

    card = Procedure.objects.get(slug="cap-lai-the-can-cuoc")
    one = selectors.figures(ministry_admin, unit=None, period=period, procedure=card)
    assert one["submitted"].numerator == 2 and "population" not in one
    by_agency = selectors.figures(ministry_admin, unit=None, period=period, agency="commune_justice")
    assert by_agency["submitted"].numerator == 0
    with pytest.raises(DomainError):
        selectors.figures(ministry_admin, unit=None, period=period, agency="nope")
    last_month = month(period.start - dt.timedelta(days=1))
    assert selectors.figures(ministry_admin, unit=None, period=last_month)["submitted"].numerator == 0


def test_index_computed_by_hand(world, ministry_admin):
    assert points(0.5, 0.8, 10) == 6.25 and points(0.9, 0.8, 10) == 10 and points(None, 1, 6) == 0
    mixed_workload(world)
    result = selectors.index(ministry_admin, unit=None, period=month(today()))
    by = {i.code: i.points for g in result.groups for i in g.indicators}
    # catalog 27/27 → 6; on time 3/4 (target 1) → 15; digitised 4/4 → 8; results 3/3 → 8;
    # reuse 1/2 (target 0.8) → 3.75; online 4/5 = 0.8 → 12; paid online 1/2 → 6.25;
    # satisfied 1/2 → 11.25; the national-portal sync and the feedback answers: not measured.
    assert by == {
        "catalog_published": 6,
        "dossier_sync": 0,
        "feedback_answered": 0,
        "on_time": 15,
        "dossier_digitisation": 8,
        "results_digital": 8,
        "reuse": 3.75,
        "online_dossiers": 12,
        "online_payment": 6.25,
        "satisfaction": 11.25,
    }
    assert result.points == 70.25 and result.measured_max == 88
    assert result.total == round(70.25 * 100 / 88, 2) == 79.83
    assert result.grade is not None and result.grade.code == "good"
    groups = {g.code: (g.points, g.max) for g in result.groups}
    assert groups == {
        "publicity": (6, 18),
        "progress": (15, 20),
        "digitisation": (19.75, 22),
        "online": (18.25, 22),
        "satisfaction": (11.25, 18),
    }
    # No dossier in a period: no index (the catalog alone does not make a grade).
    empty = selectors.index(ministry_admin, unit=world.geo.hong_ha, period=month(today()))
    assert empty.total is None and empty.grade is None


def test_grade_bands_and_a_new_rule_set_from_a_date(world):
    rule = ScoringRule.objects.get(version="766-2022")
    full = {
        "catalog_complete": 1,
        "catalog_active": 1,
        "closed_on_time": 1,
        "decided": 1,
        "decided_digitised": 1,
        "results_digital": 1,
        "approved": 1,
        "components_reused": 1,
        "components": 1,
        "submitted_online": 1,
        "submitted": 1,
        "paid_online": 1,
        "paid": 1,
        "satisfied": 1,
        "rated": 1,
    }
    assert score(rule, full).total == 100 and score(rule, full).grade.code == "excellent"
    weak = full | {"closed_on_time": 0, "submitted_online": 0, "paid_online": 0, "satisfied": 0}
    assert score(rule, weak).grade.code == "weak"
    data = dict(rule.rules, version="test-2027")
    data["groups"] = [dict(g) for g in data["groups"]]
    data["groups"][1] = dict(
        data["groups"][1], indicators=[dict(data["groups"][1]["indicators"][0], target=0.5)]
    )
    ScoringRule.objects.create(
        version="test-2027", decision="test", effective_from=dt.date(2027, 1, 1), rules=data
    )
    assert selectors.rule_for(selectors.parse_period("2026-12")).version == "766-2022"
    assert selectors.rule_for(selectors.parse_period("2027-01")).version == "test-2027"
    assert selectors.rule_for(selectors.parse_period("2020")).version == "766-2022"  # before all: the first
    ScoringRule.objects.all().delete()  # no row at all (a flushed database): the bundled files
    assert selectors.rule_for(selectors.parse_period("2027-01")).version == "766-2022"


def test_breakdown_ranks_communes_and_procedures(world, province_officer, ministry_admin):
    mixed_workload(world)
    period = month(today())
    rows = selectors.breakdown(province_officer, unit=world.geo.thanh_hoa, period=period, by="commune")
    assert [r.code for r in rows] == ["2025:14758", "2025:14797"]  # best index first, no data last
    assert rows[0].index_total == 79.83 and rows[0].figures["submitted"].numerator == 5
    assert rows[1].index_total is None and rows[1].figures["submitted"].numerator == 0
    provinces = selectors.breakdown(ministry_admin, unit=None, period=period, by="province")
    assert provinces[0].code == "2025:38"
    procedures = selectors.breakdown(
        province_officer, unit=world.geo.thanh_hoa, period=period, by="procedure"
    )
    card = next(r for r in procedures if r.code == "2.001255")
    assert card.figures["submitted"].numerator == 2 and card.figures["online_payment"].ratio == 0.5
    agencies = selectors.breakdown(ministry_admin, unit=None, period=period, by="agency")
    assert agencies[0].key == "commune_police" and agencies[0].figures["submitted"].numerator == 5
    with pytest.raises(OutOfJurisdiction):
        selectors.breakdown(province_officer, unit=None, period=period, by="province")
    with pytest.raises(DomainError):
        selectors.breakdown(ministry_admin, unit=None, period=period, by="street")


def test_breakdown_of_one_procedure(world, province_officer, ministry_admin):
    """The communes (of a province) or provinces (of the nation) ranked on one procedure's
    dossiers: each row's figures and index are that procedure's in that unit."""
    from dancu.publicservices.models import Procedure

    mixed_workload(world)
    period = month(today())
    card = Procedure.objects.get(code="2.001255")
    rows = selectors.breakdown(
        province_officer, unit=world.geo.thanh_hoa, period=period, by="commune", procedure=card
    )
    assert [r.code for r in rows] == ["2025:14758", "2025:14797"]
    first = rows[0]
    assert first.figures.procedure == card and "population" not in first.figures
    assert first.figures["submitted"].numerator == 2 and first.figures["online_payment"].ratio == 0.5
    alone = selectors.index(province_officer, unit=world.geo.hac_thanh, period=period, procedure=card)
    assert first.index_total == alone.total and first.index_total != 79.83
    assert rows[1].figures["submitted"].numerator == 0 and rows[1].index_total is None
    provinces = selectors.breakdown(ministry_admin, unit=None, period=period, by="province", procedure=card)
    assert provinces[0].code == "2025:38" and provinces[0].figures["submitted"].numerator == 2
    assert all(r.figures["submitted"].numerator == 0 for r in provinces[1:])
    for by in ("procedure", "agency"):
        with pytest.raises(DomainError) as err:
            selectors.breakdown(ministry_admin, unit=None, period=period, by=by, procedure=card)
        assert err.value.field == "procedure"


def test_trend_over_months(world):
    mixed_workload(world)
    points_ = selectors.trend(world.police, unit=world.geo.hac_thanh, metric="online_dossiers", count=3)
    assert [p.end for p in points_] == sorted(p.end for p in points_) and len(points_) == 3
    assert (points_[-1].numerator, points_[-1].denominator, points_[-1].value) == (4, 5, 0.8)
    assert points_[0].value is None and points_[0].denominator == 0
    counts = selectors.trend(
        world.police, unit=world.geo.hac_thanh, metric="submitted", kind="quarter", count=2
    )
    assert counts[-1].value == 5
    idx = selectors.trend(world.police, unit=world.geo.hac_thanh, metric="index", count=2)
    assert idx[-1].value == 79.83 and idx[0].value is None
    with pytest.raises(DomainError):
        selectors.trend(world.police, unit=world.geo.hac_thanh, metric="nope")
    # Ending with an earlier period: the months up to it, none of this month's dossiers.
    before = month(today()).start - dt.timedelta(days=40)
    past = selectors.trend(world.police, unit=world.geo.hac_thanh, metric="submitted", count=3, end=before)
    assert [p.label for p in past] == [
        month(before - dt.timedelta(days=62)).label,
        month(before.replace(day=1) - dt.timedelta(days=1)).label,
        month(before).label,
    ]
    assert past[-1].end == month(before).end and all(p.value == 0 for p in past)
    ending_now = selectors.trend(
        world.police, unit=world.geo.hac_thanh, metric="submitted", count=2, end=month(today()).end
    )
    assert ending_now[-1].value == 5 and ending_now[-1].label == month(today()).label
    with pytest.raises(DomainError) as err:
        selectors.trend(world.police, unit=world.geo.hac_thanh, metric="submitted", end="2026-01")  # type: ignore[arg-type]
    assert err.value.field == "end"


def test_month_trend_in_one_read_is_each_months_figures(world, django_assert_max_num_queries):
    """The monthly trend reads the months' tallies in one grouped query: each point is what
    ``figures``/``index`` give for that month, an earlier month's tallies included."""
    mixed_workload(world)
    unit = world.geo.hac_thanh
    tally = DossierTally.objects.filter(commune_id=unit.pk).first()
    assert tally is not None
    earlier = month(today()).start - dt.timedelta(days=70)
    tally.pk, tally.day, tally.submitted, tally.approved, tally.closed_on_time = None, earlier, 7, 3, 2
    tally.save()
    for code in [d.code for d in selectors.FIGURES if d.source == "events"] + ["index"]:
        with django_assert_max_num_queries(4):
            points_ = selectors.trend(world.police, unit=unit, metric=code, count=6)
        for p in points_:
            period = month(p.start)
            if code == "index":
                assert p.value == selectors.index(world.police, unit=unit, period=period).total, (code, p)
                continue
            f = selectors.figures(world.police, unit=unit, period=period)[code]
            expected = f.ratio if f.kind != "count" else float(f.numerator or 0)
            assert (p.value, p.numerator, p.denominator) == (expected, f.numerator, f.denominator), (code, p)
    submitted = selectors.trend(world.police, unit=unit, metric="submitted", count=6)
    assert any(p.numerator == 7 for p in submitted)
    figs = selectors.figures(world.police, unit=unit, period=month(today()))
    assert selectors.index_of(figs) == selectors.index(world.police, unit=unit, period=month(today()))


def test_dossiers_behind_a_number(world, province_officer):
    made = mixed_workload(world)
    period = month(today())
    late = selectors.dossiers_behind(
        world.police, unit=world.geo.hac_thanh, period=period, metric="closed_late"
    )
    assert list(late) == [made["late"]]
    online = selectors.dossiers_behind(
        world.police, unit=world.geo.hac_thanh, period=period, metric="online_dossiers"
    )
    assert len(online) == 4 and made["late"] not in online
    all_ = selectors.dossiers_behind(
        province_officer,
        unit=world.geo.thanh_hoa,
        period=period,
        metric="online_dossiers",
        part="denominator",
    )
    assert len(all_) == 5
    paid = selectors.dossiers_behind(
        world.police, unit=world.geo.hac_thanh, period=period, metric="paid_online"
    )
    assert list(paid) == [made["reused"]]
    with pytest.raises(OutOfJurisdiction):
        selectors.dossiers_behind(
            world.police_elsewhere, unit=world.geo.hac_thanh, period=period, metric="closed_late"
        )
    with pytest.raises(DomainError):
        selectors.dossiers_behind(world.police, unit=world.geo.hac_thanh, period=period, metric="population")


# ---- the registry snapshot ----------------------------------------------------------------------


def test_registry_snapshot_by_the_periodic_job(world, ministry_admin, otp_without_waits):
    from dancu.core.worker import run_until_idle
    from tests.eid_helpers import level1_account

    resident(world.geo.hac_thanh, birth=f"{today().year - 10}-01-01")  # a child: not eligible
    level1_account(world.alice)
    assert run_until_idle(periodic=["kpi.snapshot_registry"]) == 1
    row = RegistryTally.objects.get(commune=world.geo.hac_thanh)
    assert (row.alive, row.eligible, row.eid_applicants, row.eid_active, row.eid_level1, row.eid_level2) == (
        3,
        2,
        1,
        1,
        1,
        0,
    )
    f = selectors.figures(world.police, unit=world.geo.hac_thanh, period=month(today()))
    assert (f["eid_activated"].numerator, f["eid_activated"].denominator) == (1, 2)
    assert f["eid_activated"].source == "snapshot" and f["eid_activated"].freshness == row.computed_at
    assert services.snapshot_registry() == 1  # idempotent: the day's snapshot replaced
    assert RegistryTally.objects.count() == 1
    officer_actor("ca.dongson", "commune_police", world.geo.dong_son)
    nation = selectors.figures(ministry_admin, unit=None, period=month(today()))
    assert nation["population"].numerator == 3


def test_eligibility_at_14_on_the_day_and_partial_dates(world):
    from dancu.population.selectors import living_by_commune

    day = today()
    fourteen = day.replace(year=day.year - 14) if not (day.month == 2 and day.day == 29) else day
    resident(world.geo.dong_son, birth=fourteen.isoformat())  # 14 today: eligible
    tomorrow = fourteen + dt.timedelta(days=1)
    resident(world.geo.dong_son, birth=tomorrow.isoformat())  # 14 tomorrow: not yet
    resident(world.geo.dong_son, birth=str(day.year - 14))  # a year only: from 1 January
    counts = living_by_commune(day, eligible_age=14)[(world.geo.dong_son.pk, world.geo.thanh_hoa.pk)]
    assert counts == {"alive": 3, "eligible": 2}


def test_data_quality_figure_from_the_quality_tallies(world, province_officer):
    from dancu.quality import services as quality

    quality.recompute(world.geo.thanh_hoa.pk)
    f = selectors.figures(province_officer, unit=world.geo.thanh_hoa, period=month(today()))
    dq = f["data_quality"]
    assert dq.source == "quality" and dq.denominator == 2 and dq.freshness is not None
    assert 0 <= dq.numerator <= 2
    rows = selectors.breakdown(
        province_officer, unit=world.geo.thanh_hoa, period=month(today()), by="commune"
    )
    assert rows[0].figures["data_quality"].denominator == 2  # Hạc Thành's two residents


def test_a_figure_kind_agrees_with_its_denominator():
    """A count has no denominator; a ratio and an average have one. The kind is declared once,
    in the figure's definition (``FigureDef.kind``)."""
    assert {d.code for d in selectors.FIGURES if d.kind == "average"} == {"rating_average"}
    assert all((d.kind == "count") == (d.denominator is None) for d in selectors.FIGURES)
    assert FigureDef("x", "x", "a", None, "events").kind == "count"
    assert FigureDef("x", "x", "a", "b", "events").kind == "ratio"
    for kind, denominator in (("ratio", None), ("average", None), ("count", "b"), ("mean", "b")):
        with pytest.raises(ValueError):
            FigureDef("x", "x", "a", denominator, "events", kind=kind)
