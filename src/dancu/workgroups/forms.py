"""Forms of the working-group pages: they parse; the services check the rules (and their
refusals are shown beside the fields, ``accounts.forms.add_domain_errors``)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from dancu.workgroups.figures import figure_choices
from dancu.workgroups.models import MemberRole, ReportKind, TaskKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class GroupForm(forms.Form):
    unit = forms.ChoiceField(label=_("Đơn vị (tỉnh hoặc xã/phường)"))
    name = forms.CharField(label=_("Tên tổ công tác"), max_length=200)
    decision_ref = forms.CharField(label=_("Quyết định thành lập"), max_length=120, required=False)

    def __init__(self, *args: Any, units: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if units is None:  # editing: the unit does not change
            del self.fields["unit"]
        elif not units:  # a national officer types the code
            self.fields["unit"] = forms.CharField(label=_("Mã đơn vị (ví dụ 2025:38 hoặc 2025:14758)"),
                                                  max_length=20)
        else:
            cast(forms.ChoiceField, self.fields["unit"]).choices = units


class MemberForm(forms.Form):
    full_name = forms.CharField(label=_("Họ và tên"), max_length=120)
    position = forms.CharField(label=_("Chức vụ"), max_length=120, required=False)
    agency = forms.CharField(label=_("Cơ quan"), max_length=160, required=False)
    role = forms.ChoiceField(label=_("Vai trò trong tổ"), choices=MemberRole.choices,
                             initial=MemberRole.MEMBER)
    username = forms.CharField(label=_("Tài khoản cán bộ (nếu có)"), max_length=150, required=False,
                               help_text=_("Tổ trưởng và thư ký có tài khoản được quản lý tổ."))
    active = forms.BooleanField(label=_("Đang là thành viên"), required=False, initial=True)


class PlanForm(forms.Form):
    title = forms.CharField(label=_("Tên kế hoạch"), max_length=300)
    year = forms.IntegerField(label=_("Năm"), min_value=2000, max_value=2100)
    reference = forms.CharField(label=_("Số, ký hiệu văn bản"), max_length=120, required=False)


class TaskForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại nhiệm vụ"), choices=TaskKind.choices, initial=TaskKind.SPECIFIC)
    title = forms.CharField(label=_("Nội dung nhiệm vụ"), max_length=500,
                            widget=forms.Textarea(attrs={"rows": 2}))
    owner_agency = forms.CharField(label=_("Cơ quan chủ trì"), max_length=160)
    deadline = forms.DateField(label=_("Thời hạn"), required=False, widget=DATE)
    recurring = forms.BooleanField(label=_("Nhiệm vụ thường xuyên"), required=False)
    target_code = forms.ChoiceField(label=_("Chỉ tiêu: số liệu"), required=False,
                                    help_text=_("Số liệu tính từ dữ liệu nghiệp vụ (trang chỉ số)."))
    target_value = forms.CharField(label=_("Chỉ tiêu: giá trị cần đạt (% với tỷ lệ)"), max_length=30,
                                   required=False)
    target_procedure = forms.CharField(label=_("Chỉ tiêu: mã thủ tục (nếu có)"), max_length=20,
                                       required=False)
    notes = forms.CharField(label=_("Ghi chú"), max_length=4000, required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))


    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["target_code"]).choices = [
            ("", _("— không có —")), *[(code, f"{label} ({code})") for code, label in figure_choices()]]


class DoneForm(forms.Form):
    evidence = forms.CharField(label=_("Kết quả, minh chứng"), max_length=4000,
                               widget=forms.Textarea(attrs={"rows": 3}))
    attachment = forms.FileField(label=_("Tệp minh chứng (PDF, JPEG, PNG)"), required=False)


class ManualFigureForm(forms.Form):
    code = forms.CharField(label=_("Mã số liệu"), max_length=60)
    label = forms.CharField(label=_("Tên số liệu"), max_length=300)
    period_start = forms.DateField(label=_("Từ ngày"), widget=DATE)
    period_end = forms.DateField(label=_("Đến ngày"), widget=DATE)
    value = forms.CharField(label=_("Giá trị"), max_length=30)
    unit_label = forms.CharField(label=_("Đơn vị tính"), max_length=40, required=False)
    source = forms.CharField(label=_("Nguồn số liệu"), max_length=300,
                             help_text=_("Bắt buộc: văn bản, báo cáo hoặc cơ quan cung cấp số liệu."))
    note = forms.CharField(label=_("Ghi chú"), max_length=4000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class IssueForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại báo cáo"), choices=ReportKind.choices)
    day = forms.DateField(label=_("Một ngày trong kỳ báo cáo"), widget=DATE,
                          help_text=_("Báo cáo 15 ngày: ngày 1–15 hoặc 16–cuối tháng; "
                                      "báo cáo tháng: cả tháng."))


class CorrectionForm(forms.Form):
    reason = forms.CharField(label=_("Lý do đính chính"), max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Bắt buộc: sai sót được sửa. Lý do được ghi trên báo cáo thay thế."))
