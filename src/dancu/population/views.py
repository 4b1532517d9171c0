"""Officer console pages of the citizen record: search, a person's page, registration and
correction. Thin: parse a form, call a selector or service, render. Every read of a person
goes through the audited selectors with the officer's stated purpose (lý do tra cứu)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.accounts.forms import add_domain_errors
from dancu.accounts.views import forbidden, not_found, officer_profile, officer_required
from dancu.audit.models import Source
from dancu.audit.selectors import history_of
from dancu.audit.services import record_refusal
from dancu.core.errors import DomainError, NotFound, OutOfJurisdiction
from dancu.core.reference import ETHNICITIES, RELIGIONS
from dancu.geo import selectors as geo
from dancu.population import selectors, services
from dancu.population.forms import (
    CitizenCorrectForm,
    CitizenCreateForm,
    LookupReasonForm,
    SearchForm,
    province_choices,
)
from dancu.population.models import LifeStatus, MaritalStatus, Sex
from dancu.population.validation import clean_citizen
from dancu.residence import selectors as residence
from dancu.residence import services as residence_services
from dancu.residence.models import AbsenceCase, Relationship, ResidenceKind

# The look-up purpose stated last in this session: offered (pre-filled) when the next person is
# opened, never applied without the officer confirming it for that person.
REASON_SESSION_KEY = "dancu_lookup_reason"
# The purpose confirmed for each person opened this session ({personal_id: purpose}): reopening
# that person (back from a correction, another language) reads under it without asking again.
CONFIRMED_SESSION_KEY = "dancu_lookup_confirmed"
MAX_CONFIRMED = 200

FIELD_LABELS: dict[str, Any] = {
    "personal_id": _("Số định danh"), "full_name": _("Họ và tên"), "birth_date": _("Ngày sinh"),
    "sex": _("Giới tính"), "ethnicity": _("Dân tộc"), "religion": _("Tôn giáo"),
    "nationality": _("Quốc tịch"), "birth_registration_unit": _("Nơi đăng ký khai sinh"),
    "origin_unit": _("Quê quán"), "marital_status": _("Tình trạng hôn nhân"),
    "life_status": _("Tình trạng"), "death_date": _("Ngày chết"), "old_id_number": _("Số CMND cũ"),
    "father_id": _("Cha"), "mother_id": _("Mẹ"), "spouse_id": _("Vợ/chồng"),
    "current_commune": _("Nơi ở hiện tại"),
    # residence registrations and households
    "kind": _("Loại đăng ký"), "commune": _("Xã/phường"), "address": _("Địa chỉ"),
    "household": _("Số hộ"), "number": _("Số hộ"), "head": _("Chủ hộ"),
    "started_on": _("Từ ngày"), "expires_on": _("Đến ngày"), "ended_on": _("Ngày kết thúc"),
    "end_reason": _("Lý do kết thúc"), "absence_case": _("Trường hợp tạm vắng"),
    "destination": _("Nơi đến"),
}
HIDDEN_HISTORY_FIELDS = frozenset({"version", "id"})
ACTION_LABELS: dict[str, Any] = {
    "citizen.create": _("Đăng ký công dân"), "citizen.update": _("Điều chỉnh thông tin"),
    "residence.permanent": _("Đăng ký thường trú"), "residence.temporary": _("Đăng ký tạm trú"),
    "residence.renew": _("Gia hạn tạm trú"), "residence.absence": _("Khai báo tạm vắng"),
    "residence.stay": _("Thông báo lưu trú"), "residence.end": _("Kết thúc đăng ký cư trú"),
    "household.change_head": _("Thay đổi chủ hộ"),
}
END_REASONS: dict[str, Any] = {
    "moved": _("Chuyển nơi thường trú"), "replaced": _("Thay bằng đăng ký mới"),
    "renewed": _("Đã gia hạn"), "deleted": _("Xoá đăng ký"), "returned": _("Đã trở về"),
    "left": _("Đã rời đi"),
}
NO_RELIGION = _("Không theo tôn giáo")


def religion_name(code: str) -> Any:
    """Religions are proper names (kept in Vietnamese); "none" is translated."""
    return NO_RELIGION if code == "00" else RELIGIONS.get(code, code)


CHOICE_LABELS: dict[str, dict[str, Any]] = {
    "sex": dict(Sex.choices), "ethnicity": ETHNICITIES, "religion": {**RELIGIONS, "00": NO_RELIGION},
    "marital_status": dict(MaritalStatus.choices), "life_status": dict(LifeStatus.choices),
    "kind": dict(ResidenceKind.choices), "absence_case": dict(AbsenceCase.choices),
    "end_reason": END_REASONS, "relationship": dict(Relationship.choices),
}
UNIT_FIELDS = frozenset({"birth_registration_unit", "origin_unit", "current_commune", "commune"})
DATE_FIELDS = frozenset({"birth_date", "death_date", "started_on", "expires_on", "ended_on"})


def lookup_reason(request: HttpRequest, personal_id: str) -> str:
    """The purpose stated for this person: given with this request (?reason=, from the purpose
    form or a search result's link, which carries the search's purpose), else confirmed for
    this person earlier in the session; "" when none was — then the officer is asked."""
    reason = (request.GET.get("reason") or "").strip()[:500]
    if not reason:
        return confirmed_reason(request, personal_id)
    confirm_reason(request, personal_id, reason)
    return reason


def confirmed_reason(request: HttpRequest, personal_id: str) -> str:
    """The purpose confirmed for this person earlier in the session ("" when none was): every
    console page that reads a person by URL (the person's page, corrections, residence forms,
    the e-ID officer page) reads under it, never under a purpose stated for someone else."""
    return (request.session.get(CONFIRMED_SESSION_KEY) or {}).get(personal_id, "")


def confirm_reason(request: HttpRequest, personal_id: str, reason: str) -> None:
    """Remember ``reason`` as stated for this person (and offer it for the next one)."""
    confirmed: dict[str, str] = request.session.get(CONFIRMED_SESSION_KEY) or {}
    request.session[REASON_SESSION_KEY] = reason
    confirmed.pop(personal_id, None)
    confirmed[personal_id] = reason
    request.session[CONFIRMED_SESSION_KEY] = dict(list(confirmed.items())[-MAX_CONFIRMED:])


def detail_url(personal_id: str, reason: str = "") -> str:
    url = reverse("population:detail", args=[personal_id])
    return f"{url}?{urlencode({'reason': reason})}" if reason else url


def after_write_url(request: HttpRequest, personal_id: str, write_reason: str) -> str:
    """Back to the person's page after a write: read under the look-up purpose confirmed for
    this person, or, when none was, under the write's own reason."""
    return detail_url(personal_id, "" if confirmed_reason(request, personal_id) else write_reason)


