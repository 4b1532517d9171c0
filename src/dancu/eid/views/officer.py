"""The officer console's e-ID pages: look-up, level-2 enrolment, status changes and the SMS
outbox. Thin: parse a form, call ``eid.services`` (writes) or ``eid.selectors`` (reads), render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dancu.accounts.forms import add_domain_errors
from dancu.accounts.views import forbidden, officer_required
from dancu.core.errors import DomainError, OutOfJurisdiction
from dancu.eid import selectors
from dancu.eid.forms import Level2Form, OfficerLookupForm, OutboxFilterForm, StatusForm
from dancu.eid.services import clean_phone
from dancu.eid.services.level2 import enrol_level2
from dancu.eid.services.officer import reinstate_account, revoke_account, suspend_account
from dancu.population.views import REASON_SESSION_KEY as LOOKUP_REASON_KEY  # shared with the console
from dancu.population.views import confirm_reason, confirmed_reason


def _officer_page(request: HttpRequest, personal_id: str, reason: str, *,
                  level2_form: Level2Form | None = None, status_form: StatusForm | None = None,
                  status: int = 200) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    lookup = OfficerLookupForm(initial={"personal_id": personal_id, "reason": reason})
    view = None
    if personal_id:
        try:
            view = selectors.account_for_officer(actor, personal_id, reason=reason)
        except DomainError as err:
            lookup = OfficerLookupForm({"personal_id": personal_id, "reason": reason})
            lookup.is_valid()
            add_domain_errors(lookup, err)
            status = err.status
    return render(request, "eid/officer/lookup.html", {
        "lookup": lookup, "view": view, "reason": reason,
        "level2_form": level2_form or Level2Form(),
        "status_form": status_form or StatusForm(),
        "can_write": actor.can_write,
        # level-2 enrolment for a person without an account or with a level-1 one, not again
        "can_enrol": actor.role == "commune_police" and (view is None or view.account is None
                                                         or view.account.level < 2),
        "is_admin": actor.role == "ministry_admin"}, status=status)


def _officer_reason(request: HttpRequest, personal_id: str = "") -> str:
    """The purpose of reading a person's account: given with the request, else the one confirmed
    for this person (``population.views.confirmed_reason``), else the page's own — never one
    stated for someone else. Without a person, the last stated purpose is offered."""
    given = request.GET.get("reason")
    if personal_id:
        reason = given or confirmed_reason(request, personal_id) or selectors.OFFICER_LOOKUP_REASON
    else:
        reason = given or request.session.get(LOOKUP_REASON_KEY) or selectors.OFFICER_LOOKUP_REASON
    return reason.strip()[:500]


def officer_url(personal_id: str, reason: str) -> str:
    return f"{reverse('eid:officer')}?{urlencode({'personal_id': personal_id, 'reason': reason})}"


@officer_required
def officer_lookup(request: HttpRequest) -> HttpResponse:
    if "personal_id" not in request.GET:
        return _officer_page(request, "", _officer_reason(request))
    form = OfficerLookupForm(request.GET)
    if not form.is_valid():
        return render(request, "eid/officer/lookup.html", {"lookup": form, "view": None}, status=400)
    reason, personal_id = form.cleaned_data["reason"].strip(), form.cleaned_data["personal_id"].strip()
    confirm_reason(request, personal_id, reason)
    return _officer_page(request, personal_id, reason)


@require_POST
@officer_required
def officer_level2(request: HttpRequest, personal_id: str) -> HttpResponse:
    form = Level2Form(request.POST)
    reason = _officer_reason(request, personal_id)
    if form.is_valid():
        cd = form.cleaned_data
        try:
            enrol_level2(request.actor, personal_id, card_checked=cd["card_checked"],  # type: ignore[attr-defined]
                         device_reference=cd["device_reference"],
                         capture_reference=cd["capture_reference"], phone=cd["phone"],
                         on_request=cd["on_request"])
        except DomainError as err:
            add_domain_errors(form, err)
            return _officer_page(request, personal_id, reason, level2_form=form, status=err.status)
        messages.success(request, _("Đã nâng tài khoản định danh điện tử lên mức 2."))
        return redirect(officer_url(personal_id, reason))
    return _officer_page(request, personal_id, reason, level2_form=form, status=400)


_STATUS_SERVICES = {"suspend": (suspend_account, _("Đã tạm dừng tài khoản.")),
                    "reinstate": (reinstate_account, _("Đã khôi phục tài khoản.")),
                    "revoke": (revoke_account, _("Đã thu hồi tài khoản."))}


@require_POST
@officer_required
def officer_status(request: HttpRequest, personal_id: str) -> HttpResponse:
    form = StatusForm(request.POST)
    reason = _officer_reason(request, personal_id)
    if form.is_valid():
        service, done = _STATUS_SERVICES[form.cleaned_data["action"]]
        try:
            service(request.actor, personal_id, reason=form.cleaned_data["reason"])  # type: ignore[attr-defined]
        except DomainError as err:
            add_domain_errors(form, err)
            return _officer_page(request, personal_id, reason, status_form=form, status=err.status)
        messages.success(request, done)
        return redirect(officer_url(personal_id, reason))
    return _officer_page(request, personal_id, reason, status_form=form, status=400)


@officer_required
def outbox(request: HttpRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET or None)
    phone, last, rows = "", 50, None
    if form.is_bound and form.is_valid():
        last = form.cleaned_data.get("last") or 50
        try:
            phone = clean_phone(form.cleaned_data["phone"]) if form.cleaned_data["phone"] else ""
        except DomainError as err:
            add_domain_errors(form, err)
    if not form.errors:
        try:
            rows = selectors.outbox(request.actor, phone=phone, last=last)  # type: ignore[attr-defined]
        except OutOfJurisdiction as err:
            return forbidden(request, err)
    return render(request, "eid/officer/outbox.html", {"form": form, "rows": rows},
                  status=400 if form.errors else 200)
