"""The two code systems' values and levels, and the level a code's length gives.

Within one code system the length of a code gives its level: province 2 digits, legacy
district 3 digits, commune 5 digits. Shared by the loader (``geo.services``) and the readers
(``geo.selectors``), which therefore need not import each other for it.
"""

from __future__ import annotations

from dancu.geo.models import CodeSystem, Level

# Plain strings (the values of CodeSystem and Level) so that type checkers without the Django
# plugin see ``str`` rather than the TextChoices member tuples.
LEGACY: str = "legacy"
V2025: str = "2025"
PROVINCE: str = "province"
DISTRICT: str = "district"
COMMUNE: str = "commune"
LEVEL_OF_CODE_LENGTH: dict[int, str] = {2: PROVINCE, 3: DISTRICT, 5: COMMUNE}
LEVEL_ORDER = (PROVINCE, DISTRICT, COMMUNE)
if {LEGACY, V2025} != set(CodeSystem.values) or set(LEVEL_ORDER) != set(Level.values):
    raise ImportError("dancu.geo.codes: code system / level constants out of step with the models")


def level_of_code(code: str) -> str | None:
    """``"01"`` → province, ``"001"`` → district, ``"00001"`` → commune; None for other lengths."""
    return LEVEL_OF_CODE_LENGTH.get(len(code)) if code.isascii() and code.isdigit() else None
