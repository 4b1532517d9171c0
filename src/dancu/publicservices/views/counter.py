"""The one-stop counter and officer processing pages (``/mot-cua/``).

Thin, like the rest of the console: parse a form, call ``publicservices.services`` (every write:
assign, accept, request a supplement, refuse, approve, hand over, submit at the counter) or a
selector (the queue, a dossier read under jurisdiction and audited), render. Refusals come from
the services (jurisdiction, role), which audit them; the pages show their message with the
service's status (403 outside the area or role, 400/409 for a rule).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from dancu.accounts.forms import add_domain_errors
from dancu.accounts.views import forbidden, not_found, officer_required
from dancu.core.errors import DomainError
from dancu.population.models import MaritalStatus, Sex
from dancu.publicservices import counter_selectors as cs
from dancu.publicservices import services
from dancu.publicservices.counter_forms import (
    SORTS,
    STATUS_OPEN,
    AssignForm,
    IntakeForm,
    IntakeStartForm,
    NoteForm,
    QueueFilterForm,
)
from dancu.publicservices.models import STEP_NAMES, Channel, Relation, Status
from dancu.publicservices.services.counter import submit_at_counter

PAGE_SIZE = 25
CHANNELS: dict[str, Any] = dict(Channel.choices)
# Who may use the counter pages at all: the officers who receive or decide dossiers, and the
# read-only roles (auditors see the queue and dossiers; every action refuses them).
COUNTER_ROLES = frozenset({"counter", "commune_police", "commune_justice", "province_police",
                           "ministry_admin", "auditor"})
INTAKE_ROLES = frozenset({"counter", "commune_police", "commune_justice"})
INTAKE_REASON = _("Tiếp nhận hồ sơ tại bộ phận một cửa")

ACTION_LABELS: dict[str, Any] = {
    "submitted": _("Nộp hồ sơ"), "assigned": _("Phân công"), "accepted": _("Tiếp nhận"),
    "supplement_requested": _("Yêu cầu bổ sung"), "supplemented": _("Bổ sung hồ sơ"),
    "refused": _("Từ chối"), "approved": _("Phê duyệt"), "paid": _("Đã nộp phí, lệ phí"),
    "handed_over": _("Trả kết quả"), "withdrawn": _("Rút hồ sơ"), "rated": _("Đánh giá"),
    "step_done": _("Một bước đã xong"), "step_refused": _("Một bước bị từ chối"),
}
FIELD_LABELS: dict[str, Any] = {
    "commune": _("Xã/phường (mã 2025, ví dụ 2025:00097)"), "address": _("Địa chỉ"),
    "started_on": _("Từ ngày"), "ends_on": _("Đến ngày"), "expires_on": _("Đến ngày"),
    "housing": _("Chỗ ở"), "host_personal_id": _("Số định danh chủ hộ/chủ nhà"),
    "household_number": _("Số hộ"), "relationship": _("Quan hệ với chủ hộ"),
    "reason": _("Lý do"), "destination": _("Nơi đến"), "absence_case": _("Trường hợp tạm vắng"),
    "full_name": _("Họ và tên"), "birth_date": _("Ngày sinh"), "sex": _("Giới tính"),
    "death_date": _("Ngày chết"), "spouse_personal_id": _("Số định danh vợ/chồng"),
    "purpose": _("Mục đích"), "child_full_name": _("Họ và tên trẻ"),
    "personal_id": _("Số định danh"), "old_id_number": _("Số CMND cũ"),
    "marital_status": _("Tình trạng hôn nhân"), "permanent_address": _("Nơi thường trú"),
    "current_address": _("Nơi ở hiện tại"), "temporary_residence": _("Tạm trú"),
    "child_birth_date": _("Ngày sinh của trẻ"), "child_sex": _("Giới tính của trẻ"),
    "child_ethnicity": _("Dân tộc của trẻ"), "other_parent_personal_id": _("Số định danh cha/mẹ còn lại"),
    "death_place": _("Nơi chết"), "payee_relationship": _("Quan hệ của người nhận trợ cấp"),
    "payee_bank_account": _("Tài khoản nhận trợ cấp"),
}
CHOICES: dict[str, dict[str, Any]] = {"sex": dict(Sex.choices), "marital_status": dict(MaritalStatus.choices),
                                      "relation": dict(Relation.choices), "child_sex": dict(Sex.choices)}


def _rows(values: dict[str, Any]) -> list[tuple[Any, Any]]:
    """A dossier's entered data or registry snapshot as label/value rows: labels translated,
    codes by their names, ISO dates as dd/mm/yyyy, nested values flattened."""
    rows = []
    for key, value in (values or {}).items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, dict):
            value = value.get("address") or ", ".join(f"{v}" for v in value.values() if v)
        elif key in CHOICES:
            value = CHOICES[key].get(value, value)
        elif isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            value = f"{value[8:]}/{value[5:7]}/{value[:4]}"
        elif isinstance(value, bool):
            value = pgettext_lazy("dossier data", "Có") if value else pgettext_lazy("dossier data", "Không")
        rows.append((FIELD_LABELS.get(key, key), value))
    return rows


def _actor(request: HttpRequest) -> Any:
    return request.actor  # type: ignore[attr-defined]


def _refused(request: HttpRequest, err: DomainError) -> HttpResponse:
    """A service's refusal as a page: 403 (audited by the service) or the error's own status."""
    if err.status == 403:
        return forbidden(request, err)
    if err.status == 404:
        return not_found(request, err.message)
    messages.error(request, str(err.message))
    return render(request, "publicservices/counter/refused.html", {"error": err}, status=err.status)


# --- the queue ------------------------------------------------------------------------------

def _queue_form(request: HttpRequest) -> QueueFilterForm:
    lang_en = translation.get_language() == "en"
    return QueueFilterForm(
        request.GET or None, statuses=list(Status.choices),
        procedures=[(p.code, f"{p.code} · {p.name_en if lang_en else p.name_vi}")
                    for p in cs.procedures()],
        channels=list(Channel.choices),
        initial={"status": STATUS_OPEN, "sort": "due"})


@officer_required(roles=COUNTER_ROLES)
def queue(request: HttpRequest) -> HttpResponse:
    form = _queue_form(request)
    if request.GET and not form.is_valid():
        return render(request, "publicservices/counter/queue.html",
                      {"form": form, "page": None}, status=400)
    cd = form.cleaned_data if request.GET else {}
    filters = cs.QueueFilters(
        status=cd.get("status") or STATUS_OPEN, procedure=cd.get("procedure") or "",
        channel=cd.get("channel") or "", flag=cd.get("flag") or "", mine=bool(cd.get("mine")))
    sort = cd.get("sort") or "due"
    number = cd.get("page") or 1
    try:
        page = cs.queue(_actor(request), filters, sort=sort, page=number, page_size=PAGE_SIZE)
    except DomainError as err:
        return _refused(request, err)
    # The rows' cells as text, built here once (the template only prints them: per-row
    # template tags — url, date filters, choice labels — were a quarter of the page's CPU).
    lang_en = translation.get_language() == "en"
    statuses, tz = dict(Status.choices), timezone.get_current_timezone()
    prefix = reverse("counter:queue") + "ho-so/"
    cells = [{
        "code": r.dossier.code, "url": f"{prefix}{r.dossier.code}/", "applicant": r.applicant_name,
        "procedure_code": r.procedure_code,
        "procedure": r.procedure_name_en if lang_en else r.procedure_name_vi,
        "status": statuses.get(r.dossier.status, r.dossier.status),
        "due": r.dossier.due_on.strftime("%d/%m/%Y"),
        "submitted": r.dossier.submitted_at.astimezone(tz).strftime("%d/%m/%Y %H:%M"),
        "channel": CHANNELS.get(r.dossier.channel, r.dossier.channel), "flag": r.flag,
    } for r in page.rows]
    ctx: dict[str, Any] = {"form": form, "page": page, "cells": cells, "sort_labels": SORTS, "sort": sort,
                           "step_rows": cs.step_queue(_actor(request)),
                           # the flags' words, translated once per page (not per row)
                           "flag_overdue": _("Quá hạn"), "flag_due_soon": _("Sắp đến hạn"),
                           "flag_paused": _("Tạm dừng (chờ bổ sung)")}
    params = request.GET.copy()
    if page.number > 1:
        params["page"] = str(page.number - 1)
        ctx["prev_url"] = "?" + params.urlencode()
    if page.has_next:
        params["page"] = str(page.number + 1)
        ctx["next_url"] = "?" + params.urlencode()
    for key in SORTS:
        params["sort"], params["page"] = key, "1"
        ctx[f"sort_url_{key}"] = "?" + params.urlencode()
    return render(request, "publicservices/counter/queue.html", ctx)


# --- a dossier ------------------------------------------------------------------------------

def _dossier_page(request: HttpRequest, code: str, *, status: int = 200,
                  forms: dict[str, Any] | None = None) -> HttpResponse:
    actor = _actor(request)
    try:
        view = cs.dossier_for_officer(actor, code)
    except DomainError as err:
        return _refused(request, err)
    d = view.dossier
    lang_en = translation.get_language() == "en"
    forms = forms or {}
    ctx = {
        "view": view, "d": d, "procedure_name": d.procedure.name_en if lang_en else d.procedure.name_vi,
        "events": [(e, ACTION_LABELS.get(e.action, e.action),
                    CHANNELS.get(e.note, e.note) if e.action == "submitted"
                    else STEP_NAMES.get(e.note, e.note))
                   for e in view.events],
        "data_rows": _rows(d.data), "registry_rows": _rows(d.registry_data),
        "status_labels": dict(Status.choices),
        "can": cs.allowed_actions(actor, d, bundle=bool(view.steps)),
        "step_refuse_form": forms.get("step_refuse") or NoteForm(
            required=True, label=_("Lý do từ chối bước này"), prefix="step"),
        "assign_form": forms.get("assign") or AssignForm(officers=cs.assignable_officers(d)),
        "supplement_form": forms.get("supplement") or NoteForm(
            required=True, label=_("Nội dung cần bổ sung"), prefix="supplement"),
        "refuse_form": forms.get("refuse") or NoteForm(required=True, label=_("Lý do từ chối"),
                                                       prefix="refuse"),
    }
    return render(request, "publicservices/counter/dossier.html", ctx, status=status)


@officer_required(roles=COUNTER_ROLES)
def dossier(request: HttpRequest, code: str) -> HttpResponse:
    return _dossier_page(request, code)


@officer_required(roles=COUNTER_ROLES)
def component(request: HttpRequest, code: str, component_id: int) -> HttpResponseBase:
    """One component of a dossier (the scan or upload), inline or as a download."""
    try:
        doc = cs.component_document(_actor(request), code, component_id)
    except DomainError as err:
        return _refused(request, err)
    response = HttpResponse(bytes(doc.content), content_type=doc.media_type)
    disposition = "attachment" if "download" in request.GET else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{cs.download_name(doc)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _after(request: HttpRequest, code: str, done: Any) -> HttpResponse:
    messages.success(request, done)
    return redirect("counter:dossier", code=code)


@require_POST
@officer_required(roles=COUNTER_ROLES)
def act(request: HttpRequest, code: str, action: str) -> HttpResponse:
    """One action on a dossier, through its service (which checks role and area under the
    dossier's lock, records the event and the audit, and audits a refusal)."""
    actor = _actor(request)
    code = code[:20]
    try:
        if action == "assign":
            if request.POST.get("to") == "me":
                services.assign(actor, code)
                return _after(request, code, _("Đã nhận xử lý hồ sơ."))
            form = AssignForm(request.POST, officers=cs.assignable_officers_for(actor, code))
            if not form.is_valid():
                return _dossier_page(request, code, status=400, forms={"assign": form})
            services.assign(actor, code, to_username=form.cleaned_data["officer"])
            return _after(request, code, _("Đã phân công hồ sơ."))
        if action == "accept":
            services.accept(actor, code)
            return _after(request, code, _("Đã tiếp nhận hồ sơ."))
        if action == "supplement":
            note = NoteForm(request.POST, required=True, label=_("Nội dung cần bổ sung"),
                            prefix="supplement")
            if not note.is_valid():
                return _dossier_page(request, code, status=400, forms={"supplement": note})
            services.request_supplement(actor, code, note=note.cleaned_data["note"])
            return _after(request, code, _("Đã yêu cầu bổ sung; thời hạn giải quyết tạm dừng."))
        if action == "refuse":
            reason = NoteForm(request.POST, required=True, label=_("Lý do từ chối"), prefix="refuse")
            if not reason.is_valid():
                return _dossier_page(request, code, status=400, forms={"refuse": reason})
            services.refuse(actor, code, reason=reason.cleaned_data["note"])
            return _after(request, code, _("Đã từ chối hồ sơ."))
        if action == "approve":
            services.approve(actor, code)
            return _after(request, code, _("Đã phê duyệt hồ sơ; kết quả đã được ghi vào cơ sở dữ liệu."))
        if action == "paid":
            services.paid_at_counter(actor, code)
            return _after(request, code, _("Đã ghi nhận nộp phí, lệ phí tại quầy."))
        if action == "handover":
            services.hand_over(actor, code)
            return _after(request, code, _("Đã trả kết quả cho công dân."))
    except DomainError as err:
        return _refused(request, err)
    return not_found(request, _("Không có thao tác này."))


@require_POST
@officer_required(roles=COUNTER_ROLES)
def step_decision(request: HttpRequest, code: str, key: str) -> HttpResponse:
    """The officer's decision on their step of an interconnected dossier (``flows.decide_step``:
    role of the step's agency and area under the dossier's lock; a replay is refused)."""
    actor = _actor(request)
    code = code[:20]
    try:
        if request.POST.get("decision") == "approve":
            services.decide_step(actor, code, key[:40], approve=True)
            return _after(request, code, _("Đã giải quyết bước; kết quả đã được ghi vào cơ sở dữ liệu."))
        reason = NoteForm(request.POST, required=True, label=_("Lý do từ chối bước này"), prefix="step")
        if not reason.is_valid():
            return _dossier_page(request, code, status=400, forms={"step_refuse": reason})
        services.decide_step(actor, code, key[:40], approve=False, reason=reason.cleaned_data["note"])
        return _after(request, code, _("Đã từ chối bước này; công dân được thông báo lý do."))
    except DomainError as err:
        return _refused(request, err)


# --- intake of a paper dossier at the counter -----------------------------------------------

def _procedure_choices() -> list[tuple[str, str]]:
    lang_en = translation.get_language() == "en"
    return [(p.code, f"{p.code} · {p.name_en if lang_en else p.name_vi}") for p in cs.procedures()]


def _intake_form(procedure: Any, data: Any = None, files: Any = None, initial: Any = None) -> IntakeForm:
    form = IntakeForm(data, files, procedure=procedure, relations=list(Relation.choices),
                      lang_en=translation.get_language() == "en", initial=initial)
    for name in form.data_fields:
        field = form.fields[f"data__{name}"]
        if field.label == name and name in FIELD_LABELS:
            field.label = FIELD_LABELS[name]
    return form


@officer_required(roles=INTAKE_ROLES)
def intake(request: HttpRequest) -> HttpResponse:
    """Step 1 (GET without a person): choose the procedure and find the applicant by ID number,
    with the purpose of the look-up (audited). Step 2 (GET with them): the person found, the
    form and the scans. POST: submit through the service, channel "counter" → the receipt."""
    actor = _actor(request)
    source = request.POST if request.method == "POST" else request.GET
    start = IntakeStartForm(source if "personal_id" in source else None, procedures=_procedure_choices(),
                            initial={"reason": INTAKE_REASON})
    if "personal_id" not in source:
        return render(request, "publicservices/counter/intake.html", {"start": start})
    if not start.is_valid():
        return render(request, "publicservices/counter/intake.html", {"start": start}, status=400)
    sd = start.cleaned_data
    procedure = cs.procedure_by_code(sd["procedure"])
    try:
        applicant = cs.applicant_for_intake(actor, sd["personal_id"], reason=sd["reason"].strip())
    except DomainError as err:
        add_domain_errors(start, err)
        return render(request, "publicservices/counter/intake.html", {"start": start},
                      status=err.status)
    ctx: dict[str, Any] = {"start": start, "procedure": procedure, "applicant": applicant,
                           "procedure_name": procedure.name_en if translation.get_language() == "en"
                           else procedure.name_vi}
    if request.method != "POST":
        initial: dict[str, str] = {"relation": str(Relation.SELF)}
        if "commune" in (procedure.form_schema or {}).get("properties", {}) and actor.jurisdiction_id:
            initial["data__commune"] = cs.commune_code(actor.jurisdiction_id)
        ctx["form"] = _intake_form(procedure, initial=initial)
        return render(request, "publicservices/counter/intake.html", ctx)
    form = _intake_form(procedure, request.POST, request.FILES)
    ctx["form"] = form
    if not form.is_valid():
        return render(request, "publicservices/counter/intake.html", ctx, status=400)
    try:
        d = submit_at_counter(
            actor, procedure_code=procedure.code, applicant_personal_id=applicant.personal_id,
            subject_personal_id=form.cleaned_data.get("subject_personal_id") or None,
            relation=form.cleaned_data["relation"], data=form.data_dict(),
            files={key: form.cleaned_data.get(f"file__{key}") for key in form.component_fields})
    except DomainError as err:
        add_domain_errors(form, err, field_map={
            **{n: f"data__{n}" for n in form.data_fields},
            **{k: f"file__{k}" for k in form.component_fields},
            **{f"components.{k}": f"file__{k}" for k in form.component_fields}})
        if err.status == 403:
            return forbidden(request, err)
        return render(request, "publicservices/counter/intake.html", ctx, status=err.status)
    return redirect("counter:receipt", code=d.code)


@officer_required(roles=COUNTER_ROLES)
def receipt(request: HttpRequest, code: str) -> HttpResponse:
    """The receipt (giấy tiếp nhận hồ sơ và hẹn trả kết quả) to print for the applicant."""
    try:
        view = cs.dossier_for_officer(_actor(request), code)
    except DomainError as err:
        return _refused(request, err)
    lang_en = translation.get_language() == "en"
    return render(request, "publicservices/counter/receipt.html", {
        "view": view, "d": view.dossier,
        "procedure_name": view.dossier.procedure.name_en if lang_en else view.dossier.procedure.name_vi})


def queue_url(**params: str) -> str:
    return f"{reverse('counter:queue')}?{urlencode(params)}" if params else reverse("counter:queue")

