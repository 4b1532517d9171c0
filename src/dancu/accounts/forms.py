"""Forms of the officer console's sign-in and of the officer-management screens. They parse
input; the rules (who may grant what, where) are ``accounts.services``'."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dancu.accounts.models import Role
from dancu.core.errors import DomainError
from dancu.geo.models import AdminUnit
from dancu.geo.selectors import find_unit


class OfficerLoginForm(forms.Form):
    """The first factor: username and password (checked by ``services.check_officer_password``)."""

    username = forms.CharField(label=_("Tên đăng nhập"), max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True,
                                                             "autocomplete": "username"}))
    password = forms.CharField(label=_("Mật khẩu"), strip=False, max_length=200,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class TotpForm(forms.Form):
    code = forms.RegexField(label=_("Mã từ ứng dụng xác thực"), regex=r"^\s*\d{6}\s*$", max_length=12,
                            error_messages={"invalid": _("Mã gồm 6 chữ số.")},
                            widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "numeric",
                                                          "autocomplete": "one-time-code"}))


class UnitCodeField(forms.CharField):
    """A 2025 commune or province by its qualified code (``2025:14758``, ``2025:38``); empty =
    national."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Địa bàn (mã đơn vị 2025)"))
        kwargs.setdefault("help_text", _("Ví dụ 2025:14758 (xã/phường) hoặc 2025:38 (tỉnh); "
                                         "để trống nếu toàn quốc."))
        super().__init__(required=False, max_length=20, **kwargs)

    def clean(self, value: Any) -> AdminUnit | None:
        code = (super().clean(value) or "").strip()
        if not code:
            return None
        unit = find_unit(code)
        if unit is None:
            raise forms.ValidationError(_("Không có đơn vị hành chính mã %(code)s.") % {"code": code})
        return unit


def role_choices(blank: bool = False) -> list[tuple[str, Any]]:
    return ([("", _("Tất cả"))] if blank else []) + list(Role.choices)


class OfficerFilterForm(forms.Form):
    q = forms.CharField(label=_("Tên đăng nhập hoặc tên hiển thị"), required=False, max_length=150)
    role = forms.ChoiceField(label=_("Vai trò"), required=False, choices=role_choices(blank=True))
    unit = UnitCodeField()
    state = forms.ChoiceField(label=_("Trạng thái"), required=False,
                              choices=[("", _("Tất cả")), ("active", _("Đang hoạt động")),
                                       ("suspended", _("Đã tạm dừng"))])


class OfficerEditForm(forms.Form):
    role = forms.ChoiceField(label=_("Vai trò"), choices=role_choices())
    unit = UnitCodeField()
    display_name = forms.CharField(label=_("Tên hiển thị"), required=False, max_length=120)
    reason = forms.CharField(label=_("Lý do"), required=False, max_length=500)


class OfficerCreateForm(OfficerEditForm):
    username = forms.RegexField(label=_("Tên đăng nhập"), max_length=150, regex=r"^[\w.@+-]+$",
                                error_messages={"invalid": _("Chỉ dùng chữ, số và . @ + - _")})
    password = forms.CharField(label=_("Mật khẩu ban đầu"), strip=False, max_length=200,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    field_order = ["username", "display_name", "role", "unit", "password", "reason"]


class OfficerStatusForm(forms.Form):
    action = forms.ChoiceField(choices=[("suspend", _("Tạm dừng")), ("reactivate", _("Kích hoạt lại"))])
    reason = forms.CharField(label=_("Lý do"), required=False, max_length=500)


class OfficerPasswordForm(forms.Form):
    password = forms.CharField(label=_("Mật khẩu mới"), strip=False, max_length=200,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    reset_second_factor = forms.BooleanField(label=_("Đăng ký lại ứng dụng xác thực ở lần đăng nhập sau"),
                                             required=False)
    reason = forms.CharField(label=_("Lý do"), required=False, max_length=500)


def add_domain_errors(form: forms.Form, error: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Show each FieldError of a service refusal next to its form field; an error on a field the
    form does not have (or on none) becomes a form-wide error."""
    field_map = field_map or {}
    for item in error.errors:
        name = field_map.get(item.field or "", item.field)
        if name and name in form.fields:
            form.add_error(name, str(item.message))
        else:
            form.add_error(None, str(item.message))
