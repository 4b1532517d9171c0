"""The citizen portal's pages: catalog, procedure, application form, receipt and payment, my
dossiers, dossier (supplement, result, rating, feedback), inbox. Thin: forms parse, the
publicservices / documents / payments services decide and write."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dancu.core.errors import DomainError
from dancu.publicservices.models import STEP_NAMES, Status
from dancu.publicservices.portal import auth, bridge, queries
from dancu.publicservices.portal.forms import (
    ACTION_LABELS,
    CHOICE_LABELS,
    ActingForm,
    CorrectionForm,
    FeedbackForm,
    RatingForm,
    SchemaForm,
    SupplementForm,
    label_of,
)


def _ctx(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = auth.current(request)
    unread = queries.unread_count(user.personal_id) if user else 0
    return {"portal_user": user, "unread_count": unread, "lang": get_language(), **extra}


def _user(request: HttpRequest) -> auth.PortalUser:
    return request.portal_user  # type: ignore[attr-defined]


def _citizen(request: HttpRequest) -> Any:
    """The signed-in citizen's registry record, read once per request (a page that checks the
    dossier is theirs and then shows their documents asks twice)."""
    citizen = getattr(request, "_portal_citizen", None)
    if citizen is None:
        citizen = queries.citizen(_user(request).personal_id)
        if citizen is None:
            raise Http404
        request._portal_citizen = citizen  # type: ignore[attr-defined]
    return citizen


# ---- catalog ---------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()[:100]
    procedures = queries.catalog(query)
    return render(request, "publicservices/portal/home.html", _ctx(request, procedures=procedures, q=query))


def procedure(request: HttpRequest, slug: str) -> HttpResponse:
    proc = queries.procedure(slug)
    if proc is None:
        raise Http404
    return render(request, "publicservices/portal/procedure.html", _ctx(request, proc=proc))


# ---- the application -------------------------------------------------------------------------


def _components(proc: Any, citizen: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    reusable = bridge.reusable_documents(citizen)
    return list(proc.components or []), reusable


def _add_domain_error(exc: DomainError, forms_by_field: dict[str, Any], fallback: list[dict[str, str]],
                      file_errors: dict[str, str]) -> None:
    """Each error of the service beside its field: a form field, an attachment, else on top."""
    for err in exc.errors:
        field = (err.field or "").removeprefix("data.")
        target = forms_by_field.get(field)
        if field.startswith("components."):
            file_errors[field.removeprefix("components.")] = str(err.message)
        elif target is not None:
            target.add_error(field, str(err.message))
        else:
            fallback.append({"field": err.field or "", "code": err.code, "message": str(err.message)})


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, slug: str) -> HttpResponse:
    proc = queries.procedure(slug)
    if proc is None:
        raise Http404
    user = auth.current(request)
    if user is None or user.loa < proc.min_loa:  # sign-in (or a step-up) at the level it needs
        return HttpResponseRedirect(auth.login_url(request.get_full_path(), proc.min_loa))
    request.portal_user = user  # type: ignore[attr-defined]
    citizen = _citizen(request)
    prefill = bridge.prefill(proc, citizen)
    components, reusable = _components(proc, citizen)
    errors: list[dict[str, str]] = []
    file_errors: dict[str, str] = {}
    if request.method == "POST":
        data_form = SchemaForm(proc.form_schema, proc.registry_fields, request.POST)
        acting = ActingForm(request.POST)
        key = (request.POST.get("idempotency_key") or "")[:80]
        done = queries.dossier_by_key(citizen, key) if key else None
        if done is not None:  # a double click: the dossier the first click made
            return HttpResponseRedirect(reverse("portal:receipt", args=[done.code]))
        forged = sorted(k.removeprefix("data-") for k in request.POST
                        if k.removeprefix("data-") in (proc.registry_fields or []))
        if forged:  # data the registry holds is never taken from the client
            errors.append({"field": forged[0], "code": "E_REGISTRY_FIELD",
                           "message": _("Thông tin này lấy từ Cơ sở dữ liệu quốc gia về dân cư, không "
                                        "nhận từ người nộp: %(f)s") % {"f": ", ".join(forged)}})
        if data_form.is_valid() and acting.is_valid() and not errors:
            try:
                with transaction.atomic():  # the uploads and the dossier: both or neither
                    chosen = bridge.collect_components(user.actor(request), citizen, components, request,
                                                       file_errors)
                    if file_errors:
                        raise bridge.FilesRefused
                    dossier = bridge.submit(user.actor(request), proc, citizen, acting.cleaned_data,
                                            data_form.as_data(), chosen, key, user.loa)
            except bridge.FilesRefused:
                pass
            except DomainError as exc:
                _add_domain_error(exc, {**{f: data_form for f in data_form.fields},
                                        **{f: acting for f in acting.fields}}, errors, file_errors)
            else:
                return HttpResponseRedirect(reverse("portal:receipt", args=[dossier.code]))
        status = 400
    else:
        data_form = SchemaForm(proc.form_schema, proc.registry_fields)
        acting = ActingForm()
        key = uuid.uuid4().hex
        status = 200
    registry_rows = [(name, label_of(name), _display(prefill.get(name), name))
                     for name in (proc.registry_fields or [])]
    return render(request, "publicservices/portal/apply.html", _ctx(
        request, proc=proc, data_form=data_form, acting=acting, registry_rows=registry_rows,
        open_corrections=bridge.open_correction_fields(citizen),
        components=[{**c, "error": file_errors.get(c["key"], "")} for c in components], reusable=reusable,
        errors=errors,
        idempotency_key=key), status=status)


def _display(value: Any, name: str = "") -> str:
    if value is None or value == "":
        return "—"
    if name == "sex" and value in CHOICE_LABELS:
        return str(CHOICE_LABELS[value])
    if isinstance(value, dict):
        return str(value.get("address") or value.get("formatted") or value.get("name")
                   or ", ".join(str(v) for v in value.values() if v))
    return str(value)


@require_POST
@auth.citizen_required
def report_error(request: HttpRequest, slug: str) -> HttpResponse:
    """"Báo sai": a registry field the citizen says is wrong becomes a correction request
    (``services.corrections``); a refusal is a 4xx page naming the field, nothing written."""
    proc = queries.procedure(slug)
    if proc is None:
        raise Http404
    form = CorrectionForm(request.POST)
    back = reverse("portal:apply", args=[slug])
    if not form.is_valid():
        errors = [{"field": name, "code": "E_INVALID", "message": str(msgs[0])}
                  for name, msgs in form.errors.items()]
        return render(request, "publicservices/portal/correction_refused.html",
                      _ctx(request, errors=errors, back=back), status=400)
    try:
        bridge.report_error(_user(request).actor(request), proc, _citizen(request),
                            form.cleaned_data["field"], form.cleaned_data["proposed_value"],
                            form.cleaned_data["note"])
    except DomainError as exc:
        errors = [{"field": e.field or "", "code": e.code, "message": str(e.message)} for e in exc.errors]
        return render(request, "publicservices/portal/correction_refused.html",
                      _ctx(request, errors=errors, back=back), status=exc.status)
    messages.success(request, _("Đã gửi đề nghị điều chỉnh thông tin. Cơ quan công an sẽ kiểm tra và "
                                "cập nhật; bạn nhận được thông báo khi có kết quả."))
    return HttpResponseRedirect(back)


# ---- after submission ------------------------------------------------------------------------


def _own_dossier(request: HttpRequest, code: str) -> Any:
    dossier = bridge.dossier_for_citizen(_citizen(request), code)
    if dossier is None:
        raise Http404
    return dossier


@auth.citizen_required
def receipt(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _own_dossier(request, code)
    return render(request, "publicservices/portal/receipt.html", _ctx(request, dossier=dossier))


@require_POST
@auth.citizen_required
def pay(request: HttpRequest, code: str) -> HttpResponse:
    dossier = _own_dossier(request, code)
    if dossier.paid or not dossier.fee_vnd:
        return HttpResponseRedirect(reverse("portal:dossier", args=[code]))
    try:
        url = bridge.start_payment(_user(request).actor(request), dossier, _citizen(request),
                                   request.build_absolute_uri(reverse("portal:paid", args=[code])))
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(reverse("portal:dossier", args=[code]))
    return HttpResponseRedirect(url)


@auth.citizen_required
def paid(request: HttpRequest, code: str) -> HttpResponse:
    """Where the payment flow brings the citizen back: the dossier's payment state."""
    dossier = _own_dossier(request, code)
    txn = request.GET.get("payment", "")
    txn = txn if txn.isalnum() and len(txn) <= 40 else ""  # the payment's receipt (payments' own page)
    return render(request, "publicservices/portal/paid.html", _ctx(request, dossier=dossier, txn=txn))


