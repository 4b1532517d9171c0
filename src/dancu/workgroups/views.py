"""The working-group pages under ``/to-cong-tac/``: thin — parse a form, call a service or a
selector, render. Rights come from the selectors and services (area, the group's head and
secretary); their refusals are shown with their status (403 audited)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.forms import add_domain_errors
from dancu.accounts.views import forbidden, not_found, officer_required
from dancu.core.errors import DomainError, OutOfJurisdiction
from dancu.documents import selectors as documents
from dancu.geo import selectors as geo
from dancu.workgroups import forms, selectors, services
from dancu.workgroups.models import WorkingGroup


def _actor(request: HttpRequest) -> Any:
    return request.actor  # type: ignore[attr-defined]


def _refused(request: HttpRequest, err: DomainError) -> HttpResponse:
    if err.status == 403:
        return forbidden(request, err)
    return not_found(request, err.message)


def _group_url(group: WorkingGroup) -> str:
    return reverse("workgroups:group", args=[group.pk])


def _form_page(request: HttpRequest, *, form: Any, title: Any, save: Callable[[dict[str, Any]], Any],
               back: str, group: WorkingGroup | None = None, done: Any = None,
               testid: str = "form", intro: Any = None) -> HttpResponse:
    """A form page: on a valid POST call ``save`` (a service) and go back, else show the form with
    the service's refusal beside its field."""
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = save(form.cleaned_data)
            except DomainError as err:
                if err.status in (403, 404):
                    return _refused(request, err)
                add_domain_errors(form, err)
                status = err.status
            else:
                messages.success(request, done or _("Đã lưu."))
                return redirect(result if isinstance(result, str) else back)
        else:
            status = 400
    return render(request, "workgroups/form.html", {"form": form, "title": title, "back": back,
                                                   "intro": intro, "group": group, "testid": testid},
                  status=status)


@officer_required
def group_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    groups = list(selectors.groups_for(actor)[:500])
    return render(request, "workgroups/list.html", {
        "groups": groups, "can_create": selectors.may_create_groups(actor)})


def _unit_choices(actor: Any) -> list[tuple[str, str]]:
    """The units a province officer may give a group: the province and its communes (a national
    officer types a code instead: the list would have thousands of communes)."""
    if actor.is_national:
        return []
    province = geo.unit_by_pk(actor.jurisdiction_id)
    return [(province.qualified_code, province.name),
            *[(u.qualified_code, f"{u.name}") for u in geo.communes_of(province)]]


@officer_required
def group_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not selectors.may_create_groups(actor):
        return forbidden(request, OutOfJurisdiction(
            "E_ROLE", _("Chỉ công an tỉnh và quản trị Bộ được lập tổ công tác.")))
    form = forms.GroupForm(request.POST or None, units=_unit_choices(actor))

    def save(cd: dict[str, Any]) -> str:
        unit = geo.get_unit(cd["unit"], field="unit")
        return _group_url(services.create_group(actor, unit=unit, name=cd["name"],
                                                decision_ref=cd.get("decision_ref") or ""))

    return _form_page(request, form=form, title=_("Lập tổ công tác"), save=save,
                      back=reverse("workgroups:list"), testid="group-form")


def _group(request: HttpRequest, pk: int, *, manage: bool = False) -> WorkingGroup | HttpResponse:
    try:
        return selectors.get_group(_actor(request), pk, manage=manage)
    except DomainError as err:
        return _refused(request, err)


STATUS_LABELS = {"done": _("Hoàn thành"), "regular": _("Thường xuyên"), "in_progress": _("Đang thực hiện"),
                 "late": _("Trễ hạn")}


@officer_required
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    if isinstance(group, HttpResponse):
        return group
    view = selectors.group_view(_actor(request), group)
    for plan in view.plans:
        for row in plan.rows:
            row.label = STATUS_LABELS[row.status.code]
    counts = [(code, STATUS_LABELS[code], n) for code, n in view.counts.items()]
    return render(request, "workgroups/group.html", {"v": view, "group": group, "counts": counts})


@officer_required
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group(request, pk, manage=True)
    if isinstance(group, HttpResponse):
        return group
    form = forms.GroupForm(request.POST or None,
                           initial={"name": group.name, "decision_ref": group.decision_ref})
    return _form_page(request, form=form, title=_("Sửa tổ công tác"), group=group, back=_group_url(group),
                      save=lambda cd: services.update_group(_actor(request), group, name=cd["name"],
                                                            decision_ref=cd.get("decision_ref") or ""))


