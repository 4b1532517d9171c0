"""Reads of the working groups: who may read and manage a group (the area rule of
``Actor.area``, plus the group's own head and secretary), who reads the kpi figures of the
group's unit (``figures_reader``), the group's page, task statuses, the figures entered by hand
(the latest entry of a figure used, earlier ones superseded), the reports per period with their
versions, and the download of an issued report (audited)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.actor import Actor
from dancu.accounts.models import Role
from dancu.audit import services as audit
from dancu.core.errors import Conflict, NotFound, OutOfJurisdiction
from dancu.geo.models import AdminUnit, Level
from dancu.workgroups import figures as kpi_figures
from dancu.workgroups import status as st
from dancu.workgroups.models import ManualFigure, Member, MemberRole, Plan, Report, Task, WorkingGroup

# Roles that manage every group of their area; the group's head and secretary manage their own.
MANAGER_ROLES = frozenset({Role.PROVINCE_POLICE, Role.MINISTRY_ADMIN})
MANAGING_MEMBERS = frozenset({MemberRole.HEAD, MemberRole.SECRETARY})
ROLE_ORDER: list[str] = [MemberRole.HEAD, MemberRole.DEPUTY, MemberRole.STANDING, MemberRole.SECRETARY,
                         MemberRole.MEMBER]


def _unit_place(unit: AdminUnit) -> tuple[int | None, int | None]:
    """The (commune, province) of a group's unit, as ``Actor.covers`` takes them."""
    if unit.level == Level.COMMUNE:
        return unit.pk, unit.province_id
    return None, unit.pk


def covers_unit(actor: Actor, unit: AdminUnit) -> bool:
    return bool(actor.role) and actor.source != "citizen" and actor.covers(*_unit_place(unit))


def _member_role(actor: Actor, group: WorkingGroup) -> str | None:
    if actor.user_id is None:
        return None
    return (Member.objects.filter(group=group, user_id=actor.user_id, active=True)
            .values_list("role", flat=True).first())


def can_read(actor: Actor, group: WorkingGroup) -> bool:
    """Officers whose area covers the group's unit, and the group's own members."""
    if not actor.role or actor.source == "citizen":
        return False
    return covers_unit(actor, group.unit) or _member_role(actor, group) is not None


def can_manage(actor: Actor, group: WorkingGroup) -> bool:
    """Province police and the ministry's administrators over their area, and the group's head
    and secretary (while members)."""
    if not actor.role or actor.source == "citizen" or actor.role in (Role.AUDITOR, Role.SERVICE):
        return False
    if actor.role in MANAGER_ROLES and covers_unit(actor, group.unit):
        return True
    return _member_role(actor, group) in MANAGING_MEMBERS


def figures_reader(actor: Actor, group: WorkingGroup) -> Actor | None:
    """Who reads the kpi figures of the group's unit for ``actor`` (targets on the group page, a
    report's snapshot) — the one rule. An officer whose area covers the unit reads as themselves.
    An active member of the group whose area does not acts for the group: the same officer (name,
    account, role, audit trail) with the area narrowed to the group's unit, handed to kpi for this
    read only. That widens nothing elsewhere: the officer's own actor keeps their area, so kpi's
    dashboards of the unit still refuse them. Anyone else: None."""
    if covers_unit(actor, group.unit):
        return actor
    if _member_role(actor, group) is None:
        return None
    unit = group.unit
    return replace(actor, jurisdiction_id=unit.pk,
                   jurisdiction_level="commune" if unit.level == Level.COMMUNE else "province",
                   jurisdiction_name=unit.name, extra={**actor.extra, "acting_for_group": group.pk})


def may_create_groups(actor: Actor) -> bool:
    """Province police and the ministry's administrators found groups (in their area)."""
    return actor.role in MANAGER_ROLES


def can_create_in(actor: Actor, unit: AdminUnit) -> bool:
    return may_create_groups(actor) and covers_unit(actor, unit)


def groups_for(actor: Actor) -> QuerySet[WorkingGroup]:
    """The groups an officer may read: those of units in their area, and those they belong to."""
    if not actor.role or actor.source == "citizen":
        return WorkingGroup.objects.none()
    area = actor.area
    q = area.q(commune="unit_id", province="unit__province_id")
    if area.level == "commune":  # a commune area covers no province's group
        q = Q(unit_id=area.unit_id)
    if actor.user_id is not None:
        q |= Q(pk__in=Member.objects.filter(user_id=actor.user_id, active=True).values("group_id"))
    return WorkingGroup.objects.filter(q).select_related("unit").order_by("unit__code", "name")