@auth.citizen_required
def dossiers(request: HttpRequest) -> HttpResponse:
    rows = bridge.dossiers_of(_citizen(request))
    return render(request, "publicservices/portal/dossiers.html", _ctx(request, dossiers=rows))


@require_http_methods(["GET", "POST"])
@auth.citizen_required
def dossier(request: HttpRequest, code: str) -> HttpResponse:
    item = _own_dossier(request, code)
    citizen = _citizen(request)
    actor = _user(request).actor(request)
    supplement, rating, feedback = SupplementForm(), RatingForm(), FeedbackForm()
    status = 200
    file_errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "supplement":
                supplement = SupplementForm(request.POST)
                if supplement.is_valid():
                    with transaction.atomic():
                        comps = list(item.procedure.components or [])
                        chosen = bridge.collect_components(actor, citizen, comps, request, file_errors,
                                                           all_optional=True)
                        if file_errors:
                            raise bridge.FilesRefused
                        bridge.answer_supplement(actor, item, supplement.cleaned_data["note"], chosen)
                    messages.success(request, _("Đã gửi bổ sung hồ sơ."))
                    return HttpResponseRedirect(reverse("portal:dossier", args=[code]))
            elif action == "rate":
                rating = RatingForm(request.POST)
                if rating.is_valid():
                    bridge.rate(actor, item, rating.cleaned_data["rating"])
                    messages.success(request, _("Cảm ơn bạn đã đánh giá."))
                    return HttpResponseRedirect(reverse("portal:dossier", args=[code]))
            elif action == "feedback":
                feedback = FeedbackForm(request.POST)
                if feedback.is_valid():
                    bridge.feedback(actor, item, feedback.cleaned_data["kind"], feedback.cleaned_data["text"])
                    messages.success(request, _("Đã gửi ý kiến của bạn."))
                    return HttpResponseRedirect(reverse("portal:dossier", args=[code]))
        except bridge.FilesRefused:
            pass
        except DomainError as exc:
            target = {"supplement": supplement, "rate": rating, "feedback": feedback}.get(action or "")
            if target is not None:
                name = exc.field if exc.field in target.fields else None
                target.add_error(name, str(exc.message))
        status = 400
    return render(request, "publicservices/portal/dossier.html", _ctx(
        request, dossier=item, events=[(e, ACTION_LABELS.get(e.action, e.action), Status(e.to_status).label
                                        if e.to_status in Status.values else e.to_status,
                                        STEP_NAMES.get(e.note, e.note))
                                       for e in bridge.events_of(item)], supplement=supplement, rating=rating,
        feedback=feedback, components=[{**c, "error": file_errors.get(c["key"], "")}
                                       for c in item.procedure.components or []],
        reusable=bridge.reusable_documents(citizen), result=bridge.result_of(item),
        steps=bridge.steps_of(item)), status=status)


@auth.citizen_required
def result(request: HttpRequest, code: str) -> HttpResponse:
    item = _own_dossier(request, code)
    document = bridge.result_of(item)
    if document is None:
        raise Http404
    response = HttpResponse(bytes(document.content), content_type=document.media_type)
    response["Content-Disposition"] = f'attachment; filename="{item.code}.pdf"'
    return response


@auth.citizen_required
def inbox(request: HttpRequest) -> HttpResponse:
    citizen = _citizen(request)
    items = list(bridge.notifications_of(citizen))
    response = render(request, "publicservices/portal/inbox.html", _ctx(
        request, notifications=items, corrections=bridge.corrections_of(citizen)))
    bridge.mark_read(_user(request).actor(request))
    return response