def province_param(request: HttpRequest) -> str | None:
    """A national officer's province filter (?province=38) for the commune lists."""
    code = (request.GET.get("province") or "").strip()
    return code if code and code in dict(province_choices()) else None


def area_context(request: HttpRequest) -> dict[str, Any]:
    """What the commune pickers need: national officers choose a province first."""
    profile = officer_profile(request)
    national = profile is not None and profile.jurisdiction_id is None
    return {"province_choices": province_choices() if national else None,
            "province": province_param(request)}


# --- search -------------------------------------------------------------------------------

@officer_required
def search(request: HttpRequest) -> HttpResponse:
    profile = officer_profile(request)
    assert profile is not None  # officer_required
    data = request.GET.copy()
    if "reason" not in data and request.session.get(REASON_SESSION_KEY):
        data["reason"] = request.session[REASON_SESSION_KEY]
    form = SearchForm(data if request.GET else None, jurisdiction=profile.jurisdiction,
                      province=province_param(request),
                      initial={"reason": request.session.get(REASON_SESSION_KEY, "")})
    page = None
    if request.GET and form.is_valid() and (form.cleaned_data.get("q") or "").strip():
        cd = form.cleaned_data
        request.session[REASON_SESSION_KEY] = cd["reason"].strip()
        commune = cd.get("commune")
        try:
            page = selectors.search_citizens(
                request.actor, query=cd["q"], birth_year=cd.get("birth_year"),  # type: ignore[attr-defined]
                commune_id=commune.pk if commune else None, page=cd.get("page") or 1,
                page_size=settings.DANCU_PAGE_SIZE, reason=cd["reason"].strip())
        except DomainError as err:
            add_domain_errors(form, err)
    ctx: dict[str, Any] = {"form": form, "page": page, **area_context(request)}
    if page is not None:
        params = request.GET.copy()
        params["reason"] = form.cleaned_data["reason"].strip()
        ctx["reason"] = params["reason"]
        if page.page > 1:
            params["page"] = str(page.page - 1)
            ctx["prev_url"] = "?" + params.urlencode()
        if page.has_next:
            params["page"] = str(page.page + 1)
            ctx["next_url"] = "?" + params.urlencode()
    return render(request, "population/search.html", ctx)


