"""The dashboards under ``/chi-so/`` (officer console; docs/kpi.md, "Dashboards").

Thin: parse the query string, ask ``kpi.dashboards`` (built on ``kpi.selectors``), render.
Who sees what is the selectors' rule (``scope_unit`` → ``Actor.area``): beyond the officer's
area the page is a 403 (audited by ``accounts.views.forbidden``); a bad period, unit or
procedure code is a 400 naming it; the dossiers behind a number are audited per person shown.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dancu.accounts.views import forbidden, not_found, officer_required
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.kpi import dashboards

# Every console role but the API's service accounts; the area is decided per unit by the selectors.
DASHBOARD_ROLES = frozenset({"commune_police", "province_police", "ministry_admin", "auditor",
                             "commune_justice", "counter"})
MAX_PAGE = 10_000


def _refused(request: HttpRequest, err: DomainError) -> HttpResponse:
    if isinstance(err, OutOfJurisdiction):
        return forbidden(request, err)
    if isinstance(err, NotFound):
        return not_found(request, err.message)
    return render(request, "kpi/bad_request.html", {"error": err}, status=400)


def _params(request: HttpRequest) -> tuple[str | None, str]:
    unit = (request.GET.get("unit") or "").strip()[:40] or None
    period = (request.GET.get("period") or "").strip()[:40] or dashboards.current_month()
    return unit, period


def _page_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("page") or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        return None
    return int(raw)


@officer_required(roles=DASHBOARD_ROLES)
def dashboard(request: HttpRequest) -> HttpResponse:
    """A unit's page: the nation (national officers), a province, a commune."""
    unit, period = _params(request)
    try:
        page = dashboards.unit_dashboard(request.actor, unit_code=unit, period=period,  # type: ignore[attr-defined]
                                         metric=(request.GET.get("metric") or "")[:40])
    except DomainError as err:
        return _refused(request, err)
    return render(request, "kpi/dashboard.html", _context(request, page))


@officer_required(roles=DASHBOARD_ROLES)
def procedure(request: HttpRequest, code: str) -> HttpResponse:
    """One procedure in a unit."""
    unit, period = _params(request)
    try:
        page = dashboards.unit_dashboard(request.actor, unit_code=unit, period=period,  # type: ignore[attr-defined]
                                         metric=(request.GET.get("metric") or "")[:40],
                                         procedure_code=code[:20])
    except DomainError as err:
        return _refused(request, err)
    return render(request, "kpi/dashboard.html", _context(request, page))


def _context(request: HttpRequest, page: dashboards.Dashboard) -> dict:
    actor = request.actor  # type: ignore[attr-defined]
    levels = (dashboards.procedure_levels(actor, page.unit, page.procedure.code, page.period_value)
              if page.procedure is not None else [])
    return {"page": page, "menu": dashboards.period_menu(), "levels": levels,
            "crumbs": dashboards.breadcrumb(actor, page.unit, page.period_value)}


@officer_required(roles=DASHBOARD_ROLES)
def dossiers(request: HttpRequest) -> HttpResponse:
    """The dossiers behind a figure (a personal-data read: audited per applicant shown)."""
    unit, period = _params(request)
    number = _page_number(request)
    metric = (request.GET.get("metric") or "").strip()[:40]
    if number is None:
        from django.utils.translation import gettext as _

        return render(request, "kpi/bad_request.html",
                      {"message": _("Số trang không hợp lệ (1–10.000).")}, status=400)
    try:
        page = dashboards.dossiers_page(request.actor, unit_code=unit, period=period, metric=metric,  # type: ignore[attr-defined]
                                        part=(request.GET.get("part") or "")[:20],
                                        procedure_code=(request.GET.get("procedure") or "")[:20],
                                        page=number)
    except DomainError as err:
        return _refused(request, err)
    return render(request, "kpi/dossiers.html", {
        "page": page, "crumbs": dashboards.breadcrumb(request.actor, page.unit, period)})  # type: ignore[attr-defined]