@officer_required
def member_form(request: HttpRequest, pk: int, member_id: int | None = None) -> HttpResponse:
    group = _group(request, pk, manage=True)
    if isinstance(group, HttpResponse):
        return group
    member = None
    initial: dict[str, Any] = {}
    if member_id is not None:
        try:
            member = selectors.member_of(group, member_id)
        except DomainError as err:
            return _refused(request, err)
        initial = {"full_name": member.full_name, "position": member.position, "agency": member.agency,
                   "role": member.role, "active": member.active,
                   "username": member.user.get_username() if member.user else ""}
    form = forms.MemberForm(request.POST or None, initial=initial)
    if member is None:  # a new member is active
        del form.fields["active"]

    def save(cd: dict[str, Any]) -> Any:
        return services.save_member(_actor(request), group, member=member, full_name=cd["full_name"],
                                    role=cd["role"], position=cd["position"], agency=cd["agency"],
                                    username=cd["username"], active=cd["active"] if member else True)

    return _form_page(request, form=form, group=group, back=_group_url(group), save=save,
                      title=_("Sửa thành viên") if member else _("Thêm thành viên"), testid="member-form")


@officer_required
def plan_form(request: HttpRequest, pk: int, plan_id: int | None = None) -> HttpResponse:
    group = _group(request, pk, manage=True)
    if isinstance(group, HttpResponse):
        return group
    plan = None
    initial: dict[str, Any] = {"year": timezone.localdate().year}
    if plan_id is not None:
        try:
            plan = selectors.plan_of(group, plan_id)
        except DomainError as err:
            return _refused(request, err)
        initial = {"title": plan.title, "year": plan.year, "reference": plan.reference}
    form = forms.PlanForm(request.POST or None, initial=initial)
    return _form_page(request, form=form, group=group, back=_group_url(group), testid="plan-form",
                      title=_("Sửa kế hoạch") if plan else _("Thêm kế hoạch"),
                      save=lambda cd: services.save_plan(_actor(request), group, plan=plan, title=cd["title"],
                                                         year=cd["year"], reference=cd["reference"]))


TASK_FIELDS = ("kind", "title", "owner_agency", "deadline", "recurring", "target_code", "target_value",
               "target_procedure", "notes")


@officer_required
def task_form(request: HttpRequest, pk: int, plan_id: int | None = None,
              task_id: int | None = None) -> HttpResponse:
    group = _group(request, pk, manage=True)
    if isinstance(group, HttpResponse):
        return group
    task = None
    initial: dict[str, Any] = {}
    try:
        if task_id is not None:
            task = selectors.task_of(group, task_id)
            plan = task.plan
            initial = {f: getattr(task, f) for f in TASK_FIELDS}
            initial["target_value"] = "" if task.target_value is None else str(task.target_value)
        else:
            plan = selectors.plan_of(group, plan_id or 0)
    except DomainError as err:
        return _refused(request, err)
    form = forms.TaskForm(request.POST or None, initial=initial)
    return _form_page(request, form=form, group=group, back=_group_url(group), testid="task-form",
                      title=_("Sửa nhiệm vụ") if task else _("Thêm nhiệm vụ"),
                      save=lambda cd: services.save_task(_actor(request), plan, task=task,
                                                         **{f: cd[f] for f in TASK_FIELDS}))


@officer_required
def task_done(request: HttpRequest, pk: int, task_id: int) -> HttpResponse:
    group = _group(request, pk, manage=True)
    if isinstance(group, HttpResponse):
        return group
    try:
        task = selectors.task_of(group, task_id)
    except DomainError as err:
        return _refused(request, err)
    form = forms.DoneForm(request.POST or None, request.FILES or None)

    def save(cd: dict[str, Any]) -> Any:
        upload = cd.get("attachment")
        return services.mark_done(_actor(request), task, evidence=cd["evidence"],
                                  filename=upload.name if upload else "",
                                  content=upload.read() if upload else None,
                                  content_type=upload.content_type if upload else None)

    return _form_page(request, form=form, group=group, back=_group_url(group), save=save, testid="done-form",
                      title=_("Hoàn thành nhiệm vụ: %(t)s") % {"t": task.title},
                      done=_("Đã ghi nhận hoàn thành nhiệm vụ."))


@officer_required
def task_evidence(request: HttpRequest, pk: int, task_id: int) -> HttpResponse:
    """The evidence file, read through the document store's rule for officers (audited under the
    task's reference)."""
    group = _group(request, pk)
    if isinstance(group, HttpResponse):
        return group
    try:
        task = selectors.task_of(group, task_id)
        if task.evidence_document is None:
            return not_found(request, _("Nhiệm vụ không có tệp minh chứng."))
        document = documents.open_for_officer(_actor(request), task.evidence_document.code,
                                              purpose=services.evidence_reference(task))
    except DomainError as err:
        return _refused(request, err)
    response = HttpResponse(bytes(document.content), content_type=document.media_type)
    response["Content-Disposition"] = f'inline; filename="minh-chung-{task.pk}.{document.extension}"'
    return response


