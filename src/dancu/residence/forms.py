"""Forms of the residence actions offered on a citizen's page (Law on Residence 68/2020)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dancu.geo.models import AdminUnit
from dancu.population.domain import check_personal_id
from dancu.population.forms import CommuneFormMixin, commune_field, date_field, reason_field
from dancu.residence.models import AbsenceCase, Relationship

END_REASON_CHOICES = [
    ("deleted", _("Xoá đăng ký")),
    ("returned", _("Đã trở về")),
    ("left", _("Đã rời đi")),
]


class _AreaForm(CommuneFormMixin, forms.Form):
    """A form with a commune picker limited to the officer's area."""

    def __init__(self, *args: Any, jurisdiction: AdminUnit | None = None,
                 province: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["commune"] = commune_field(jurisdiction, province)
        self.order_fields(["commune", *[k for k in self.fields if k != "commune"]])


class TemporaryForm(_AreaForm):
    address = forms.CharField(label=_("Địa chỉ tạm trú"), max_length=255)
    started_on = date_field(_("Từ ngày"))
    expires_on = date_field(_("Đến ngày"), help_text=_("Tạm trú có thời hạn tối đa 2 năm."))
    reason = reason_field()


class RenewForm(forms.Form):
    expires_on = date_field(_("Gia hạn đến ngày"), help_text=_("Tối đa 2 năm kể từ ngày gia hạn."))
    reason = reason_field()


class AbsenceForm(forms.Form):
    case = forms.ChoiceField(label=_("Trường hợp phải khai báo (Điều 31 Luật Cư trú)"),
                             choices=AbsenceCase.choices, widget=forms.RadioSelect)
    started_on = date_field(_("Từ ngày"))
    expires_on = date_field(_("Đến ngày"), required=False)
    destination = forms.CharField(label=_("Nơi đến"), max_length=255, required=False)
    reason = reason_field()


class StayForm(_AreaForm):
    address = forms.CharField(label=_("Địa chỉ lưu trú"), max_length=255)
    started_on = date_field(_("Từ ngày"))
    ends_on = date_field(_("Đến ngày"), help_text=_("Dưới 30 ngày; dài hơn phải đăng ký tạm trú."))
    reason = reason_field()


class PermanentForm(_AreaForm):
    address = forms.CharField(label=_("Địa chỉ thường trú"), max_length=255)
    started_on = date_field(_("Ngày đăng ký"))
    household_number = forms.CharField(label=_("Số hộ (nhập vào hộ có sẵn)"), required=False, max_length=20,
                                       help_text=_("Để trống để lập hộ mới, người này là chủ hộ."))
    relationship = forms.ChoiceField(label=_("Quan hệ với chủ hộ"), choices=Relationship.choices,
                                     initial=Relationship.HEAD)
    reason = reason_field()


class EndForm(forms.Form):
    ended_on = date_field(_("Ngày kết thúc"))
    end_reason = forms.ChoiceField(label=_("Lý do kết thúc"), choices=END_REASON_CHOICES)
    reason = reason_field()


ARRIVAL_KINDS = [
    ("permanent", _("Đăng ký thường trú")),
    ("temporary", _("Đăng ký tạm trú")),
    ("stay", _("Thông báo lưu trú")),
]


class ArrivalForm(forms.Form):
    """A person coming from another area, found by the number on their card (no search)."""

    personal_id = forms.CharField(label=_("Số định danh trên thẻ căn cước"), max_length=12,
                                  widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    kind = forms.ChoiceField(label=_("Loại đăng ký"), choices=ARRIVAL_KINDS,
                             widget=forms.RadioSelect)

    def clean_personal_id(self) -> str:
        number = (self.cleaned_data.get("personal_id") or "").strip()
        errors = check_personal_id(number)
        if errors:
            raise forms.ValidationError([str(e.message) for e in errors])
        return number
