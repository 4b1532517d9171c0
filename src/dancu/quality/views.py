"""Console pages of the data-quality report. Thin: parse the request, call a selector, render.

Reading the report is reading aggregated data (one audit event) from the tallies, with their
freshness; "recompute now" enqueues a recount (``services.request_recompute``). The drill-down
and its CSV show people, live, and the selectors audit every person shown or exported.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dancu.accounts.views import forbidden, not_found, officer_required
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.quality import selectors, services

BOM = "\ufeff"  # lets Excel open the UTF-8 file with its Vietnamese letters


class _Echo:
    """A file-like object whose ``write`` returns the line, for csv.writer in a stream."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield BOM
    for row in rows:
        yield writer.writerow(row)


def _csv_response(rows: Iterable[list[Any]], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _refused(request: HttpRequest, err: DomainError) -> HttpResponse:
    if isinstance(err, OutOfJurisdiction):
        return forbidden(request, err)
    if isinstance(err, NotFound):
        return not_found(request, err.message)
    return forbidden(request, err, status=400)


def _page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page") or 1))
    except ValueError:
        return 1


def _slug(code: str) -> str:
    """A unit code made safe for a file name (it may come from the query string)."""
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in code)[:40]


@officer_required
def report(request: HttpRequest) -> HttpResponse:
    try:
        result = selectors.quality_report(request.actor, province=request.GET.get("province") or None)  # type: ignore[attr-defined]
    except DomainError as err:
        return _refused(request, err)
    return render(request, "quality/report.html", {"report": result})


@officer_required
@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    province = request.POST.get("province") or None
    try:
        services.request_recompute(request.actor, province)  # type: ignore[attr-defined]
    except DomainError as err:
        return _refused(request, err)
    messages.success(request, _("Đã đưa việc tính lại vào hàng đợi; số liệu sẽ được cập nhật sau ít phút."))
    query = f"?{urlencode({'province': province})}" if province else ""
    return redirect(reverse("quality:report") + query)


@officer_required
def report_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    try:
        result = selectors.quality_report(request.actor, province=request.GET.get("province") or None,  # type: ignore[attr-defined]
                                          action="quality.report.export")
    except DomainError as err:
        return _refused(request, err)
    name = f"chat-luong-{_slug(result.scope.code)}-{timezone.localdate():%Y%m%d}.csv"
    return _csv_response(selectors.report_csv_rows(result), name)


@officer_required
def drilldown(request: HttpRequest, check_code: str) -> HttpResponse:
    try:
        page = selectors.drilldown(request.actor, check_code, unit=request.GET.get("unit") or None,  # type: ignore[attr-defined]
                                   page=_page(request))
    except DomainError as err:
        return _refused(request, err)
    return render(request, "quality/drilldown.html", {"page": page})


@officer_required
def drilldown_csv(request: HttpRequest, check_code: str) -> HttpResponse | StreamingHttpResponse:
    unit = request.GET.get("unit") or None
    try:
        lines = selectors.drilldown_export(request.actor, check_code, unit=unit)  # type: ignore[attr-defined]
    except DomainError as err:
        return _refused(request, err)
    name = f"{_slug(check_code.upper())}-{_slug(unit or 'all')}-{timezone.localdate():%Y%m%d}.csv"
    return _csv_response(lines, name)
