"""Online public services: the procedure catalog and the citizens' dossiers (issue #12).

A procedure is data (``catalog.json``, seeded by migration 0002). A dossier is one
application for one procedure, by an applicant for themself or for someone they may act for;
every transition of its status leaves a ``DossierEvent`` (the raw events of the KPIs). The
dossier code is drawn from a per-day counter row under its lock, never from a count.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Agency(models.TextChoices):
    COMMUNE_POLICE = "commune_police", _("Công an xã/phường")
    COMMUNE_JUSTICE = "commune_justice", _("Tư pháp xã/phường (UBND xã)")
    COMMUNE_PEOPLES_COMMITTEE = "commune_committee", _("UBND xã/phường")
    PROVINCE_POLICE = "province_police", _("Công an tỉnh")
    PROVINCE_DEPARTMENT = "province_department", _("Sở, ngành cấp tỉnh")
    SOCIAL_INSURANCE = "social_insurance", _("Bảo hiểm xã hội")
    ELECTRICITY = "electricity", _("Điện lực")
    MINISTRY = "ministry", _("Bộ, ngành trung ương")


class Level(models.TextChoices):
    COMMUNE = "commune", _("Cấp xã")
    PROVINCE = "province", _("Cấp tỉnh")
    MINISTRY = "ministry", _("Cấp trung ương")


class OnlineLevel(models.TextChoices):
    FULL = "full", _("Toàn trình")
    PARTIAL = "partial", _("Một phần")


class Procedure(models.Model):
    code = models.CharField(max_length=20, unique=True, help_text="national procedure code, e.g. 1.004222")
    slug = models.SlugField(max_length=60, unique=True)
    name_vi = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255)
    legal_basis = models.TextField(blank=True, default="")
    agency = models.CharField(max_length=24, choices=Agency.choices)
    level = models.CharField(max_length=10, choices=Level.choices)
    time_limit_days = models.PositiveSmallIntegerField(help_text="working days")
    fee_vnd = models.PositiveIntegerField(default=0)
    fee_exemptions = models.TextField(blank=True, default="")
    components = models.JSONField(default=list, help_text="[{key, name_vi, name_en, required}]")
    form_schema = models.JSONField(default=dict, help_text="JSON Schema of the citizen-entered data")
    registry_fields = models.JSONField(
        default=list, help_text="names pre-filled from the registry, never accepted from the client"
    )
    online_level = models.CharField(max_length=8, choices=OnlineLevel.choices)
    essential = models.BooleanField(default=False)
    essential_number = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="its number in the 25 of Project 06"
    )
    min_loa = models.PositiveSmallIntegerField(default=2, help_text="e-ID level required (1|2)")
    effect = models.CharField(
        max_length=40, blank=True, default="", help_text="name of the effect handler applied on approval"
    )
    steps = models.JSONField(
        default=list,
        blank=True,
        help_text="interconnected procedure (Decree 63/2024): [{key, agency, role, days, after}]; "
        "empty for a one-decision procedure",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["essential_number", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_vi}"


class Relation(models.TextChoices):
    SELF = "self", _("Bản thân")
    PARENT = "parent", _("Cha/mẹ của người chưa thành niên")
    HOUSEHOLD_HEAD = "household_head", _("Chủ hộ của thành viên hộ")
    REPRESENTATIVE = "representative", _("Người được ủy quyền")


class Channel(models.TextChoices):
    ONLINE = "online", _("Trực tuyến")
    COUNTER = "counter", _("Tại bộ phận một cửa")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Đã nộp")
    ACCEPTED = "accepted", _("Đã tiếp nhận")
    SUPPLEMENT = "supplement", _("Yêu cầu bổ sung")
    APPROVED = "approved", _("Đã giải quyết")
    REFUSED = "refused", _("Từ chối")
    WITHDRAWN = "withdrawn", _("Đã rút")


OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.SUPPLEMENT)
CLOSED_STATUSES = (Status.APPROVED, Status.REFUSED, Status.WITHDRAWN)


class DossierCounter(models.Model):
    """The last number given to a dossier on one day ("DC-YYYYMMDD-NNNNNN"), drawn under the
    row's lock (``services.submission.next_code``)."""

    day = models.DateField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)


