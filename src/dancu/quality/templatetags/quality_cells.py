"""The per-unit table of the data-quality report renders one cell per unit and check — some
3,700 for a province of 166 communes. Rendered here in one pass (``format_html_join``) rather
than by the template engine lookup by lookup, which cost ~100 ms of CPU per province page."""

from __future__ import annotations

from django import template
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from dancu.quality.selectors import QualityFigures

register = template.Library()


def _number(n: int) -> str:
    return str(n) if n < 1000 else str(localize(n))  # the separator only where there is one


@register.simple_tag
def unit_cells(row: QualityFigures, report_url: str) -> SafeString:
    """The ``<td>`` of each check for one row: the count, linked to the drill-down of the
    row's unit when there is something to list and a unit to list it in."""
    unit = row.qualified_code
    cells = (format_html('<td data-check="{}"><a href="{}{}/?unit={}">{}</a></td>', c.check.code,
                         report_url, c.check.code, unit, _number(c.count))
             if c.count and row.unit else
             format_html('<td data-check="{}">{}</td>', c.check.code, _number(c.count))
             for c in row.cells)
    return mark_safe("".join(cells))  # noqa: S308  (every piece escaped by format_html)


def _drill(report_url: str, row: QualityFigures, code: str, count: int) -> str:
    if not row.unit:
        return _number(count)
    return format_html('<a href="{}{}/?unit={}">{}</a>', report_url, code, row.qualified_code, _number(count))


@register.simple_tag
def unit_issues(row: QualityFigures, report_url: str) -> SafeString:
    """The row's checks for a phone, which shows this cell instead of one column per check:
    the number of failures and of checks failed, and behind a ``<details>`` the failed checks
    (name, code, count linked as in the columns). A check not listed counts 0."""
    failed = [c for c in row.cells if c.count]
    if not failed:
        return format_html('<td class="unit-issues none">{}</td>', _("Không có lỗi"))
    items = format_html_join("", '<li data-check="{0}">{1} <code>{0}</code>: {2}</li>',
                             ((c.check.code, c.check.label, _drill(report_url, row, c.check.code, c.count))
                              for c in failed))
    summary = _("%(issues)s lỗi ở %(checks)s phép kiểm tra") % {"issues": _number(row.issues),
                                                               "checks": len(failed)}
    return format_html('<td class="unit-issues"><details><summary>{}</summary><ul>{}</ul></details></td>',
                       summary, items)
