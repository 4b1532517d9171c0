"""Forms of the portal. The procedure's data form is built from its JSON Schema (the same
schema the submit service validates with): string, date, enum, boolean and integer fields,
required marks, server-side errors beside the field. Labels of known field names are
translated here; unknown names fall back to the schema's ``title``/``description``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from dancu.core.text import nfc

LABELS: dict[str, Any] = {
    "purpose": _("Mục đích"),
    "reason": _("Lý do"),
    "delivery_address": _("Địa chỉ nhận kết quả"),
    "commune": _("Xã/phường nơi đăng ký (mã 2025)"),
    "address": _("Địa chỉ chỗ ở (số nhà, đường, thôn/tổ)"),
    "started_on": _("Ngày bắt đầu"),
    "housing": _("Chỗ ở"),
    "host_personal_id": _("Số định danh của chủ hộ/chủ nhà"),
    "payee_relationship": _("Quan hệ của người nhận trợ cấp mai táng với người mất"),
    "payee_bank_account": _("Số tài khoản nhận trợ cấp (không bắt buộc)"),
    "household_number": _("Số hộ"),
    "relationship": _("Quan hệ với chủ hộ"),
    "expires_on": _("Ngày hết hạn"),
    "case": _("Trường hợp tạm vắng"),
    "destination": _("Nơi đến"),
    "ends_on": _("Ngày kết thúc"),
    "request": _("Nội dung đề nghị"),
    "child_full_name": _("Họ, chữ đệm và tên của trẻ"),
    "child_birth_date": _("Ngày sinh của trẻ"),
    "child_sex": _("Giới tính của trẻ"),
    "child_ethnicity": _("Dân tộc của trẻ"),
    "other_parent_personal_id": _("Số định danh của cha/mẹ còn lại"),
    "death_date": _("Ngày mất"),
    "death_place": _("Nơi mất"),
    "spouse_personal_id": _("Số định danh của người kết hôn"),
    # registry fields (shown read-only)
    "full_name": _("Họ, chữ đệm và tên"),
    "personal_id": _("Số định danh cá nhân"),
    "birth_date": _("Ngày sinh"),
    "sex": _("Giới tính"),
    "permanent_address": _("Nơi thường trú"),
    "current_address": _("Nơi ở hiện tại"),
    "marital_status": _("Tình trạng hôn nhân"),
    "old_id_number": _("Số CMND cũ"),
    "temporary_residence": _("Nơi tạm trú"),
}

CHOICE_LABELS: dict[str, Any] = {
    "own": _("Nhà của mình"), "host": _("Ở nhờ"), "rented": _("Thuê, mượn"),
    "lost": _("Bị mất"), "damaged": _("Bị hỏng"), "info_changed": _("Thay đổi thông tin"),
    "nationality_regained": _("Được trở lại quốc tịch Việt Nam"),
    "head": _("Chủ hộ"), "spouse": _("Vợ/chồng"), "child": _("Con"), "parent": _("Cha/mẹ"),
    "grandchild": _("Cháu"), "sibling": _("Anh/chị/em"), "other": _("Khác"),
    "supervised": _("Bị can, bị cáo đang tại ngoại; người bị kết án phạt tù được hoãn, tạm đình chỉ; "
                    "người đang chấp hành án treo, cải tạo không giam giữ"),
    "admin_measure": _("Người đang chấp hành biện pháp xử lý hành chính"),
    "military_age": _("Người trong độ tuổi nghĩa vụ quân sự rời huyện/xã"),
    "long_absence": _("Người vắng mặt khỏi xã từ 12 tháng trở lên"),
    "M": _("Nam"), "F": _("Nữ"),
}


HELP: dict[str, Any] = {
    "commune": _("Mã xã/phường theo danh mục từ 2025, ví dụ 2025:00097."),
    "host_personal_id": _("Khi ở nhờ: 12 chữ số."),
}

ACTION_LABELS: dict[str, Any] = {
    "submitted": _("Nộp hồ sơ"), "paid": _("Đã nộp lệ phí"), "assigned": _("Phân công xử lý"),
    "accepted": _("Tiếp nhận hồ sơ"), "supplement_requested": _("Yêu cầu bổ sung"),
    "supplemented": _("Đã bổ sung hồ sơ"), "approved": _("Phê duyệt, có kết quả"), "refused": _("Từ chối"),
    "handed_over": _("Đã trả kết quả"), "withdrawn": _("Rút hồ sơ"), "rated": _("Đánh giá mức độ hài lòng"),
    "feedback": _("Góp ý"), "complaint": _("Khiếu nại"),
    "step_done": _("Một cơ quan đã giải quyết"), "step_refused": _("Một cơ quan từ chối"),
}


def label_of(name: str, spec: dict[str, Any] | None = None) -> Any:
    if name in LABELS:
        return LABELS[name]
    spec = spec or {}
    return spec.get("title") or spec.get("description") or name.replace("_", " ")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def field_for(name: str, spec: dict[str, Any], required: bool) -> forms.Field:
    kind = spec.get("type", "string")
    label = label_of(name, spec)
    help_text = HELP.get(name, "")
    if spec.get("enum"):
        choices = [("", "—")] + [(v, CHOICE_LABELS.get(str(v), str(v))) for v in spec["enum"]]
        if kind == "integer":
            return forms.TypedChoiceField(label=label, choices=choices, coerce=int, required=required)
        return forms.ChoiceField(label=label, choices=choices, required=required)
    if kind == "boolean":
        return forms.BooleanField(label=label, required=required)
    if kind == "integer":
        return forms.IntegerField(label=label, required=required, min_value=spec.get("minimum"),
                                  max_value=spec.get("maximum"))
    if spec.get("format") == "date":
        return forms.DateField(label=label, required=required, widget=DateInput(), input_formats=["%Y-%m-%d"])
    validators = []
    if spec.get("pattern"):
        validators.append(RegexValidator(spec["pattern"], message=_("Không đúng định dạng.")))
    return forms.CharField(label=label, required=required, min_length=spec.get("minLength"),
                           max_length=spec.get("maxLength"), validators=validators, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": 3}) if (spec.get("maxLength") or 0) > 300
                           else forms.TextInput)


class SchemaForm(forms.Form):
    """The citizen-entered data of one procedure. Registry fields are never fields of it."""

    def __init__(self, schema: dict[str, Any], registry_fields: list[str], *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "data")
        super().__init__(*args, **kwargs)
        required = set(schema.get("required", []))
        for name, spec in (schema.get("properties") or {}).items():
            if name in registry_fields:
                continue
            self.fields[name] = field_for(name, spec, name in required)

    def as_data(self) -> dict[str, Any]:
        """The cleaned values as JSON (dates ISO, text NFC), empty optional fields left out."""
        out: dict[str, Any] = {}
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, str):
                value = nfc(value.strip())
            out[name] = value
        return out


RELATION_CHOICES = [
    ("self", _("Bản thân tôi")),
    ("parent", _("Con chưa thành niên của tôi")),
    ("household_head", _("Thành viên hộ gia đình tôi (tôi là chủ hộ)")),
    ("representative", _("Người tôi được ủy quyền")),
]


class ActingForm(forms.Form):
    relation = forms.ChoiceField(label=_("Nộp hồ sơ cho"), choices=RELATION_CHOICES, initial="self",
                                 widget=forms.RadioSelect)
    subject_personal_id = forms.CharField(label=_("Số định danh cá nhân của người được nộp hộ"),
                                          required=False,
                                          validators=[RegexValidator(r"^[0-9]{12}$", _("Gồm 12 chữ số."))])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("relation") not in (None, "self") and not data.get("subject_personal_id"):
            self.add_error("subject_personal_id", _("Cần số định danh của người được nộp hộ."))
        return data


class CorrectionForm(forms.Form):
    field = forms.CharField(max_length=40)
    proposed_value = forms.CharField(label=_("Thông tin đúng là"), max_length=500,
                                     widget=forms.Textarea(attrs={"rows": 2}))
    note = forms.CharField(label=_("Ghi chú (giấy tờ chứng minh)"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class SupplementForm(forms.Form):
    note = forms.CharField(label=_("Nội dung trả lời"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("Mức độ hài lòng"), coerce=int,
                                    choices=[(i, str(i)) for i in range(5, 0, -1)], widget=forms.RadioSelect)


class FeedbackForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại"),
                             choices=[("feedback", _("Góp ý")), ("complaint", _("Khiếu nại"))])
    text = forms.CharField(label=_("Nội dung"), min_length=5, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 4}))
