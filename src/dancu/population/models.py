"""The citizen record of the national population database."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dancu.core.reference import ETHNICITY_CHOICES, RELIGION_CHOICES


class Sex(models.TextChoices):
    MALE = "M", _("Nam")
    FEMALE = "F", _("Nữ")


class DatePrecision(models.TextChoices):
    DAY = "day", _("Ngày/tháng/năm")
    MONTH = "month", _("Tháng/năm")
    YEAR = "year", _("Chỉ năm")


class MaritalStatus(models.TextChoices):
    UNKNOWN = "unknown", _("Chưa rõ")
    SINGLE = "single", _("Chưa kết hôn")
    MARRIED = "married", _("Đã kết hôn")
    DIVORCED = "divorced", _("Đã ly hôn")
    WIDOWED = "widowed", _("Góa")


class LifeStatus(models.TextChoices):
    LIVING = "living", _("Còn sống")
    DECEASED = "deceased", _("Đã chết")
    MISSING = "missing", _("Mất tích")


class Citizen(models.Model):
    # Unique through Meta.constraints (not unique=True): on PostgreSQL that avoids the extra
    # varchar_pattern_ops index Django adds for LIKE, which look-ups never use and imports pay for.
    personal_id = models.CharField(_("số định danh cá nhân"), max_length=12)
    full_name = models.CharField(_("họ và tên"), max_length=150)
    # Search keys (see selectors.name_matches): the whole name, and the given name (tên, its
    # last word) so "family + given name" and "given name + birth year" are index range scans.
    name_key = models.CharField(max_length=150, help_text="full_name without diacritics, lower case")
    given_key = models.CharField(max_length=40, default="", help_text="last word of name_key")
    birth_year = models.PositiveSmallIntegerField(_("năm sinh"))
    birth_month = models.PositiveSmallIntegerField(_("tháng sinh"), null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(_("ngày sinh"), null=True, blank=True)
    sex = models.CharField(_("giới tính"), max_length=1, choices=Sex.choices)
    ethnicity = models.CharField(_("dân tộc"), max_length=2, choices=ETHNICITY_CHOICES)
    religion = models.CharField(_("tôn giáo"), max_length=2, choices=RELIGION_CHOICES,
                                default="00")
    nationality = models.CharField(_("quốc tịch"), max_length=2, default="VN",
                                   help_text="ISO 3166-1 alpha-2")
    birth_registration_unit = models.ForeignKey(
        "geo.AdminUnit", verbose_name=_("nơi đăng ký khai sinh"), on_delete=models.PROTECT,
        related_name="+")
    origin_unit = models.ForeignKey(
        "geo.AdminUnit", verbose_name=_("quê quán"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+")
    marital_status = models.CharField(_("tình trạng hôn nhân"), max_length=10,
                                      choices=MaritalStatus.choices, default=MaritalStatus.UNKNOWN)
    father = models.ForeignKey("self", verbose_name=_("cha"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children_as_father")
    mother = models.ForeignKey("self", verbose_name=_("mẹ"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children_as_mother")
    spouse = models.ForeignKey("self", verbose_name=_("vợ/chồng"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    life_status = models.CharField(_("tình trạng"), max_length=10, choices=LifeStatus.choices,
                                   default=LifeStatus.LIVING)
    death_date = models.DateField(_("ngày chết"), null=True, blank=True)
    old_id_number = models.CharField(_("số CMND cũ"), max_length=9, null=True, blank=True)
    # Denormalised from the residence context (it alone writes them, through
    # services.set_current_place) so jurisdiction filters are one indexed column.
    # Indexed once, by the named indexes citizen_commune / citizen_province below (no second,
    # identical foreign-key index: every index is maintained on every move).
    current_commune = models.ForeignKey("geo.AdminUnit", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+", db_index=False)
    current_province = models.ForeignKey("geo.AdminUnit", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+", db_index=False)
    import_batch = models.ForeignKey("ImportBatch", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["personal_id"], name="citizen_personal_id_unique"),
            models.UniqueConstraint(fields=["old_id_number"], condition=Q(old_id_number__isnull=False),
                                    name="citizen_old_id_unique"),
            models.CheckConstraint(condition=Q(birth_month__isnull=True) | Q(birth_month__range=(1, 12)),
                                   name="citizen_birth_month_range"),
            models.CheckConstraint(condition=Q(birth_day__isnull=True) | Q(birth_day__range=(1, 31)),
                                   name="citizen_birth_day_range"),
            models.CheckConstraint(condition=Q(birth_day__isnull=True) | Q(birth_month__isnull=False),
                                   name="citizen_birth_day_needs_month"),
            models.CheckConstraint(
                condition=Q(life_status="deceased") | Q(death_date__isnull=True),
                name="citizen_death_date_only_if_deceased"),
        ]
        indexes = [
            # varchar_pattern_ops: prefix LIKE uses the B-tree whatever the collation
            # (PostgreSQL only; other databases ignore opclasses).
            models.Index(fields=["name_key", "birth_year"], name="citizen_name_year",
                         opclasses=["varchar_pattern_ops", "int2_ops"]),
            models.Index(fields=["given_key", "birth_year", "name_key"], name="citizen_given_name",
                         opclasses=["varchar_pattern_ops", "int2_ops", "varchar_pattern_ops"]),
            models.Index(fields=["current_commune"], name="citizen_commune"),
            models.Index(fields=["current_province"], name="citizen_province"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.personal_id})"

    @property
    def birth_precision(self) -> str:
        if self.birth_day:
            return DatePrecision.DAY
        if self.birth_month:
            return DatePrecision.MONTH
        return DatePrecision.YEAR

    @property
    def birth_display(self) -> str:
        if self.birth_day:
            return f"{self.birth_day:02d}/{self.birth_month:02d}/{self.birth_year}"
        if self.birth_month:
            return f"{self.birth_month:02d}/{self.birth_year}"
        return str(self.birth_year)


class ImportBatch(models.Model):
    """One run of ``dancu population import``: the source of the rows it created."""

    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0, help_text="already present")
    rows_rejected = models.PositiveIntegerField(default=0)
    all_or_nothing = models.BooleanField(default=False)
    status = models.CharField(max_length=12, default="running")
    actor_label = models.CharField(max_length=150, default="cli")
    # The importing process, so that a batch whose process died (kill -9, power loss) can be
    # told from a running one and marked failed (population.bulk.close_abandoned_batches).
    host = models.CharField(max_length=255, blank=True, default="")
    pid = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="last committed chunk")
