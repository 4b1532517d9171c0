"""The administrator's form for registering a relying party."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _


def _scope_choices() -> list[tuple[str, str]]:
    return [(k, f"{k} — {v}") for k, v in settings.OAUTH2_PROVIDER["SCOPES"].items()]


class ClientForm(forms.Form):
    name = forms.CharField(label=_("Tên ứng dụng"), max_length=255)
    organisation = forms.CharField(label=_("Tổ chức"), max_length=255)
    reference = forms.CharField(label=_("Số văn bản thỏa thuận"), max_length=100, required=False)
    purpose = forms.CharField(
        label=_("Mục đích sử dụng"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    grant_type = forms.ChoiceField(
        label=_("Loại cấp quyền"),
        choices=[
            ("authorization-code", _("Đăng nhập công dân (authorization code + PKCE)")),
            ("client-credentials", _("Hệ thống với hệ thống (client credentials, eKYC)")),
        ],
    )
    public = forms.BooleanField(label=_("Ứng dụng công khai (di động/SPA, không có secret)"), required=False)
    native = forms.BooleanField(
        label=_("Ứng dụng cài trên máy (native): địa chỉ loopback được dùng cổng bất kỳ"), required=False)
    public_subject = forms.BooleanField(
        label=_("Định danh chủ thể (sub) dùng chung mọi bên (chỉ khi thỏa thuận cho phép)"), required=False)
    sector_identifier = forms.CharField(
        label=_("Định danh khu vực (các bên cùng khu vực thấy cùng sub)"), max_length=255, required=False)
    scopes = forms.MultipleChoiceField(
        label=_("Phạm vi được phép"), choices=_scope_choices, widget=forms.CheckboxSelectMultiple
    )
    redirect_uris = forms.CharField(
        label=_("Địa chỉ chuyển hướng (mỗi dòng một địa chỉ)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    post_logout_redirect_uris = forms.CharField(
        label=_("Địa chỉ sau đăng xuất"), required=False, widget=forms.Textarea(attrs={"rows": 1})
    )
    min_acr_level = forms.IntegerField(
        label=_("Mức xác thực tối thiểu (0–4)"), min_value=0, max_value=4, initial=0
    )
    valid_until = forms.DateField(
        label=_("Hiệu lực đến ngày"), widget=forms.DateInput(attrs={"type": "date"}),
        validators=[MaxValueValidator(dt.date(2999, 12, 31))],  # 9999-12-31 + 1 day overflowed
    )
    contact_name = forms.CharField(label=_("Người liên hệ"), max_length=150)
    contact_email = forms.EmailField(label=_("Thư điện tử liên hệ"))
    contact_phone = forms.CharField(label=_("Điện thoại liên hệ"), max_length=20, required=False)
    ekyc_per_minute = forms.IntegerField(label=_("Giới hạn eKYC mỗi phút"), min_value=1,
                                         max_value=1_000_000, initial=600)

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        from django.utils import timezone

        until = timezone.make_aware(dt.datetime.combine(d["valid_until"] + dt.timedelta(days=1), dt.time()))
        return {
            "name": d["name"],
            "organisation": d["organisation"],
            "reference": d["reference"],
            "purpose": d["purpose"],
            "grant_type": d["grant_type"],
            "public": d["public"],
            "scopes": list(d["scopes"]),
            "redirect_uris": d["redirect_uris"].split(),
            "post_logout_redirect_uris": d["post_logout_redirect_uris"].split(),
            "min_acr_level": d["min_acr_level"],
            "valid_until": until,
            "contact_name": d["contact_name"],
            "contact_email": d["contact_email"],
            "contact_phone": d["contact_phone"],
            "ekyc_per_minute": d["ekyc_per_minute"],
            "native": d["native"],
            "subject_type": "public" if d["public_subject"] else "pairwise",
            "sector_identifier": d["sector_identifier"],
        }
