"""Every write of the working groups, each in its own transaction, audited with before/after:
groups, members, plans, tasks (marked done with evidence), figures entered by hand (with their
source and who entered them), and the issue of a 15-day or monthly report — figures from the kpi
context and the tasks with their status frozen into a snapshot, rendered once as PDF and XLSX,
the bytes and their SHA-256 stored (an issued report is never changed: docs/workgroups.md).

Who: ``selectors.can_manage`` (province police and the ministry over their area, the group's
head and secretary); a refusal is audited outside the transaction it would roll back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.audit import services as audit
from dancu.core.errors import Conflict, DomainError, NotFound, OutOfJurisdiction
from dancu.core.text import nfc
from dancu.documents import services as documents
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.publicservices.selectors import procedure_by_code
from dancu.workgroups import figures as kpi_figures
from dancu.workgroups import render, selectors
from dancu.workgroups.models import (
    ManualFigure,
    Member,
    MemberRole,
    Plan,
    Report,
    ReportKind,
    Task,
    TaskKind,
    WorkingGroup,
)
from dancu.workgroups.status import ORDER

CODE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,60}$")
MAX_VALUE = Decimal("1e12")
STATUS_LABELS = {"done": "Hoàn thành", "regular": "Thường xuyên", "in_progress": "Đang thực hiện",
                 "late": "Trễ hạn"}  # in the reports, which are in Vietnamese


# ---- input checks (one refusal naming the field) ---------------------------------------------

def _text(value: Any, field: str, *, max_length: int, required: bool = True) -> str:
    text = nfc(str(value or "")).strip()
    if required and not text:
        raise DomainError("E_REQUIRED", _("Trường này là bắt buộc."), field)
    if len(text) > max_length:
        raise DomainError("E_TOO_LONG", _("Quá dài: tối đa %(n)s ký tự.") % {"n": max_length}, field)
    return text


def _code(value: Any, field: str, *, required: bool = True) -> str:
    code = str(value or "").strip()
    if not code and not required:
        return ""
    if not CODE_RE.match(code):
        raise DomainError("E_CODE_FORMAT", _("Mã chỉ gồm chữ, số và các ký tự . _ : - (tối đa 60)."), field)
    return code


def _decimal(value: Any, field: str, *, required: bool = True) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise DomainError("E_REQUIRED", _("Trường này là bắt buộc."), field)
        return None
    try:
        number = Decimal(str(value).replace(",", "."))
    except (InvalidOperation, ValueError):
        raise DomainError("E_NUMBER", _("Không phải là số."), field) from None
    if not number.is_finite() or abs(number) >= MAX_VALUE:
        raise DomainError("E_NUMBER_RANGE", _("Số nằm ngoài giới hạn cho phép."), field)
    return number.quantize(Decimal("0.01"))


def _choice(value: Any, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise DomainError("E_CHOICE", _("Giá trị không hợp lệ."), field)
    return str(value)


def _require_manage(actor: Actor, group: WorkingGroup, action: str) -> None:
    """Refuse (audited, outside any transaction of this app) unless the actor manages the group."""
    if not selectors.can_manage(actor, group):
        err = OutOfJurisdiction("E_ROLE_READ_ONLY", _("Bạn không có quyền quản lý tổ công tác này."), "group")
        audit.record_refusal(actor, action, err, subject_type="workgroup", subject_id=group.pk)
        raise err


def _record(actor: Actor, action: str, obj: Any, *, before: dict | None = None,
            after: dict | None = None, **details: Any) -> None:
    audit.record(actor, action, subject_type=f"workgroup_{type(obj).__name__.lower()}", subject_id=obj.pk,
                 before=before, after=after, details=details or None)


def _fields(obj: Any, names: list[str]) -> dict[str, Any]:
    out = {}
    for n in names:
        v = getattr(obj, n)
        if isinstance(v, dt.date | dt.datetime):
            v = v.isoformat()
        elif isinstance(v, Decimal):
            v = str(v)
        out[n] = v
    return out


# ---- groups and members ----------------------------------------------------------------------

GROUP_FIELDS = ["name", "decision_ref"]


def create_group(actor: Actor, *, unit: AdminUnit, name: str, decision_ref: str = "") -> WorkingGroup:
    if unit.code_system != CodeSystem.V2025 or unit.level not in (Level.PROVINCE, Level.COMMUNE):
        raise DomainError("E_UNIT_LEVEL", _("Tổ công tác thuộc một tỉnh hoặc một xã/phường (mã 2025)."),
                          "unit")
    if not selectors.can_create_in(actor, unit):
        err = OutOfJurisdiction("E_OUT_OF_JURISDICTION",
                                _("Bạn không được lập tổ công tác cho đơn vị này."), "unit")
        audit.record_refusal(actor, "workgroup.create", err, subject_type="workgroup",
                             details={"unit": unit.qualified_code})
        raise err
    name = _text(name, "name", max_length=200)
    decision_ref = _text(decision_ref, "decision_ref", max_length=120, required=False)
    try:
        with transaction.atomic():
            group = WorkingGroup.objects.create(unit=unit, name=name, decision_ref=decision_ref,
                                                created_at=timezone.now(), created_by=actor.label[:150])
            _record(actor, "workgroup.create", group, after={**_fields(group, GROUP_FIELDS),
                                                             "unit": unit.qualified_code})
    except IntegrityError:
        raise Conflict("E_DUPLICATE", _("Đơn vị đã có tổ công tác cùng tên."), "name") from None
    return group


def update_group(actor: Actor, group: WorkingGroup, *, name: str, decision_ref: str = "") -> WorkingGroup:
    _require_manage(actor, group, "workgroup.update")
    name = _text(name, "name", max_length=200)
    decision_ref = _text(decision_ref, "decision_ref", max_length=120, required=False)
    try:
        with transaction.atomic():
            locked = WorkingGroup.objects.select_for_update().get(pk=group.pk)
            before = _fields(locked, GROUP_FIELDS)
            locked.name, locked.decision_ref = name, decision_ref
            locked.save(update_fields=GROUP_FIELDS)
            _record(actor, "workgroup.update", locked, before=before, after=_fields(locked, GROUP_FIELDS))
    except IntegrityError:
        raise Conflict("E_DUPLICATE", _("Đơn vị đã có tổ công tác cùng tên."), "name") from None
    return locked


MEMBER_FIELDS = ["full_name", "position", "agency", "role", "active", "user_id"]


def _officer_user(username: str) -> Any:
    username = (username or "").strip()
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, officer__isnull=False).first()
    if user is None:
        raise DomainError("E_NOT_FOUND", _("Không có tài khoản cán bộ này."), "username")
    return user


def save_member(actor: Actor, group: WorkingGroup, *, member: Member | None = None, full_name: str,
                role: str, position: str = "", agency: str = "", username: str = "",
                active: bool = True) -> Member:
    """Add a member (``member`` None) or change one."""
    _require_manage(actor, group, "workgroup.member")
    values = {"full_name": _text(full_name, "full_name", max_length=120),
              "position": _text(position, "position", max_length=120, required=False),
              "agency": _text(agency, "agency", max_length=160, required=False),
              "role": _choice(role, MemberRole, "role"), "active": bool(active),
              "user": _officer_user(username)}
    try:
        with transaction.atomic():
            if member is None:
                obj = Member.objects.create(group=group, **values)
                before = None
            else:
                obj = Member.objects.select_for_update().get(pk=member.pk, group=group)
                before = _fields(obj, MEMBER_FIELDS)
                for k, v in values.items():
                    setattr(obj, k, v)
                obj.save()
            _record(actor, "workgroup.member.add" if before is None else "workgroup.member.update", obj,
                    before=before, after=_fields(obj, MEMBER_FIELDS), group=group.pk)
    except IntegrityError:
        raise Conflict("E_DUPLICATE", _("Cán bộ này đã là thành viên của tổ."), "username") from None
    return obj


# ---- plans and tasks -------------------------------------------------------------------------

PLAN_FIELDS = ["title", "year", "reference"]


def save_plan(actor: Actor, group: WorkingGroup, *, plan: Plan | None = None, title: str, year: Any,
              reference: str = "") -> Plan:
    _require_manage(actor, group, "workgroup.plan")
    try:
        year_n = int(year)
    except (TypeError, ValueError):
        raise DomainError("E_NUMBER", _("Năm không hợp lệ."), "year") from None
    if not 2000 <= year_n <= 2100:
        raise DomainError("E_NUMBER_RANGE", _("Năm không hợp lệ."), "year")
    values = {"title": _text(title, "title", max_length=300), "year": year_n,
              "reference": _text(reference, "reference", max_length=120, required=False)}
    with transaction.atomic():
        if plan is None:
            obj = Plan.objects.create(group=group, created_at=timezone.now(), **values)
            before = None
        else:
            obj = Plan.objects.select_for_update().get(pk=plan.pk, group=group)
            before = _fields(obj, PLAN_FIELDS)
            for k, v in values.items():
                setattr(obj, k, v)
            obj.save()
        _record(actor, "workgroup.plan.create" if before is None else "workgroup.plan.update", obj,
                before=before, after=_fields(obj, PLAN_FIELDS), group=group.pk)
    return obj


TASK_FIELDS = ["kind", "title", "owner_agency", "deadline", "recurring", "target_code", "target_value",
               "target_procedure", "notes"]


def save_task(actor: Actor, plan: Plan, *, task: Task | None = None, kind: str, title: str,
              owner_agency: str, deadline: dt.date | None = None, recurring: bool = False,
              target_code: str = "", target_value: Any = None, target_procedure: str = "",
              notes: str = "") -> Task:
    _require_manage(actor, plan.group, "workgroup.task")
    values: dict[str, Any] = {
        "kind": _choice(kind, TaskKind, "kind"), "title": _text(title, "title", max_length=500),
        "owner_agency": _text(owner_agency, "owner_agency", max_length=160),
        "deadline": deadline, "recurring": bool(recurring),
        "target_code": _code(target_code, "target_code", required=False),
        "target_value": _decimal(target_value, "target_value", required=False),
        "target_procedure": _code(target_procedure, "target_procedure", required=False)[:20],
        "notes": _text(notes, "notes", max_length=4000, required=False)}
    if values["target_code"] and values["target_code"] not in kpi_figures.figure_codes():
        raise DomainError("E_FIGURE_UNKNOWN", _("Không có số liệu với mã này."), "target_code")
    if values["target_procedure"]:
        try:
            procedure_by_code(values["target_procedure"], field_name="target_procedure")
        except DomainError as err:
            raise DomainError(err.code, err.message, "target_procedure") from None
    if bool(values["target_code"]) != (values["target_value"] is not None):
        field = "target_value" if values["target_code"] else "target_code"
        raise DomainError("E_TARGET_INCOMPLETE", _("Chỉ tiêu cần cả mã số liệu và giá trị cần đạt."), field)
    with transaction.atomic():
        if task is None:
            obj = Task.objects.create(plan=plan, created_at=timezone.now(), **values)
            before = None
        else:
            obj = Task.objects.select_for_update().get(pk=task.pk, plan__group=plan.group)
            before = _fields(obj, TASK_FIELDS)
            for k, v in values.items():
                setattr(obj, k, v)
            obj.save()
        _record(actor, "workgroup.task.create" if before is None else "workgroup.task.update", obj,
                before=before, after=_fields(obj, TASK_FIELDS), group=plan.group_id)
    return obj


def evidence_reference(task: Task) -> str:
    """The reference an evidence file is used under (documents.DocumentUse) and read by."""
    return f"TCT-NV-{task.pk}"


def mark_done(actor: Actor, task: Task, *, evidence: str, filename: str = "", content: bytes | None = None,
              content_type: str | None = None) -> Task:
    """The task is done: the evidence (text, required) and optionally a file (PDF/JPEG/PNG, kept
    in the document store, ownerless, used under the task's reference)."""
    _require_manage(actor, task.plan.group, "workgroup.task.done")
    evidence = _text(evidence, "evidence", max_length=4000)
    with transaction.atomic():
        obj = Task.objects.select_for_update().get(pk=task.pk)
        if obj.done_at is not None:
            raise Conflict("E_ALREADY_DONE", _("Nhiệm vụ đã được đánh dấu hoàn thành."), "task")
        before = _fields(obj, ["evidence", "done_at", "done_by"])
        if content:
            doc = documents.store_upload(actor, owner=None, filename=filename, content=content,
                                         field="attachment", declared_type=content_type,
                                         title=f"Minh chứng nhiệm vụ {obj.pk}")
            documents.record_use(actor, doc, reference=evidence_reference(obj), purpose=obj.title[:200])
            obj.evidence_document = doc
        obj.evidence, obj.done_at, obj.done_by = evidence, timezone.now(), actor.label[:150]
        obj.save(update_fields=["evidence", "evidence_document", "done_at", "done_by"])
        _record(actor, "workgroup.task.done", obj, before=before,
                after=_fields(obj, ["evidence", "done_at", "done_by"]), group=obj.plan.group_id)
    return obj


# ---- figures entered by hand -----------------------------------------------------------------

def enter_manual_figure(actor: Actor, group: WorkingGroup, *, code: str, label: str,
                        period_start: dt.date, period_end: dt.date, value: Any, source: str,
                        unit_label: str = "", note: str = "") -> ManualFigure:
    """A figure with no operational source, with its source (required) and who entered it."""
    _require_manage(actor, group, "workgroup.manual_figure")
    if period_start is None or period_end is None or period_end < period_start:
        raise DomainError("E_PERIOD", _("Kỳ số liệu không hợp lệ (ngày kết thúc trước ngày bắt đầu)."),
                          "period_end")
    values = {"code": _code(code, "code"), "label": _text(label, "label", max_length=300),
              "value": _decimal(value, "value"), "source": _text(source, "source", max_length=300),
              "unit_label": _text(unit_label, "unit_label", max_length=40, required=False),
              "note": _text(note, "note", max_length=4000, required=False)}
    with transaction.atomic():
        figure = ManualFigure.objects.create(
            group=group, period_start=period_start, period_end=period_end, entered_by=actor.label[:150],
            entered_by_user_id=actor.user_id, entered_at=timezone.now(), **values)
        # an entry of the same code and period before it is superseded (never changed)
        earlier = (ManualFigure.objects.filter(group=group, code=figure.code, period_start=period_start,
                                               period_end=period_end).exclude(pk=figure.pk)
                   .order_by("-entered_at", "-id").values_list("pk", flat=True).first())
        _record(actor, "workgroup.manual_figure.enter", figure,
                after=_fields(figure, ["code", "label", "period_start", "period_end", "value", "source"]),
                group=group.pk, supersedes=earlier)
    return figure


# ---- reports ---------------------------------------------------------------------------------

def period_label(kind: str, start: dt.date, end: dt.date) -> str:
    if kind == ReportKind.MONTHLY:
        return f"tháng {start.month:02d}/{start.year}"
    return f"15 ngày, từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}"


def _local_iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def manual_marker(figure: ManualFigure, earlier: list[ManualFigure] | None = None) -> str:
    """How every report marks a figure entered by hand — and, when the entry corrects earlier
    ones (same code and period), the value it replaced, who entered that and when."""
    marker = (f"nhập tay — nguồn: {figure.source}, người nhập: {figure.entered_by}, "
              f"lúc {timezone.localtime(figure.entered_at):%d/%m/%Y %H:%M}")
    if earlier:
        last = earlier[0]
        marker += (f"; đính chính, thay giá trị {last.value} do {last.entered_by} nhập "
                   f"lúc {timezone.localtime(last.entered_at):%d/%m/%Y %H:%M}")
    return marker


def _manual_item(line: selectors.ManualLine) -> dict[str, Any]:
    """A figure entered by hand as a report freezes it: the entry used, its marker, and the
    entries it superseded (value, source, who, when)."""
    m = line.current
    return {
        "code": m.code, "label": m.label, "period_start": m.period_start.isoformat(),
        "period_end": m.period_end.isoformat(), "value": str(m.value), "unit_label": m.unit_label,
        "source": m.source, "entered_by": m.entered_by, "entered_at": _local_iso(m.entered_at),
        "note": m.note,
        "marker": manual_marker(m, line.earlier),
        "supersedes": [{"value": str(e.value), "source": e.source, "entered_by": e.entered_by,
                        "entered_at": _local_iso(e.entered_at)} for e in line.earlier]}


def build_snapshot(actor: Actor, group: WorkingGroup, *, kind: str, start: dt.date, end: dt.date,
                   today: dt.date) -> dict[str, Any]:
    """What the report says, as JSON: the live figures and index of the group's unit over the
    period (read by ``selectors.figures_reader``: a member outside the unit's area reads them
    for the group), the tasks of the plans of those years with their status as of ``today``
    (targets read over the period), and the figures entered by hand that overlap the period —
    the latest entry of each, marked, with the entries it superseded."""
    reader = selectors.figures_reader(actor, group) or actor  # None: kpi refuses (audited)
    live = kpi_figures.live_figures(reader, unit=group.unit, start=start, end=end, language="vi")
    tasks = list(Task.objects.filter(plan__group=group, plan__year__in={start.year, end.year})
                 .select_related("plan").order_by("plan__year", "plan_id", "kind", "deadline", "id"))
    rows = selectors.task_rows(actor, group, tasks, today=today, start=start, end=end)
    counts = {code: 0 for code in ORDER}
    task_data = []
    kinds = {"general": "Chung", "specific": "Cụ thể"}
    for r in rows:
        t = r.task
        counts[r.status.code] += 1
        task_data.append({
            "id": t.pk, "plan": t.plan.title, "kind": t.kind, "kind_label": kinds[t.kind], "title": t.title,
            "owner_agency": t.owner_agency, "deadline": t.deadline.isoformat() if t.deadline else None,
            "recurring": t.recurring, "target_code": t.target_code,
            "target_value": str(t.target_value) if t.target_value is not None else None,
            "target_procedure": t.target_procedure, "target_actual": r.target_actual,
            "status": r.status.code, "status_label": STATUS_LABELS[r.status.code], "late": r.status.late,
            "done_late": r.status.done_late, "by_target": r.status.by_target,
            "done_at": _local_iso(t.done_at), "done_by": t.done_by, "evidence": t.evidence})
    lines = sorted(selectors.manual_figures(group, start=start, end=end),
                   key=lambda x: (x.current.code, x.current.period_start))
    manual = [_manual_item(line) for line in lines]
    return {
        "version": 1, "kind": kind,
        "title": ("Báo cáo tháng" if kind == ReportKind.MONTHLY else "Báo cáo 15 ngày")
        + " kết quả triển khai Đề án 06",
        "group": {"id": group.pk, "name": group.name, "decision_ref": group.decision_ref,
                  "unit": group.unit.name, "unit_code": group.unit.qualified_code},
        "period": {"start": start.isoformat(), "end": end.isoformat(),
                   "label": period_label(kind, start, end)},
        "figures": live, "tasks": {"as_of": today.isoformat(), "counts": counts, "rows": task_data},
        "manual": manual,
    }


def issue_report(actor: Actor, group: WorkingGroup, *, kind: str, day: dt.date) -> Report:
    """Issue the report of ``kind`` for the period containing ``day``: once per group, kind and
    period (E_REPORT_EXISTS otherwise: a correction is ``issue_correction``), numbered in the
    group's sequence. Its snapshot and files are written once and never change."""
    _require_manage(actor, group, "workgroup.report.issue")
    kind = _choice(kind, ReportKind, "kind")
    period = kpi_figures.report_period(kind, day)
    start, end = period.start, period.end
    now = timezone.now()
    today = timezone.localdate(now)
    if start > today:
        raise DomainError("E_PERIOD_FUTURE", _("Kỳ báo cáo chưa bắt đầu."), "day")
    snapshot = build_snapshot(actor, group, kind=kind, start=start, end=end, today=today)
    exists = Conflict("E_REPORT_EXISTS", _("Báo cáo của kỳ này đã được ban hành."), "day")
    try:
        with transaction.atomic():
            WorkingGroup.objects.select_for_update().filter(pk=group.pk).first()  # the sequence's lock
            if Report.objects.filter(group=group, kind=kind, period_start=start).exists():
                raise exists
            report = _write_report(actor, group, snapshot, kind=kind, start=start, end=end, now=now)
            _record(actor, "workgroup.report.issue", report, group=group.pk, number=report.number, kind=kind,
                    period=[start.isoformat(), end.isoformat()], pdf_sha256=report.pdf_sha256,
                    xlsx_sha256=report.xlsx_sha256)
    except IntegrityError:  # a concurrent issue of the same period won
        raise exists from None
    return report


def _write_report(actor: Actor, group: WorkingGroup, snapshot: dict[str, Any], *, kind: str,
                  start: dt.date, end: dt.date, now: dt.datetime, replaces: Report | None = None,
                  reason: str = "") -> Report:
    """Number, render and store a report (under the group's lock, in the caller's transaction):
    the next number of the group's sequence, the files rendered from the snapshot alone."""
    seq = (Report.objects.filter(group=group).aggregate(m=Max("seq"))["m"] or 0) + 1
    number = f"{seq:02d}/BC-TCT"
    snapshot.update(number=number, issued_at=_local_iso(now), issued_by=actor.label)
    pdf, xlsx = render.render_pdf(snapshot), render.render_xlsx(snapshot)
    return Report.objects.create(
        group=group, kind=kind, period_start=start, period_end=end, seq=seq, number=number,
        issued_at=now, issued_by=actor.label[:150], issued_by_user_id=actor.user_id, snapshot=snapshot,
        pdf=pdf, pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        xlsx=xlsx, xlsx_sha256=hashlib.sha256(xlsx).hexdigest(),
        version=replaces.version + 1 if replaces else 1, replaces=replaces, reason=reason)


def _replaced(report: Report) -> Conflict:
    """The refusal of a second correction of the same version, naming the version that won."""
    newer = Report.objects.filter(replaces=report).only("version", "number").first()
    return Conflict("E_REPORT_REPLACED", _(
        "Bản v%(v)s (số %(number)s) đã được thay thế bởi bản v%(newer)s (số %(newer_number)s); "
        "chỉ đính chính được bản hiện hành.") % {
        "v": report.version, "number": report.number, "newer": newer.version if newer else report.version + 1,
        "newer_number": newer.number if newer else "?"}, "report")


def issue_correction(actor: Actor, group: WorkingGroup, *, replaces: Report, reason: str) -> Report:
    """Issue a corrected report (báo cáo thay thế / đính chính) of the same kind and period as
    ``replaces``, which must be the version in force: version + 1, the reason (required), who
    issued it, the report it replaces — stated in its PDF and XLSX. The earlier report is not
    touched (stays downloadable, identical). Two officers correcting the same version at once:
    one correction, the other refused (E_REPORT_REPLACED, 409 naming the version — under the
    group's lock, and by the unique ``replaces`` and (group, kind, period, version))."""
    _require_manage(actor, group, "workgroup.report.correct")
    reason = _text(reason, "reason", max_length=1000)
    if replaces.group_id != group.pk:
        raise NotFound("E_NOT_FOUND", _("Không tìm thấy báo cáo."), "report")
    kind, start, end = replaces.kind, replaces.period_start, replaces.period_end
    now = timezone.now()
    snapshot = build_snapshot(actor, group, kind=kind, start=start, end=end, today=timezone.localdate(now))
    snapshot["correction"] = {
        "version": replaces.version + 1, "reason": reason,
        "replaces": {"id": replaces.pk, "number": replaces.number, "version": replaces.version,
                     "issued_at": _local_iso(replaces.issued_at), "issued_by": replaces.issued_by}}
    try:
        with transaction.atomic():
            WorkingGroup.objects.select_for_update().filter(pk=group.pk).first()  # the sequence's lock
            if Report.objects.filter(replaces=replaces).exists():
                raise _replaced(replaces)
            report = _write_report(actor, group, snapshot, kind=kind, start=start, end=end, now=now,
                                   replaces=replaces, reason=reason)
            audit.record(actor, "workgroup.report.correct", subject_type="workgroup_report",
                         subject_id=report.pk, reason=reason, details={
                             "group": group.pk, "number": report.number, "version": report.version,
                             "replaces": replaces.pk, "replaces_number": replaces.number,
                             "replaces_version": replaces.version, "kind": kind,
                             "period": [start.isoformat(), end.isoformat()],
                             "pdf_sha256": report.pdf_sha256, "xlsx_sha256": report.xlsx_sha256})
    except IntegrityError:  # a concurrent correction of the same version won
        raise _replaced(replaces) from None
    return report
