"""Working groups of Project 06 (province and commune), their members, plans and tasks, figures
entered by hand where no operational source exists, and the 15-day and monthly reports, frozen
when issued (docs/workgroups.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MemberRole(models.TextChoices):
    HEAD = "head", _("Tổ trưởng")
    DEPUTY = "deputy", _("Tổ phó")
    STANDING = "standing", _("Thường trực")
    MEMBER = "member", _("Thành viên")
    SECRETARY = "secretary", _("Thư ký")


class TaskKind(models.TextChoices):
    GENERAL = "general", _("Nhiệm vụ chung")
    SPECIFIC = "specific", _("Nhiệm vụ cụ thể")


class ReportKind(models.TextChoices):
    FIFTEEN_DAY = "fifteen_day", _("Báo cáo 15 ngày")
    MONTHLY = "monthly", _("Báo cáo tháng")


class WorkingGroup(models.Model):
    """Tổ công tác triển khai Đề án 06 of a province or a commune (a 2025 unit)."""

    unit = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    decision_ref = models.CharField(max_length=120, blank=True, default="",
                                    help_text="the decision that set the group up")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="workgroup_name_unique_in_unit")]
        ordering = ["unit_id", "name"]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="members")
    # An officer of dancu when there is one (their role in the group then gives them rights);
    # otherwise only the name (a member from another agency).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    full_name = models.CharField(max_length=120)
    position = models.CharField(max_length=120, blank=True, default="")
    agency = models.CharField(max_length=160, blank=True, default="")
    role = models.CharField(max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], condition=models.Q(user__isnull=False),
                                    name="workgroup_member_user_once"),
            models.CheckConstraint(condition=models.Q(role__in=[c.value for c in MemberRole]),
                                   name="workgroup_member_role_valid"),
        ]
        indexes = [models.Index(fields=["user", "group"], name="workgroup_member_user")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.role})"


class Plan(models.Model):
    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="plans")
    title = models.CharField(max_length=300)
    year = models.PositiveSmallIntegerField()
    reference = models.CharField(max_length=120, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-year", "id"]

    def __str__(self) -> str:
        return self.title


class Task(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=10, choices=TaskKind.choices, default=TaskKind.SPECIFIC)
    title = models.CharField(max_length=500)
    owner_agency = models.CharField(max_length=160)
    deadline = models.DateField(null=True, blank=True)
    recurring = models.BooleanField(default=False, help_text="a regular (thường xuyên) task")
    # A target figure, when there is one: a kpi figure code, the value to reach (a percentage for
    # a ratio figure, a count otherwise) and optionally one procedure.
    target_code = models.CharField(max_length=60, blank=True, default="")
    target_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    target_procedure = models.CharField(max_length=20, blank=True, default="")
    evidence = models.TextField(blank=True, default="")
    evidence_document = models.ForeignKey("documents.Document", null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.CharField(max_length=150, blank=True, default="")
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["plan_id", "kind", "deadline", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(kind__in=["general", "specific"]),
                                              name="workgroup_task_kind_valid")]

    def __str__(self) -> str:
        return self.title


class ManualFigure(models.Model):
    """A figure with no operational source in dancu (e.g. pilot models), entered by hand with
    its source and who entered it; every report marks it as such. Never edited (triggers refuse
    UPDATE and DELETE, migration 0003): a correction is a new entry of the same code and period,
    and the latest entry is the one used (``selectors.manual_figures``)."""

    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="manual_figures")
    code = models.CharField(max_length=60)
    label = models.CharField(max_length=300)
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(max_digits=18, decimal_places=2)
    unit_label = models.CharField(max_length=40, blank=True, default="")
    source = models.CharField(max_length=300)
    entered_by = models.CharField(max_length=150)
    entered_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField()
    note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-period_end", "code", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")),
                                   name="workgroup_manual_period_ordered"),
            models.CheckConstraint(condition=~models.Q(source=""), name="workgroup_manual_source_required"),
        ]


class Report(models.Model):
    """An issued report: what it said (``snapshot``) and the exact files (PDF, XLSX) with their
    SHA-256. Never updated nor deleted: triggers refuse it in the database (migration 0002).

    A correction (báo cáo thay thế) is a new row of the same group, kind and period with the next
    ``version``, its ``reason`` and the report it ``replaces``; the earlier row is not touched —
    "replaced by" is the reverse look-up of ``replaces``. At most one version per period and
    version number, and one successor per report (both unique in the database)."""

    group = models.ForeignKey(WorkingGroup, on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField(max_length=12, choices=ReportKind.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    seq = models.PositiveIntegerField()
    number = models.CharField(max_length=40)
    issued_at = models.DateTimeField()
    issued_by = models.CharField(max_length=150)
    issued_by_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")
    snapshot = models.JSONField()
    pdf = models.BinaryField()
    pdf_sha256 = models.CharField(max_length=64)
    xlsx = models.BinaryField()
    xlsx_sha256 = models.CharField(max_length=64)
    version = models.PositiveSmallIntegerField(default=1)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="replaced_by")
    reason = models.TextField(blank=True, default="", help_text="why a correction was issued")

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["group", "kind", "period_start", "version"],
                                    name="workgroup_report_version_once_per_period"),
            # the first version replaces nothing; a correction names the report and its reason
            models.CheckConstraint(
                condition=(models.Q(version=1, replaces__isnull=True, reason="")
                           | (models.Q(version__gt=1, replaces__isnull=False) & ~models.Q(reason=""))),
                name="workgroup_report_correction_shape"),
            models.UniqueConstraint(fields=["group", "seq"], name="workgroup_report_seq_unique"),
            models.CheckConstraint(condition=models.Q(kind__in=["fifteen_day", "monthly"]),
                                   name="workgroup_report_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.number