class Dossier(models.Model):
    code = models.CharField(max_length=20, unique=True)
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="dossiers")
    applicant = models.ForeignKey(
        "population.Citizen", on_delete=models.PROTECT, related_name="+", db_index=False
    )  # indexed by dossier_applicant below
    subject = models.ForeignKey(
        "population.Citizen",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="the person the dossier is about; null for a newborn",
    )
    relation = models.CharField(max_length=16, choices=Relation.choices, default=Relation.SELF)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    commune = models.ForeignKey(
        "geo.AdminUnit",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="jurisdiction: the competent commune",
    )
    province = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    data = models.JSONField(default=dict, help_text="what the applicant entered")
    registry_data = models.JSONField(default=dict, help_text="snapshot pre-filled from the registry")
    submitted_at = models.DateTimeField()
    due_on = models.DateField()
    clock_paused_at = models.DateTimeField(null=True, blank=True)
    paused_days = models.PositiveIntegerField(default=0, help_text="working days the clock stood still")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    fee_vnd = models.PositiveIntegerField(default=0)
    paid = models.BooleanField(default=False)
    result_document = models.ForeignKey(
        "documents.Document",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=80, null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="", help_text="refusal reason / result")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["applicant", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="dossier_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__range=(1, 5)), name="dossier_rating_range"
            ),
        ]
        indexes = [
            # The citizen's dossiers, newest first.
            models.Index(fields=["applicant", "-submitted_at"], name="dossier_applicant"),
            # The queues: open dossiers only (partial), by deadline — national, per province,
            # per commune. Closed dossiers (the vast majority after a while) are in none of them.
            models.Index(
                fields=["due_on", "id"],
                name="dossier_open_due",
                condition=Q(status__in=["submitted", "accepted", "supplement"]),
            ),
            models.Index(
                fields=["province", "due_on", "id"],
                name="dossier_open_province_due",
                condition=Q(status__in=["submitted", "accepted", "supplement"]),
            ),
            models.Index(
                fields=["commune", "due_on", "id"],
                name="dossier_open_commune_due",
                condition=Q(status__in=["submitted", "accepted", "supplement"]),
            ),
            # Any status, per place, newest first (the "all dossiers" filter of the queue).
            models.Index(fields=["commune", "-submitted_at"], name="dossier_commune_submitted"),
            models.Index(fields=["province", "-submitted_at"], name="dossier_province_submitted"),
            # Measured by the counter's bench (docs/benchmarks.md): all dossiers newest first
            # nationally, open ones by code, and "assigned to me" by deadline.
            models.Index(fields=["-submitted_at", "-id"], name="dossier_submitted"),
            models.Index(
                fields=["code"],
                name="dossier_open_code",
                condition=Q(status__in=["submitted", "accepted", "supplement"]),
            ),
            models.Index(
                fields=["assigned_to", "due_on", "id"],
                name="dossier_open_assignee_due",
                condition=Q(status__in=["submitted", "accepted", "supplement"]),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class DossierComponent(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="component_rows")
    key = models.CharField(max_length=40)
    document = models.ForeignKey("documents.Document", on_delete=models.PROTECT, related_name="+")
    reused = models.BooleanField(default=False, help_text="taken from the citizen's document store")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dossier", "key"], name="dossier_component_key")]


class DossierEvent(models.Model):
    """One transition: who, when, from which status to which (the raw events of the KPIs)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    actor_label = models.CharField(max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=10, blank=True, default="")
    to_status = models.CharField(max_length=10)
    note = models.TextField(blank=True, default="")
    # A ``rated`` event: the rating given (1–5) and the one it replaced (NULL for a first
    # rating) — the figures count these, never the note (which says the same for people).
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_before = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["action", "at"], name="dossier_event_action_at")]


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("Chờ bước trước")
    READY = "ready", _("Đang xử lý")
    SENDING = "sending", _("Đang gửi cơ quan liên thông")
    DONE = "done", _("Đã xong")
    REFUSED = "refused", _("Bị từ chối")
    CANCELLED = "cancelled", _("Đã hủy")


FINAL_STEP_STATUSES = (StepStatus.DONE, StepStatus.REFUSED, StepStatus.CANCELLED)
STEP_NAMES = {
    "birth_registration": _("Đăng ký khai sinh"),
    "permanent_residence": _("Đăng ký thường trú"),
    "health_card": _("Cấp thẻ bảo hiểm y tế cho trẻ dưới 6 tuổi"),
    "death_registration": _("Đăng ký khai tử"),
    "residence_deletion": _("Xóa đăng ký thường trú"),
    "funeral_allowance": _("Giải quyết mai táng phí, trợ cấp tuất"),
}


class DossierStep(models.Model):
    """One agency's part of an interconnected dossier (Decree 63/2024; docs/interconnected.md):
    a row per step of ``Procedure.steps``, written with the dossier. An officer step (``role``
    set) waits in that role's queue while ``ready``; an automatic step (``role`` empty) is
    ``sending`` while the task ``advance_flow`` exchanges messages with the agency — always with
    the step's own ``message_id``, fixed when the row is created, so a retry is the same
    message and the agency never acts twice."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="steps")
    key = models.CharField(max_length=40)
    position = models.PositiveSmallIntegerField()
    agency = models.CharField(max_length=24, choices=Agency.choices)
    role = models.CharField(max_length=20, blank=True, default="", help_text="officer role; empty: automatic")
    after = models.JSONField(default=list, help_text="keys of the steps this one waits for")
    days = models.PositiveSmallIntegerField(default=0, help_text="working days (0: the same working day)")
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.WAITING)
    due_on = models.DateField(null=True, blank=True, help_text="set when the step becomes ready/sending")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False,
    )
    decided_by_label = models.CharField(max_length=150, blank=True, default="")
    result = models.JSONField(default=dict, blank=True)
    result_document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False,
    )
    refusal_reason = models.TextField(blank=True, default="")
    message_id = models.CharField(max_length=36, unique=True, help_text="UUID of the exchange message")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["dossier", "position"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "key"], name="dossier_step_key"),
            models.CheckConstraint(
                condition=Q(status__in=["done", "refused"], decided_at__isnull=False)
                | (~Q(status__in=["done", "refused"]) & Q(decided_at__isnull=True)),
                name="dossier_step_decided_at",
            ),
        ]
        indexes = [
            # The officers' step queue: ready steps of the agencies a role processes, by deadline.
            models.Index(
                fields=["agency", "due_on", "id"], name="dossier_step_ready", condition=Q(status="ready")
            ),
            # The safety net: automatic steps due for (another) exchange.
            models.Index(
                fields=["next_attempt_at", "id"], name="dossier_step_sending", condition=Q(status="sending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}:{self.key} ({self.status})"

    @property
    def name(self) -> str:
        return str(STEP_NAMES.get(self.key, self.key))

    @property
    def automatic(self) -> bool:
        return not self.role

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STEP_STATUSES


class FeedbackKind(models.TextChoices):
    FEEDBACK = "feedback", _("Góp ý")
    COMPLAINT = "complaint", _("Khiếu nại")


class Feedback(models.Model):
    dossier = models.ForeignKey(
        Dossier, null=True, blank=True, on_delete=models.PROTECT, related_name="feedback"
    )
    citizen = models.ForeignKey("population.Citizen", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=FeedbackKind.choices)
    text = models.TextField()
    created_at = models.DateTimeField()


class Notification(models.Model):
    """The citizen's portal inbox; e-mail and SMS copies are sent by a task."""

    citizen = models.ForeignKey(
        "population.Citizen", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    dossier = models.ForeignKey(
        Dossier, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(max_length=20)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["citizen", "-created_at"], name="notification_inbox")]


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("Đang chờ xử lý")
    HANDLED = "handled", _("Đã điều chỉnh")
    REJECTED = "rejected", _("Không điều chỉnh")


class CorrectionRequest(models.Model):
    """"Báo sai": the citizen says a value pre-filled from the registry is wrong. A police
    officer of the person's area checks it and corrects the registry through the registry's own
    pages and services (this row never rewrites it), then closes the request as handled or
    rejected; the citizen is told. One open request per person and field."""

    citizen = models.ForeignKey("population.Citizen", on_delete=models.PROTECT, related_name="+")
    procedure = models.ForeignKey(
        Procedure, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    dossier = models.ForeignKey(
        Dossier, null=True, blank=True, on_delete=models.PROTECT, related_name="corrections", db_index=False
    )
    field = models.CharField(max_length=40, help_text="the registry field (a procedure's registry_fields)")
    current_value = models.TextField(blank=True, default="", help_text="the registry's value when filed")
    proposed_value = models.TextField(help_text="what the citizen says is right")
    note = models.TextField(blank=True, default="")
    status = models.CharField(max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.OPEN)
    created_at = models.DateTimeField()
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False,
    )
    handled_by_label = models.CharField(max_length=150, blank=True, default="")
    handled_at = models.DateTimeField(null=True, blank=True)
    officer_note = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["citizen", "field"], condition=Q(status="open"), name="correction_one_open_per_field"
            ),
            models.CheckConstraint(
                condition=Q(status="open", handled_at__isnull=True)
                | (~Q(status="open") & Q(handled_at__isnull=False)),
                name="correction_handled_at",
            ),
        ]
        indexes = [
            # The counter's list: open requests, oldest first.
            models.Index(fields=["created_at", "id"], name="correction_open", condition=Q(status="open")),
        ]

    def __str__(self) -> str:
        return f"{self.citizen_id}:{self.field} ({self.status})"
