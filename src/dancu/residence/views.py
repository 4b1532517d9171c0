"""Residence actions reached from a citizen's page: each a small form calling one
``residence.services`` function, then back to the person's page with a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.forms import add_domain_errors
from dancu.accounts.views import forbidden, not_found, officer_profile, officer_required
from dancu.audit import services as audit
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.population import selectors as population
from dancu.population.models import Citizen
from dancu.population.views import after_write_url, area_context, confirmed_reason, province_param
from dancu.residence import selectors, services
from dancu.residence.forms import (
    AbsenceForm,
    ArrivalForm,
    EndForm,
    PermanentForm,
    RenewForm,
    StayForm,
    TemporaryForm,
)
from dancu.residence.models import Registration, ResidenceKind

Perform = Callable[[Any, Citizen, Registration | None, dict[str, Any]], Registration]
# Who may act: the service's rule, applied before the person is read; returns the registration
Place = Callable[[Any, str, int | None], Registration | None]
FORM_READ_REASON = "Đăng ký/khai báo cư trú"


def _action(request: HttpRequest, personal_id: str, *, form_class: type[forms.Form], title: Any,
            success: Any, perform: Perform, registration_id: int | None = None,
            kinds: tuple[str, ...] = (), area: bool = False,
            place: Place | None = None) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if not actor.can_write:
        return forbidden(request, _("Vai trò của bạn chỉ được xem, không được sửa dữ liệu."))
    registration = None
    read = population.get_citizen_for_arrival if area else population.get_citizen
    # the purpose confirmed for this person, else the form's own (never another person's)
    reason = confirmed_reason(request, personal_id) or FORM_READ_REASON
    try:
        if place is not None:
            # The service's own rule of who may act decides, not the person's current place;
            # applied before the person is read, and a refusal is audited like get_citizen's.
            try:
                registration = place(actor, personal_id, registration_id)
            except DomainError as err:
                name = request.resolver_match.url_name if request.resolver_match else "action"
                audit.record_refusal(actor, f"residence.{name}", err, subject_type="citizen",
                                     subject_id=personal_id[:40], personal_id=personal_id[:12],
                                     reason=reason)
                raise
            read = population.get_citizen_for_arrival
        citizen = read(actor, personal_id, reason=reason)
    except OutOfJurisdiction as err:
        return forbidden(request, err)
    except NotFound as err:
        return not_found(request, err.message)
    except DomainError as err:  # e.g. no permanent residence to declare an absence from
        return forbidden(request, err.message, status=err.status)
    if registration_id is not None:
        registration = selectors.residence_history(citizen).filter(
            pk=registration_id, ended_on__isnull=True, kind__in=kinds).first()
        if registration is None:
            return not_found(request, _("Không tìm thấy đăng ký còn hiệu lực."))
    kwargs: dict[str, Any] = {}
    if area:
        profile = officer_profile(request)
        assert profile is not None  # officer_required
        kwargs = {"jurisdiction": profile.jurisdiction, "province": province_param(request)}
    today = timezone.localdate()
    initial: dict[str, Any] = {k: today for k in ("started_on", "ended_on") if k in form_class.base_fields}
    form = form_class(request.POST or None, initial=initial, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            perform(actor, citizen, registration, form.cleaned_data)
        except DomainError as err:
            add_domain_errors(form, err)
        else:
            messages.success(request, success)
            citizen.refresh_from_db(fields=["current_commune", "current_province"])
            if not actor.covers(citizen.current_commune_id, citizen.current_province_id):
                # e.g. a stay notice: the person still lives elsewhere, their page is not ours
                return redirect("population:search")
            return redirect(after_write_url(request, citizen.personal_id, form.cleaned_data["reason"]))
    ctx = {"form": form, "citizen": citizen, "registration": registration, "title": title,
           **(area_context(request) if area else {})}
    return render(request, "residence/action.html", ctx)


def _registration_place(actor: Any, personal_id: str, registration_id: int | None) -> Registration | None:
    registration = None if registration_id is None else Registration.objects.select_related(
        "commune").filter(pk=registration_id, citizen__personal_id=personal_id,
                          ended_on__isnull=True).first()
    if registration is None:
        raise NotFound("E_REGISTRATION_NOT_FOUND", _("Không tìm thấy đăng ký còn hiệu lực."),
                       "registration")
    services.check_registration_place(actor, registration)
    return registration


def _absence_place(actor: Any, personal_id: str, _registration_id: int | None) -> Registration | None:
    services.check_absence_place(actor, personal_id)
    return None


@officer_required
def register_temporary(request: HttpRequest, personal_id: str) -> HttpResponse:
    def perform(actor: Any, citizen: Citizen, _reg: Registration | None, cd: dict[str, Any]) -> Registration:
        return services.register_temporary(actor, citizen.personal_id, commune=cd["commune"],
                                           address=cd["address"], started_on=cd["started_on"],
                                           expires_on=cd["expires_on"], reason=cd["reason"])

    return _action(request, personal_id, form_class=TemporaryForm, title=_("Đăng ký tạm trú"),
                   success=_("Đã đăng ký tạm trú."), perform=perform, area=True)


@officer_required
def renew_temporary(request: HttpRequest, personal_id: str, registration_id: int) -> HttpResponse:
    def perform(actor: Any, _c: Citizen, reg: Registration | None, cd: dict[str, Any]) -> Registration:
        assert reg is not None  # the registration_id of the URL, found above
        return services.renew_temporary(actor, reg.pk, expires_on=cd["expires_on"], reason=cd["reason"])

    return _action(request, personal_id, form_class=RenewForm, title=_("Gia hạn tạm trú"),
                   success=_("Đã gia hạn tạm trú."), perform=perform, registration_id=registration_id,
                   kinds=(ResidenceKind.TEMPORARY,), place=_registration_place)


@officer_required
def declare_absence(request: HttpRequest, personal_id: str) -> HttpResponse:
    def perform(actor: Any, citizen: Citizen, _reg: Registration | None, cd: dict[str, Any]) -> Registration:
        return services.declare_absence(actor, citizen.personal_id, case=cd["case"],
                                        started_on=cd["started_on"], expires_on=cd["expires_on"],
                                        destination=cd["destination"], reason=cd["reason"])

    return _action(request, personal_id, form_class=AbsenceForm, title=_("Khai báo tạm vắng"),
                   success=_("Đã khai báo tạm vắng."), perform=perform, place=_absence_place)


@officer_required
def notify_stay(request: HttpRequest, personal_id: str) -> HttpResponse:
    def perform(actor: Any, citizen: Citizen, _reg: Registration | None, cd: dict[str, Any]) -> Registration:
        return services.notify_stay(actor, citizen.personal_id, commune=cd["commune"],
                                    address=cd["address"], started_on=cd["started_on"],
                                    ends_on=cd["ends_on"], reason=cd["reason"])

    return _action(request, personal_id, form_class=StayForm, title=_("Thông báo lưu trú"),
                   success=_("Đã ghi nhận thông báo lưu trú."), perform=perform, area=True)


@officer_required
def register_permanent(request: HttpRequest, personal_id: str) -> HttpResponse:
    def perform(actor: Any, citizen: Citizen, _reg: Registration | None, cd: dict[str, Any]) -> Registration:
        return services.register_permanent(actor, citizen.personal_id, commune=cd["commune"],
                                           address=cd["address"], started_on=cd["started_on"],
                                           reason=cd["reason"],
                                           household_number=cd["household_number"].strip() or None,
                                           relationship=cd["relationship"])

    return _action(request, personal_id, form_class=PermanentForm, title=_("Đăng ký thường trú"),
                   success=_("Đã đăng ký thường trú."), perform=perform, area=True)


@officer_required
def end_registration(request: HttpRequest, personal_id: str, registration_id: int) -> HttpResponse:
    def perform(actor: Any, _c: Citizen, reg: Registration | None, cd: dict[str, Any]) -> Registration:
        assert reg is not None  # the registration_id of the URL, found above
        return services.end_registration(actor, reg.pk, ended_on=cd["ended_on"], reason=cd["reason"],
                                         end_reason=cd["end_reason"])

    return _action(request, personal_id, form_class=EndForm, title=_("Kết thúc đăng ký cư trú"),
                   success=_("Đã kết thúc đăng ký cư trú."), perform=perform,
                   registration_id=registration_id, kinds=tuple(ResidenceKind.values),
                   place=_registration_place)


ARRIVAL_ACTIONS = {"permanent": "residence:permanent", "temporary": "residence:temporary",
                   "stay": "residence:stay"}
ARRIVAL_READ_REASON = "Người từ nơi khác đến: đăng ký/khai báo cư trú"


@officer_required
def arrival(request: HttpRequest) -> HttpResponse:
    """From the search page: register the residence of someone coming from another area,
    by the ID number on their card. A malformed or unknown number is shown beside the field."""
    actor = request.actor  # type: ignore[attr-defined]
    if not actor.can_write:
        return forbidden(request, _("Vai trò của bạn chỉ được xem, không được sửa dữ liệu."))
    form = ArrivalForm(request.GET or None)
    if request.GET and form.is_valid():
        personal_id = form.cleaned_data["personal_id"]
        try:  # audited: the look-up by card number, found or not
            population.get_citizen_for_arrival(actor, personal_id, reason=ARRIVAL_READ_REASON)
        except (NotFound, OutOfJurisdiction) as err:
            add_domain_errors(form, err)
        else:
            return redirect(ARRIVAL_ACTIONS[form.cleaned_data["kind"]], personal_id=personal_id)
    return render(request, "residence/arrival.html", {"form": form}, status=400 if form.errors else 200)
