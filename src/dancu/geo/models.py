"""Administrative units in two code systems: the legacy 63-province tree
(province → district → commune) and the tree in force since 1 July 2025
(34 provinces → communes). Codes of the two systems overlap with different
meanings, so a code is never stored without its system.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CodeSystem(models.TextChoices):
    LEGACY = "legacy", _("Trước 01/7/2025 (63 tỉnh)")
    V2025 = "2025", _("Từ 01/7/2025 (34 tỉnh)")


class Level(models.TextChoices):
    PROVINCE = "province", _("Tỉnh/Thành phố")
    DISTRICT = "district", _("Quận/Huyện")
    COMMUNE = "commune", _("Xã/Phường/Đặc khu")


class AdminUnit(models.Model):
    code_system = models.CharField(max_length=8, choices=CodeSystem.choices)
    level = models.CharField(max_length=10, choices=Level.choices)
    code = models.CharField(max_length=8, help_text="GSO code within its code system")
    name = models.CharField(max_length=120, help_text="Full name, e.g. 'Phường Hồng Hà'")
    short_name = models.CharField(max_length=100)
    unit_type = models.CharField(max_length=40, help_text="Phường, Xã, Đặc khu, Tỉnh, …")
    search_key = models.CharField(max_length=120, db_index=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="children")
    province = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+",
                                 help_text="The province this unit lies in (itself for a province)")
    # Legacy provinces only: the 3-digit code used in personal ID numbers (Circular 07/2016).
    id_number_code = models.CharField(max_length=3, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code_system", "level", "code"],
                                    name="geo_unit_code_unique_in_system"),
        ]
        indexes = [models.Index(fields=["code_system", "level", "province"])]
        ordering = ["code_system", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def qualified_code(self) -> str:
        """``2025:00097`` — the form used in files and the API."""
        return f"{self.code_system}:{self.code}"


class UnitConversion(models.Model):
    """Official legacy commune → 2025 commune conversion. A legacy commune split across
    several new communes has one row per new commune, each flagged ``is_partial``;
    ``is_default`` marks the one the source names as default (never used to guess)."""

    legacy_unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="converts_to")
    new_unit = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="converted_from")
    is_partial = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["legacy_unit", "new_unit"], name="geo_conversion_unique"),
        ]
