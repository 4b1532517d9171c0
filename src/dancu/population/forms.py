"""Forms of the officer console for the citizen record: search, new citizen, correction.

The forms only parse and lay out; the rules live in ``population.validation`` and the
services, whose ``DomainError`` fields are shown next to the matching form field.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from dancu.core.reference import ETHNICITY_CHOICES, RELIGION_CHOICES
from dancu.core.text import nfc
from dancu.geo import selectors as geo
from dancu.geo.models import AdminUnit, CodeSystem, Level
from dancu.population.models import Citizen, LifeStatus, MaritalStatus, Sex
from dancu.population.validation import parse_partial_date
from dancu.residence.models import Relationship

DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"]
DATE_INVALID = _("Ngày không hợp lệ hoặc không có trên lịch: nhập dd/mm/yyyy, ví dụ 17/05/1990.")
REASON_HELP = _("Ghi căn cứ pháp lý hoặc mục đích; được lưu vào nhật ký.")


class DateInput(forms.DateInput):
    """A text box in dd/mm/yyyy: a native date picker shows the browser's locale format
    (mm/dd/yyyy on many machines), which misleads in a Vietnamese register."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric", **(attrs or {})},
                         format="%d/%m/%Y")


def date_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateField:
    # Django's own message ("Enter a valid date.") does not say which form the box takes.
    return forms.DateField(label=label, required=required, input_formats=DATE_INPUT_FORMATS,
                           widget=DateInput(), help_text=help_text,
                           error_messages={"invalid": DATE_INVALID})


def reason_field(label: Any = None, help_text: Any = REASON_HELP) -> forms.CharField:
    return forms.CharField(label=label or _("Lý do / căn cứ pháp lý"), max_length=500,
                           help_text=help_text, widget=forms.TextInput())


def province_choices() -> list[tuple[str, str]]:
    """2025 provinces for the national officers' province filter."""
    return [(p.code, p.name) for p in geo.provinces(CodeSystem.V2025)]


def commune_field(jurisdiction: AdminUnit | None, province: str | None, *, required: bool = True,
                  label: Any = None) -> forms.Field:
    """The 2025 commune of a registration, limited to the officer's area: their commune,
    their province's communes, or (national) the communes of the province picked in the
    page's province filter — else a qualified code typed in ("2025:00097")."""
    label = label or _("Xã/phường (từ 01/7/2025)")
    choices: list[tuple[str, str]] | None = None
    if jurisdiction is not None and jurisdiction.level == Level.COMMUNE:
        choices = [(jurisdiction.qualified_code, jurisdiction.name)]
    elif jurisdiction is not None:
        choices = geo.unit_choices_2025_communes(jurisdiction)
    elif province:
        choices = geo.unit_choices_2025_communes(province)
    if choices is not None:
        blank: list[tuple[str, Any]] = ([("", _("— chọn xã/phường —"))]
                                        if (required is False or len(choices) > 1) else [])
        return forms.ChoiceField(label=label, required=required, choices=blank + choices,
                                 initial=choices[0][0] if len(choices) == 1 else "")
    return forms.CharField(label=label, required=required, max_length=20,
                           help_text=_("Mã xã/phường theo danh mục 2025, ví dụ 2025:00097; "
                                       "hoặc chọn tỉnh ở trên để có danh sách."),
                           widget=forms.TextInput(attrs={"placeholder": "2025:00097"}))


class CommuneFormMixin:
    """Turns the ``commune`` value (a qualified code) into a 2025 commune unit."""

    def clean_commune(self) -> AdminUnit | None:
        code = (self.cleaned_data.get("commune") or "").strip()  # type: ignore[attr-defined]
        if not code:
            return None
        unit = geo.find_unit(code if ":" in code else f"{CodeSystem.V2025}:{code}")
        if unit is None or unit.code_system != CodeSystem.V2025 or unit.level != Level.COMMUNE:
            raise forms.ValidationError(_("Không có xã/phường mã %(code)s trong danh mục từ 01/7/2025."),
                                        params={"code": code})
        return unit


