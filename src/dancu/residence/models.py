"""Residence under the Law on Residence 68/2020: households and registrations.

The database is the record (household books ended 31 Dec 2022). Registrations are
never deleted: they end (``ended_on``) with a reason, which keeps the history.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ResidenceKind(models.TextChoices):
    PERMANENT = "permanent", _("Thường trú")
    TEMPORARY = "temporary", _("Tạm trú")
    TEMPORARY_ABSENCE = "absence", _("Tạm vắng")
    STAY_NOTICE = "stay", _("Lưu trú")


class AbsenceCase(models.TextChoices):
    """Law on Residence Art. 31(1): who must declare a temporary absence."""

    SUPERVISED = "supervised", _("Bị can, bị cáo tại ngoại, người chấp hành án treo… rời xã ≥ 1 ngày")
    ADMIN_MEASURE = "admin_measure", _("Người bị áp dụng biện pháp xử lý hành chính… rời xã ≥ 1 ngày")
    MILITARY_AGE = "military_age", _("Người trong độ tuổi nghĩa vụ quân sự rời xã ≥ 3 tháng")
    LONG_ABSENCE = "long_absence", _("Người vắng mặt khỏi nơi thường trú ≥ 12 tháng")


class Household(models.Model):
    number = models.CharField(_("số hộ"), max_length=20, unique=True)
    commune = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("địa chỉ"), max_length=255)
    head = models.ForeignKey("population.Citizen", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()


class HouseholdCounter(models.Model):
    """The last number given to a household of a commune ('<commune code>-<n>'). New numbers
    are drawn from this row under its lock (``services._new_household``), never from a count;
    the bulk import advances it past the numbers it brings in (``residence.bulk``)."""

    commune = models.OneToOneField("geo.AdminUnit", primary_key=True, on_delete=models.PROTECT,
                                   related_name="+")
    last_number = models.PositiveIntegerField(default=0)


class Relationship(models.TextChoices):
    HEAD = "head", _("Chủ hộ")
    SPOUSE = "spouse", _("Vợ/chồng")
    CHILD = "child", _("Con")
    PARENT = "parent", _("Cha/mẹ")
    GRANDCHILD = "grandchild", _("Cháu")
    SIBLING = "sibling", _("Anh/chị/em")
    OTHER = "other", _("Khác")


class HouseholdMember(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    citizen = models.ForeignKey("population.Citizen", on_delete=models.PROTECT,
                                related_name="household_memberships")
    relationship = models.CharField(max_length=12, choices=Relationship.choices)
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["citizen"], condition=Q(left_on__isnull=True),
                                    name="one_active_household_per_citizen"),
        ]


class Registration(models.Model):
    citizen = models.ForeignKey("population.Citizen", on_delete=models.PROTECT,
                                related_name="residences")
    kind = models.CharField(max_length=10, choices=ResidenceKind.choices)
    commune = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("địa chỉ"), max_length=255)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="registrations")
    started_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True, help_text="temporary residence: ≤ 2 years")
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=255, blank=True, default="")
    absence_case = models.CharField(max_length=16, choices=AbsenceCase.choices, blank=True,
                                    default="")
    destination = models.CharField(max_length=255, blank=True, default="",
                                   help_text="temporary absence: where to")
    renewed_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["citizen"], condition=Q(kind="permanent", ended_on__isnull=True),
                name="one_active_permanent_residence"),
            models.UniqueConstraint(
                fields=["citizen"], condition=Q(kind="temporary", ended_on__isnull=True),
                name="one_active_temporary_residence"),
            models.CheckConstraint(
                condition=~Q(kind="temporary") | Q(expires_on__isnull=False),
                name="temporary_residence_has_expiry"),
        ]
        indexes = [models.Index(fields=["kind", "expires_on"], name="residence_kind_expiry")]