# --- a person's page ----------------------------------------------------------------------

@officer_required
def detail(request: HttpRequest, personal_id: str) -> HttpResponse:
    reason = lookup_reason(request, personal_id)
    if not reason:
        remembered = request.session.get(REASON_SESSION_KEY, "")
        return render(request, "population/lookup_reason.html",
                      {"form": LookupReasonForm(initial={"reason": remembered}),
                       "personal_id": personal_id, "remembered": remembered})
    try:
        citizen = selectors.get_citizen(request.actor, personal_id, reason=reason)  # type: ignore[attr-defined]
    except OutOfJurisdiction as err:
        return forbidden(request, err)
    except NotFound as err:
        return not_found(request, err.message)
    membership = residence.current_household(citizen)
    registrations = list(residence.residence_history(citizen))
    today = timezone.localdate()
    for r in registrations:
        # display attributes for the template (not model fields)
        r.is_active = r.ended_on is None and (r.kind == ResidenceKind.PERMANENT or r.expires_on is None  # type: ignore[attr-defined]
                                              or r.expires_on >= today)
        r.end_reason_label = END_REASONS.get(r.end_reason, r.end_reason)  # type: ignore[attr-defined]
    ctx = {
        "citizen": citizen, "reason": reason,
        "ethnicity_name": ETHNICITIES.get(citizen.ethnicity, citizen.ethnicity),
        "religion_name": religion_name(citizen.religion),
        "children": selectors.family_of(citizen)["children"],
        "membership": membership,
        "members": list(residence.household_members(membership.household_id)) if membership else [],
        "registrations": registrations,
        "active_registrations": [r for r in registrations if r.ended_on is None],
        "history": describe_history(history_of(citizen.personal_id)[:200]),
        "can_write": request.actor.can_write,  # type: ignore[attr-defined]
    }
    return render(request, "population/detail.html", ctx)


class _Units:
    """Names of units named in history snapshots, looked up once per code."""

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}

    def name(self, code: str) -> str:
        if code not in self.cache:
            unit = geo.find_unit(code)
            self.cache[code] = f"{unit.name} ({code})" if unit else code
        return self.cache[code]


def _display(key: str, value: Any, units: _Units) -> str:
    if value is None or value == "":
        return "—"
    if key in CHOICE_LABELS:
        return str(CHOICE_LABELS[key].get(value, value))
    if key in UNIT_FIELDS:
        return units.name(str(value))
    if key in DATE_FIELDS and isinstance(value, str):
        parts = value.split("-")
        return "/".join(reversed(parts))
    return str(value)


def describe_history(events: Any) -> list[dict[str, Any]]:
    """Audit events as rows: who, when, source, reason, and before → after of the fields that
    changed (a creation lists the values it set)."""
    units = _Units()
    sources = dict(Source.choices)
    rows = []
    for e in events:
        before, after = e.before or {}, e.after or {}
        changes = []
        for key in dict.fromkeys([*after, *before]):
            if key in HIDDEN_HISTORY_FIELDS or before.get(key) == after.get(key):
                continue
            if e.before is None and after.get(key) in (None, ""):
                continue
            changes.append({"field": key, "label": FIELD_LABELS.get(key, key),
                            "before": _display(key, before.get(key), units) if e.before is not None else "",
                            "after": _display(key, after.get(key), units) if e.after is not None else ""})
        rows.append({"at": e.at, "actor": e.actor_label, "source": sources.get(e.source, e.source),
                     "source_ref": e.source_ref, "reason": e.reason, "action": e.action,
                     "action_label": ACTION_LABELS.get(e.action, e.action),
                     "is_create": e.before is None, "changes": changes})
    return rows


# --- writes -------------------------------------------------------------------------------