def birth_unit_choices(current: AdminUnit | None = None) -> list[tuple[str, str]]:
    """Provinces of both code systems (the birth may have been registered before 2025)."""
    out: list[tuple[str, str]] = []
    for system, suffix in ((CodeSystem.V2025, _("từ 01/7/2025")), (CodeSystem.LEGACY, _("trước 01/7/2025"))):
        out += [(p.qualified_code, f"{p.name} ({suffix})") for p in geo.provinces(system)]
    if current is not None and current.qualified_code not in dict(out):
        out.insert(0, (current.qualified_code, current.name))
    return out


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Số định danh hoặc họ tên"), max_length=150, required=False,
                        widget=forms.TextInput(attrs={"autofocus": True,
                                                      "placeholder": _("ví dụ: nguyen van an")}))
    birth_year = forms.IntegerField(label=_("Năm sinh"), required=False, min_value=1900, max_value=2100)
    reason = forms.CharField(label=_("Lý do tra cứu"), max_length=500, required=False,
                             help_text=_("Bắt buộc: mục đích tra cứu, lưu vào nhật ký."))
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput())

    def __init__(self, *args: Any, jurisdiction: AdminUnit | None = None,
                 province: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if jurisdiction is None or jurisdiction.level != Level.COMMUNE:
            self.fields["commune"] = commune_field(jurisdiction, province, required=False,
                                                   label=_("Xã/phường đang ở"))
        self.order_fields(["q", "birth_year", "commune", "reason"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (data.get("q") or "").strip() and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Cần nêu lý do tra cứu."))
        return data

    def clean_commune(self) -> AdminUnit | None:
        return CommuneFormMixin.clean_commune(self)  # type: ignore[arg-type]


class LookupReasonForm(forms.Form):
    reason = forms.CharField(label=_("Lý do tra cứu"), max_length=500,
                             help_text=_("Bắt buộc: mục đích tra cứu, lưu vào nhật ký."))


def _optional_id(label: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=12,
                           widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                         "placeholder": _("12 chữ số")}))


class CitizenFieldsForm(forms.Form):
    """The identity fields, shared by registration and correction."""

    full_name = forms.CharField(label=_("Họ và tên"), max_length=150)
    birth_date = forms.CharField(label=_("Ngày sinh"), max_length=10,
                                 help_text=_("dd/mm/yyyy; nếu không rõ: mm/yyyy hoặc yyyy."),
                                 widget=forms.TextInput(attrs={"placeholder": "dd/mm/yyyy"}))
    sex = forms.ChoiceField(label=_("Giới tính"), choices=[("", "—"), *Sex.choices])
    ethnicity = forms.ChoiceField(label=_("Dân tộc"), choices=[("", "—"), *ETHNICITY_CHOICES])
    religion = forms.ChoiceField(label=_("Tôn giáo"), initial="00", choices=[
        ("00", _("Không theo tôn giáo")), *[(k, v) for k, v in RELIGION_CHOICES if k != "00"]])
    nationality = forms.CharField(label=_("Quốc tịch"), max_length=2, initial="VN",
                                  help_text=_("Mã ISO 2 chữ cái, ví dụ VN."))
    birth_registration_unit = forms.ChoiceField(label=_("Nơi đăng ký khai sinh"))
    origin_unit = forms.ChoiceField(label=_("Quê quán"), required=False)
    marital_status = forms.ChoiceField(label=_("Tình trạng hôn nhân"), choices=MaritalStatus.choices,
                                       initial=MaritalStatus.UNKNOWN)
    old_id_number = forms.CharField(label=_("Số CMND cũ"), required=False, max_length=9,
                                    widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                                  "placeholder": _("9 chữ số")}))
    father_id = _optional_id(_("Số định danh của cha"))
    mother_id = _optional_id(_("Số định danh của mẹ"))
    spouse_id = _optional_id(_("Số định danh của vợ/chồng"))

    def __init__(self, *args: Any, birth_unit: AdminUnit | None = None,
                 origin_unit: AdminUnit | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, unit in (("birth_registration_unit", birth_unit), ("origin_unit", origin_unit)):
            cast(forms.ChoiceField, self.fields[name]).choices = [("", "—"), *birth_unit_choices(unit)]


class CitizenCreateForm(CommuneFormMixin, CitizenFieldsForm):
    personal_id = forms.CharField(
        label=_("Số định danh (nếu đã được cấp)"), required=False, max_length=12,
        help_text=_("Để trống để hệ thống cấp số mới."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    address = forms.CharField(label=_("Địa chỉ thường trú"), max_length=255,
                              help_text=_("Số nhà, đường/thôn, tổ dân phố."))
    started_on = date_field(_("Ngày đăng ký thường trú"))
    household_number = forms.CharField(label=_("Số hộ (nhập vào hộ có sẵn)"), required=False, max_length=20,
                                       help_text=_("Để trống để lập hộ mới, người này là chủ hộ."))
    relationship = forms.ChoiceField(label=_("Quan hệ với chủ hộ"), choices=Relationship.choices,
                                     initial=Relationship.HEAD)
    reason = reason_field()

    def __init__(self, *args: Any, jurisdiction: AdminUnit | None = None,
                 province: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["commune"] = commune_field(jurisdiction, province)
        self.order_fields([*self.IDENTITY, "commune", "address", "started_on",
                           "household_number", "relationship", "reason"])

    IDENTITY = ("personal_id", "full_name", "birth_date", "sex", "ethnicity", "religion", "nationality",
                "birth_registration_unit", "origin_unit", "marital_status", "old_id_number",
                "father_id", "mother_id", "spouse_id")

    def raw_citizen(self) -> dict[str, str]:
        """The identity values as the service's raw mapping (empty optional fields left out)."""
        return {k: v for k in self.IDENTITY if (v := (self.cleaned_data.get(k) or "").strip())}


def partial_date_key(text: str) -> tuple | str:
    """Compare birth dates by value, so '1990-05-17' equals '17/05/1990'."""
    try:
        return parse_partial_date(text)
    except ValueError:
        return text.strip()


class CitizenCorrectForm(CitizenFieldsForm):
    life_status = forms.ChoiceField(label=_("Tình trạng"), choices=LifeStatus.choices)
    death_date = date_field(_("Ngày chết"), required=False)
    reason = reason_field(_("Căn cứ/lý do điều chỉnh"),
                          help_text=_("Bắt buộc, ví dụ: Quyết định số …, giấy tờ hộ tịch …"))
    expected_version = forms.IntegerField(widget=forms.HiddenInput())

    CORRECTABLE = ("full_name", "birth_date", "sex", "ethnicity", "religion", "nationality",
                   "birth_registration_unit", "origin_unit", "marital_status", "life_status",
                   "death_date", "old_id_number", "father_id", "mother_id", "spouse_id")

    @staticmethod
    def initial_for(c: Citizen) -> dict[str, Any]:
        return {
            "full_name": c.full_name, "birth_date": c.birth_display, "sex": c.sex,
            "ethnicity": c.ethnicity, "religion": c.religion, "nationality": c.nationality,
            "birth_registration_unit": c.birth_registration_unit.qualified_code,
            "origin_unit": c.origin_unit.qualified_code if c.origin_unit is not None else "",
            "marital_status": c.marital_status, "life_status": c.life_status,
            "death_date": c.death_date, "old_id_number": c.old_id_number or "",
            "father_id": c.father.personal_id if c.father is not None else "",
            "mother_id": c.mother.personal_id if c.mother is not None else "",
            "spouse_id": c.spouse.personal_id if c.spouse is not None else "",
            "expected_version": c.version,
        }

    def changes(self, citizen: Citizen) -> dict[str, str]:
        """Only the fields whose value differs from the record, as raw strings."""
        current = self.initial_for(citizen)
        out: dict[str, str] = {}
        for key in self.CORRECTABLE:
            new = self.cleaned_data.get(key)
            old = current[key]
            if key == "death_date":
                if new != old:
                    out[key] = new.isoformat() if new else ""
                continue
            new_s, old_s = (new or "").strip(), (old or "")
            if key == "birth_date":
                if partial_date_key(new_s) != partial_date_key(old_s):
                    out[key] = new_s
            elif key == "full_name":
                if nfc(new_s) != old_s:
                    out[key] = new_s
            elif new_s != old_s:
                out[key] = new_s
        return out