MANUAL_COPIED = ("code", "label", "period_start", "period_end", "unit_label")


@officer_required
def manual_form(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter a figure by hand; ``?dinh-chinh=<id>`` corrects an entry: a new entry of the same
    code and period (the form filled with them), since an entry is never edited."""
    group = _group(request, pk, manage=True)
    if isinstance(group, HttpResponse):
        return group
    initial: dict[str, Any] = {}
    title: Any = _("Nhập số liệu không có nguồn nghiệp vụ")
    intro: Any = None
    corrected = request.GET.get("dinh-chinh", "")
    if corrected:
        try:
            figure = selectors.manual_figure_of(group, int(corrected) if corrected.isdigit() else 0)
        except DomainError as err:
            return _refused(request, err)
        initial = {f: getattr(figure, f) for f in MANUAL_COPIED}
        title = _("Đính chính số liệu: %(label)s") % {"label": figure.label}
        intro = _("Số liệu đã nhập không sửa được. Đính chính là một lần nhập mới cùng mã và kỳ: lần nhập "
                  "mới nhất được dùng trong báo cáo; lần trước vẫn được lưu và hiện là đã bị thay thế "
                  "(giá trị trước: %(value)s, %(who)s nhập).") % {"value": figure.value,
                                                                  "who": figure.entered_by}
    form = forms.ManualFigureForm(request.POST or None, initial=initial)
    return _form_page(request, form=form, group=group, back=_group_url(group), testid="manual-form",
                      title=title, intro=intro,
                      save=lambda cd: services.enter_manual_figure(_actor(request), group, **cd))


@officer_required
def reports(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    if isinstance(group, HttpResponse):
        return group
    actor = _actor(request)
    manage = selectors.can_manage(actor, group)
    form = forms.IssueForm(request.POST or None, initial={"kind": "fifteen_day", "day": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            try:
                report = services.issue_report(actor, group, kind=form.cleaned_data["kind"],
                                               day=form.cleaned_data["day"])
            except DomainError as err:
                if err.status in (403, 404):
                    return _refused(request, err)
                add_domain_errors(form, err)
                status = err.status
            else:
                messages.success(request, _("Đã ban hành báo cáo số %(n)s.") % {"n": report.number})
                return redirect("workgroups:reports", pk=group.pk)
    return render(request, "workgroups/reports.html", {
        "group": group, "form": form, "can_manage": manage,
        "periods": selectors.report_history(group)}, status=status)


@officer_required
def report_correct(request: HttpRequest, pk: int, report_id: int) -> HttpResponse:
    """Issue a corrected report (báo cáo thay thế) of the version shown: its reason required."""
    group = _group(request, pk, manage=True)
    if isinstance(group, HttpResponse):
        return group
    try:
        report = selectors.report_of(group, report_id)
    except DomainError as err:
        return _refused(request, err)
    form = forms.CorrectionForm(request.POST or None)
    intro = _("Báo cáo thay thế lấy lại số liệu và tình hình nhiệm vụ hiện tại của kỳ %(start)s – %(end)s, "
              "được đánh số mới, ghi rõ thay thế bản v%(v)s (số %(number)s) và lý do. Bản v%(v)s vẫn được "
              "lưu nguyên trạng và tải về được.") % {
        "start": f"{report.period_start:%d/%m/%Y}", "end": f"{report.period_end:%d/%m/%Y}",
        "v": report.version, "number": report.number}
    return _form_page(request, form=form, group=group, testid="correct-form", intro=intro,
                      back=reverse("workgroups:reports", args=[group.pk]),
                      title=_("Ban hành báo cáo thay thế số %(number)s (v%(v)s)") % {
                          "number": report.number, "v": report.version},
                      done=_("Đã ban hành báo cáo thay thế."),
                      save=lambda cd: services.issue_correction(_actor(request), group, replaces=report,
                                                                reason=cd["reason"]))


@officer_required
def report_download(request: HttpRequest, pk: int, report_id: int, fmt: str) -> HttpResponse:
    group = _group(request, pk)
    if isinstance(group, HttpResponse):
        return group
    try:
        report, content = selectors.report_file(_actor(request), group, report_id, fmt)
    except DomainError as err:
        if err.status in (403, 404):
            return _refused(request, err)
        return render(request, "403.html", {"message": err.message}, status=err.status)
    response = HttpResponse(content, content_type=selectors.MEDIA[fmt])
    name = f"bao-cao-{report.number.replace('/', '-')}-{report.period_start:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-SHA256"] = getattr(report, f"{fmt}_sha256")
    return response
