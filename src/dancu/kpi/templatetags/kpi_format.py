"""Numbers on the dashboards: ratios as percentages and counts with the language's separators
(Vietnamese: ``87,5 %`` and ``1.234``; English: ``87.5 %`` and ``1,234``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import translation

from dancu.kpi import dashboards

register = template.Library()


@register.filter
def percent(ratio: Any) -> str:
    """A ratio 0..1 as a percentage with one decimal; ``—`` when there is none."""
    if ratio is None or ratio == "":
        return "—"
    text = f"{float(ratio) * 100:.1f}"
    if translation.get_language() != "en":
        text = text.replace(".", ",")
    return f"{text}\u00a0%"


@register.filter
def count(value: Any) -> str:
    return dashboards.format_count(value)


@register.filter
def points(value: Any) -> str:
    return dashboards.format_number(value)
