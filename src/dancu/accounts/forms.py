"""Sign-in form of the officer console."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from dancu.core.errors import DomainError

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class OfficerLoginForm(AuthenticationForm):
    """Django's sign-in, refusing accounts that are not officers (no OfficerProfile)."""

    username = forms.CharField(label=_("Tên đăng nhập"), max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True,
                                                             "autocomplete": "username"}))
    password = forms.CharField(label=_("Mật khẩu"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    error_messages = {
        "invalid_login": _("Tên đăng nhập hoặc mật khẩu không đúng."),
        "inactive": _("Tài khoản này đã bị khoá."),
        "not_officer": _("Tài khoản này không phải tài khoản cán bộ; không được dùng trang quản lý dân cư."),
    }

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if getattr(user, "officer", None) is None:
            raise forms.ValidationError(self.error_messages["not_officer"], code="not_officer")


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