def get_group(actor: Actor, pk: int, *, manage: bool = False) -> WorkingGroup:
    """The group if the actor may read it (manage it, with ``manage``); refusals audited."""
    group = WorkingGroup.objects.select_related("unit").filter(pk=pk).first()
    if group is None:
        raise NotFound("E_NOT_FOUND", _("Không tìm thấy tổ công tác."), "group")
    allowed = can_manage(actor, group) if manage else can_read(actor, group)
    if not allowed:
        err = OutOfJurisdiction(
            "E_OUT_OF_JURISDICTION" if not can_read(actor, group) else "E_ROLE_READ_ONLY",
            _("Bạn không có quyền quản lý tổ công tác này.") if manage
            else _("Tổ công tác không thuộc địa bàn bạn phụ trách."), "group")
        audit.record_refusal(actor, "workgroup.manage" if manage else "workgroup.read", err,
                             subject_type="workgroup", subject_id=pk)
        raise err
    return group


def plan_of(group: WorkingGroup, pk: int) -> Plan:
    plan = Plan.objects.filter(group=group, pk=pk).first()
    if plan is None:
        raise NotFound("E_NOT_FOUND", _("Không tìm thấy kế hoạch."), "plan")
    return plan


def task_of(group: WorkingGroup, pk: int) -> Task:
    task = Task.objects.select_related("plan").filter(plan__group=group, pk=pk).first()
    if task is None:
        raise NotFound("E_NOT_FOUND", _("Không tìm thấy nhiệm vụ."), "task")
    return task


def manual_figure_of(group: WorkingGroup, pk: int) -> ManualFigure:
    figure = ManualFigure.objects.filter(group=group, pk=pk).first()
    if figure is None:
        raise NotFound("E_NOT_FOUND", _("Không tìm thấy số liệu."), "figure")
    return figure


def member_of(group: WorkingGroup, pk: int) -> Member:
    member = Member.objects.filter(group=group, pk=pk).first()
    if member is None:
        raise NotFound("E_NOT_FOUND", _("Không tìm thấy thành viên."), "member")
    return member


# ---- task statuses ---------------------------------------------------------------------------

@dataclass
class TaskRow:
    task: Task
    status: st.TaskStatus
    target_actual: float | None = None  # the figure's value now (percent or count), if any
    label: Any = ""  # the status in words, set by the page


@dataclass
class PlanView:
    plan: Plan
    rows: list[TaskRow] = field(default_factory=list)


def target_values(actor: Actor, group: WorkingGroup, tasks: list[Task], *,
                  start: dt.date, end: dt.date) -> dict[int, float | None]:
    """The current value of each target figure over ``start``..``end`` (one call to the kpi
    figures per procedure named)."""
    wanted = [t for t in tasks if t.target_code]
    by_procedure: dict[str, dict[str, Any]] = {}
    values: dict[int, float | None] = {}
    for t in wanted:
        proc = t.target_procedure or ""
        if proc not in by_procedure:
            live = kpi_figures.live_figures(actor, unit=group.unit, start=start, end=end,
                                            procedure=proc or None, with_index=False)
            by_procedure[proc] = {f["code"]: f for f in live.get("figures", [])}
        figure = by_procedure[proc].get(t.target_code)
        values[t.pk] = kpi_figures.figure_value(figure) if figure else None
    return values


def task_rows(actor: Actor, group: WorkingGroup, tasks: list[Task], *, today: dt.date,
              start: dt.date | None = None, end: dt.date | None = None) -> list[TaskRow]:
    """Each task with its computed status. Target figures are read over ``start``..``end``
    (default: the plan's year up to today)."""
    rows = []
    values: dict[int, float | None] = {}
    by_year: dict[int, list[Task]] = {}
    for t in tasks:
        by_year.setdefault(t.plan.year, []).append(t)
    reader = figures_reader(actor, group)
    for year, year_tasks in by_year.items():
        s = start or dt.date(year, 1, 1)
        e = end or min(today, dt.date(year, 12, 31))
        if s <= e and reader is not None:
            values.update(target_values(reader, group, year_tasks, start=s, end=e))
    for t in tasks:
        actual = values.get(t.pk)
        met = (actual is not None and t.target_value is not None and actual >= float(t.target_value))
        done_on = timezone.localtime(t.done_at).date() if t.done_at else None
        rows.append(TaskRow(t, st.compute(done_at=t.done_at, target_met=met, recurring=t.recurring,
                                          deadline=t.deadline, today=today, done_on=done_on), actual))
    return rows


# ---- figures entered by hand ------------------------------------------------------------------

@dataclass
class ManualLine:
    """A figure entered by hand (one code and period): the entry used — the latest — and the
    earlier entries it superseded, newest first, each with ``superseded_by`` (the entry that
    replaced it)."""

    current: ManualFigure
    earlier: list[ManualFigure] = field(default_factory=list)


