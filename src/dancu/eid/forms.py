"""Forms of the e-ID pages. They parse and lay out only; the rules (registry check, phone format,
portrait, password strength, one-time codes) are in ``eid.services``, whose ``DomainError``
fields are shown next to the matching form field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from dancu.eid.services import CITIZEN_PASSWORD_MIN_LENGTH
from dancu.population.forms import date_field, reason_field

_NUMERIC = {"inputmode": "numeric", "autocomplete": "off"}


def personal_id_field() -> forms.CharField:
    return forms.CharField(label=_("Số định danh cá nhân"), max_length=12,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "username",
                                                         "placeholder": _("12 chữ số")}))


def phone_field(help_text: Any = "") -> forms.CharField:
    return forms.CharField(label=_("Số điện thoại di động"), max_length=20, help_text=help_text,
                           widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel",
                                                         "placeholder": "0912345678"}))


def otp_field(label: Any = None) -> forms.CharField:
    return forms.CharField(label=label or _("Mã xác thực (OTP)"), max_length=6, min_length=6,
                           widget=forms.TextInput(attrs={**_NUMERIC, "autocomplete": "one-time-code",
                                                         "placeholder": "123456"}))


def _password_help() -> str:
    return _("Ít nhất %(n)s ký tự; không dùng mật khẩu phổ biến.") % {"n": CITIZEN_PASSWORD_MIN_LENGTH}


PASSWORD_HELP = lazy(_password_help, str)()  # in the language of the page that shows it


class _NewPasswordForm(forms.Form):
    """A new password typed twice. Its strength is the service's rule (``E_PASSWORD_WEAK``)."""

    password = forms.CharField(label=_("Mật khẩu mới"), strip=False,
                               help_text=PASSWORD_HELP,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("Nhập lại mật khẩu"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("Hai mật khẩu không giống nhau."))
        return data


class RegisterForm(forms.Form):
    """Level 1: who you are (checked against the registry), your phone, your portrait."""

    personal_id = personal_id_field()
    full_name = forms.CharField(label=_("Họ và tên"), max_length=150,
                                help_text=_("Đúng như trên thẻ căn cước, có dấu."),
                                widget=forms.TextInput(attrs={"autocomplete": "name"}))
    birth_date = date_field(_("Ngày sinh"))
    phone = phone_field(_("Mã xác thực sẽ được gửi tới số này."))
    email = forms.EmailField(label=_("Thư điện tử"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    # Not required here: the service says "portrait required" itself (one message everywhere).
    portrait = forms.FileField(label=_("Ảnh chân dung"), required=False,
                               help_text=_("Ảnh JPEG hoặc PNG, tối đa 2 MB, chụp rõ khuôn mặt."),
                               widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}))


class RegisterConfirmForm(_NewPasswordForm):
    otp = otp_field()
    field_order = ["otp", "password", "password2"]


class LoginForm(forms.Form):
    personal_id = personal_id_field()
    password = forms.CharField(label=_("Mật khẩu"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class RecoverForm(forms.Form):
    personal_id = personal_id_field()
    phone = phone_field(_("Số điện thoại đã đăng ký với tài khoản."))


class RecoverConfirmForm(_NewPasswordForm):
    otp = otp_field()
    field_order = ["otp", "password", "password2"]


class CodeForm(forms.Form):
    code = otp_field(_("Mã gồm 6 chữ số"))


# ---- Officer console ---------------------------------------------------------------------------

class OfficerLookupForm(forms.Form):
    personal_id = personal_id_field()
    reason = reason_field(_("Lý do tra cứu"))


class Level2Form(forms.Form):
    card_checked = forms.BooleanField(label=_("Đã kiểm tra thẻ căn cước gắn chíp của công dân"),
                                      required=False)
    device_reference = forms.CharField(label=_("Mã thiết bị thu nhận"), max_length=100, required=False)
    capture_reference = forms.CharField(
        label=_("Mã lần thu nhận sinh trắc học"), max_length=100, required=False,
        help_text=_("Ảnh và vân tay lưu trên thiết bị của trụ sở; ở đây chỉ ghi mã tham chiếu."))
    phone = phone_field(_("Bắt buộc nếu công dân chưa có tài khoản; để trống để giữ số cũ."))
    on_request = forms.BooleanField(label=_("Công dân từ 6 đến dưới 14 tuổi có yêu cầu cấp mức 2"),
                                    required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].required = False


class StatusForm(forms.Form):
    ACTIONS = (("suspend", _("Tạm dừng tài khoản")), ("reinstate", _("Khôi phục tài khoản")),
               ("revoke", _("Thu hồi tài khoản")))
    # No action chosen in advance: the officer picks one (a pre-selected "suspend" was one click
    # away from suspending an account by mistake).
    action = forms.ChoiceField(label=_("Thao tác"), choices=(("", _("— chọn thao tác —")), *ACTIONS))
    reason = reason_field(_("Lý do"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = False  # the service names a missing reason itself


class OutboxFilterForm(forms.Form):
    phone = forms.CharField(label=_("Số điện thoại"), max_length=20, required=False)
    last = forms.IntegerField(label=_("Số tin gần nhất"), min_value=1, max_value=500, initial=50,
                              required=False)
