"""Display filters of the citizen portal."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def vnd(value: object) -> str:
    """Whole đồng with dots between thousands, as Vietnamese writes money: 7000 → "7.000"."""
    try:
        return f"{int(value):,}".replace(",", ".")  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""


@register.filter
def registry_label(name: object) -> object:
    """A registry field's name in the reader's language ("birth_date" → "Ngày sinh")."""
    from dancu.publicservices.correction_selectors import label_of

    return label_of(str(name))
