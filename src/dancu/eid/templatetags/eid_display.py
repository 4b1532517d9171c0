"""How the e-ID pages say things to a person: authentication methods in words instead of their
RFC 8176 codes, and the authenticator app's ``otpauth://`` link as a QR code (inline SVG, made
here by segno: no image service, no script)."""

from __future__ import annotations

from collections.abc import Iterable

import segno
from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

register = template.Library()

# The methods dancu records (eid.assurance's categories), as a person would name them.
METHOD_NAMES = {
    "pwd": gettext_lazy("mật khẩu"),
    "pin": gettext_lazy("mã PIN"),
    "sms": gettext_lazy("mã SMS"),
    "otp": gettext_lazy("mã từ ứng dụng xác thực"),
    "hwk": gettext_lazy("khoá bảo mật"),
    "swk": gettext_lazy("khoá trên thiết bị"),
    "face": gettext_lazy("khuôn mặt"),
    "fpt": gettext_lazy("vân tay"),
    "iris": gettext_lazy("mống mắt"),
}


@register.filter
def methods_in_words(methods: str | Iterable[str] | None) -> str:
    """``"pwd sms"`` or ``["pwd", "sms"]`` → "mật khẩu, mã SMS" ("mfa" is implied, not a method;
    an unknown code is shown as it is)."""
    codes = methods.split() if isinstance(methods, str) else list(methods or [])
    words = [str(METHOD_NAMES.get(code, code)) for code in codes if code != "mfa"]
    return ", ".join(words)


@register.filter
def qr_svg(text: str) -> SafeString:
    """``text`` as a QR code: an inline ``<svg>`` (segno escapes nothing of ours: the title is
    a fixed string and the data are drawn as modules, never written as text)."""
    code = segno.make(text, error="m")
    # a viewBox without a fixed size: the page's CSS sets the size, the whole code scales with it
    return mark_safe(code.svg_inline(scale=4, omitsize=True, dark="#000", light="#fff",  # noqa: S308
                                     title=str(_("Mã QR để thêm vào ứng dụng xác thực")),
                                     svgclass="qr"))