def manual_figures(group: WorkingGroup, *, start: dt.date | None = None,
                   end: dt.date | None = None, limit: int | None = None) -> list[ManualLine]:
    """The figures entered by hand (those overlapping ``start``..``end`` if given): an entry is
    never edited, a correction is a new entry of the same code and period, and the latest entry
    of a code and period is the one used (the group page, every report)."""
    qs = ManualFigure.objects.filter(group=group)
    if start is not None and end is not None:
        qs = qs.filter(period_start__lte=end, period_end__gte=start)
    lines: dict[tuple[str, dt.date, dt.date], ManualLine] = {}
    for m in qs.order_by("code", "period_start", "period_end", "entered_at", "id"):
        key = (m.code, m.period_start, m.period_end)
        line = lines.get(key)
        if line is None:
            lines[key] = ManualLine(m)
        else:
            line.current.superseded_by = m  # type: ignore[attr-defined]  # shown beside it
            line.earlier.insert(0, line.current)
            line.current = m
    ordered = sorted(lines.values(), key=lambda x: (x.current.code, x.current.period_start))
    ordered.sort(key=lambda x: x.current.period_end, reverse=True)
    return ordered[:limit] if limit else ordered


@dataclass
class GroupView:
    group: WorkingGroup
    members: list[Member]
    plans: list[PlanView]
    manual: list[ManualLine]
    reports: list[Report]
    counts: dict[str, int]
    can_manage: bool


def group_view(actor: Actor, group: WorkingGroup, *, today: dt.date | None = None) -> GroupView:
    today = today or timezone.localdate()
    plans = list(Plan.objects.filter(group=group).prefetch_related(
        Prefetch("tasks", queryset=Task.objects.select_related("plan", "evidence_document"))))
    tasks = [t for p in plans for t in p.tasks.all()]
    rows = {r.task.pk: r for r in task_rows(actor, group, tasks, today=today)}
    views = [PlanView(p, [rows[t.pk] for t in p.tasks.all()]) for p in plans]
    counts = {code: 0 for code in st.ORDER}
    for r in rows.values():
        counts[r.status.code] += 1
    return GroupView(
        group=group,
        members=sorted(Member.objects.filter(group=group).select_related("user"),
                       key=lambda m: (not m.active, ROLE_ORDER.index(m.role), m.full_name)),
        plans=views,
        manual=manual_figures(group, limit=200),
        reports=list(reports_of(group)[:50]),
        counts=counts,
        can_manage=can_manage(actor, group))


def reports_of(group: WorkingGroup) -> QuerySet[Report]:
    return Report.objects.filter(group=group).defer("pdf", "xlsx", "snapshot")


def report_of(group: WorkingGroup, pk: int) -> Report:
    report = reports_of(group).filter(pk=pk).first()
    if report is None:
        raise NotFound("E_NOT_FOUND", _("Không tìm thấy báo cáo."), "report")
    return report


@dataclass
class PeriodReports:
    """The reports of one kind and period: the current version and the earlier ones (newest
    first), each earlier one with ``successor`` — the version that replaced it."""

    current: Report
    history: list[Report] = field(default_factory=list)


def report_history(group: WorkingGroup, *, limit: int = 500) -> list[PeriodReports]:
    """The group's reports per kind and period, newest period first: the version in force and
    its history. "Replaced by" is read from the newer row (``replaces``): no row is updated."""
    reports = list(reports_of(group).order_by("-period_start", "kind", "-version")[:limit])
    successor = {r.replaces_id: r for r in reports if r.replaces_id is not None}
    periods: dict[tuple[str, dt.date], PeriodReports] = {}
    for r in reports:  # the highest version of a period comes first
        r.successor = successor.get(r.pk)  # type: ignore[attr-defined]
        key = (r.kind, r.period_start)
        if key in periods:
            periods[key].history.append(r)
        else:
            periods[key] = PeriodReports(r)
    return list(periods.values())


# ---- issued reports --------------------------------------------------------------------------

MEDIA = {"pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def report_file(actor: Actor, group: WorkingGroup, report_id: int, fmt: str) -> tuple[Report, bytes]:
    """The stored bytes of an issued report (exactly as issued: checked against the stored
    SHA-256), the download audited. ``group`` was read under the actor's rights."""
    if fmt not in MEDIA:
        raise NotFound("E_NOT_FOUND", _("Không có định dạng này."), "format")
    report = Report.objects.filter(group=group, pk=report_id).first()
    if report is None:
        raise NotFound("E_NOT_FOUND", _("Không tìm thấy báo cáo."), "report")
    content = bytes(getattr(report, fmt))
    if hashlib.sha256(content).hexdigest() != getattr(report, f"{fmt}_sha256"):
        raise Conflict("E_REPORT_ALTERED", _("Tệp báo cáo không khớp mã băm đã lưu khi ban hành."), "report")
    audit.record(actor, "workgroup.report.download", subject_type="workgroup_report",
                 subject_id=report.pk, details={"format": fmt, "number": report.number,
                                                "sha256": getattr(report, f"{fmt}_sha256")})
    return report, content