@officer_required(write=True)
def create(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    profile = officer_profile(request)
    assert profile is not None  # officer_required
    form = CitizenCreateForm(request.POST or None, jurisdiction=profile.jurisdiction,
                             province=province_param(request),
                             initial={"started_on": timezone.localdate()})
    if request.method == "POST" and not form.is_valid():
        refused = _commune_outside_area(request, actor, form)
        if refused is not None:
            return refused
        _add_identity_errors(form)
    elif request.method == "POST":
        cd = form.cleaned_data
        try:
            registration = residence_services.register_new_resident(
                actor, form.raw_citizen(), commune=cd["commune"], address=cd["address"],
                started_on=cd["started_on"], reason=cd["reason"],
                household_number=cd["household_number"].strip() or None,
                relationship=cd["relationship"])
        except OutOfJurisdiction as err:  # a commune outside the officer's area: refused, audited
            return forbidden(request, err)
        except DomainError as err:
            add_domain_errors(form, err)
        else:
            citizen = registration.citizen
            messages.success(request, _("Đã đăng ký công dân %(name)s, số định danh %(pid)s.")
                             % {"name": citizen.full_name, "pid": citizen.personal_id})
            return redirect(after_write_url(request, citizen.personal_id, cd["reason"]))
    return render(request, "population/create.html", {"form": form, **area_context(request)})


def _commune_outside_area(request: HttpRequest, actor: Any, form: CitizenCreateForm) -> HttpResponse | None:
    """The commune picker lists only the officer's area; a commune posted from outside it is a
    refusal (403, audited as ``citizen.create.denied``), not a form error — by the services' rule."""
    raw = (form.data.get("commune") or "").strip()
    if "commune" not in form.errors or not raw:
        return None
    unit = services.resolve_unit(raw if ":" in raw else f"2025:{raw}")
    if unit is None:
        return None
    try:
        services.check_residence_commune(actor, unit)
    except OutOfJurisdiction as err:
        record_refusal(actor, "citizen.create", err, subject_type="citizen",
                       details={"commune": unit.qualified_code})
        return forbidden(request, err)
    except DomainError:
        return None
    return None


def _add_identity_errors(form: CitizenCreateForm | CitizenCorrectForm) -> None:
    """When the form is refused (a missing field, no reason yet), also run the shared citizen
    validation (read-only) so every wrong identity field is named at once — an impossible
    birth date on the first submit, not on the next one."""
    fields = form.IDENTITY if isinstance(form, CitizenCreateForm) else form.CORRECTABLE
    raw = {k: v for k in fields if (v := (form.data.get(k) or "").strip())}
    cleaned = clean_citizen(raw, resolve_unit=services.resolve_unit,
                            resolve_person=services.resolve_person, partial=True)
    for error in cleaned.errors:
        if error.field in form.fields and error.field not in form.errors:
            form.add_error(error.field, str(error.message))


EDIT_REASON = "Điều chỉnh thông tin công dân"


@officer_required
def correct(request: HttpRequest, personal_id: str) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if not actor.can_write:
        return forbidden(request, _("Vai trò của bạn chỉ được xem, không được sửa dữ liệu."))
    try:
        citizen = selectors.get_citizen(actor, personal_id, action="citizen.edit",
                                        reason=confirmed_reason(request, personal_id) or EDIT_REASON)
    except OutOfJurisdiction as err:
        return forbidden(request, err)
    except NotFound as err:
        return not_found(request, err.message)
    kwargs = {"birth_unit": citizen.birth_registration_unit, "origin_unit": citizen.origin_unit}
    if request.method != "POST":
        form = CitizenCorrectForm(initial=CitizenCorrectForm.initial_for(citizen), **kwargs)
        return render(request, "population/correct.html", {"form": form, "citizen": citizen})
    form = CitizenCorrectForm(request.POST, **kwargs)
    conflict = False
    if not form.is_valid():
        _add_identity_errors(form)
    else:
        cd = form.cleaned_data
        changes = form.changes(citizen)
        if not changes:
            if cd["expected_version"] != citizen.version:
                conflict = True
                form.add_error(None, _("Hồ sơ vừa được người khác cập nhật; hãy tải lại và thử lại."))
            else:
                form.add_error(None, _("Không có thay đổi nào để lưu."))
        else:
            try:
                updated = services.correct_citizen(actor, personal_id, changes, reason=cd["reason"],
                                                   expected_version=cd["expected_version"])
            except DomainError as err:
                conflict = err.code == "E_VERSION_CONFLICT"
                add_domain_errors(form, err)
            else:
                labels = ", ".join(str(FIELD_LABELS.get(k, k)) for k in changes)
                messages.success(request, _("Đã lưu điều chỉnh: %(fields)s.") % {"fields": labels})
                return redirect(after_write_url(request, updated.personal_id, cd["reason"]))
    return render(request, "population/correct.html",
                  {"form": form, "citizen": citizen, "conflict": conflict}, status=409 if conflict else 200)
