"""Forms of the one-stop counter pages (``views/counter.py``): the queue's filters, the
actions on a dossier, and the intake of a paper dossier (its data fields are built from the
procedure's JSON Schema, its components from the procedure's list)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from dancu.core.text import nfc

MAX_PAGE = 10_000  # selectors.MAX_PAGE: a page number beyond this is refused (400), never a scan
STATUS_OPEN = "open"
STATUS_ALL = "all"
SORTS = {"due": _("Hạn giải quyết"), "submitted": _("Thời gian nộp"), "code": _("Mã hồ sơ")}
FLAGS = {"": _("Tất cả"), "due_soon": _("Sắp đến hạn"), "overdue": _("Quá hạn")}


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Trạng thái"), required=False)
    procedure = forms.ChoiceField(label=_("Thủ tục"), required=False)
    channel = forms.ChoiceField(label=_("Kênh nộp"), required=False)
    flag = forms.ChoiceField(label=_("Thời hạn"), required=False, choices=list(FLAGS.items()))
    mine = forms.BooleanField(label=_("Chỉ hồ sơ giao cho tôi"), required=False)
    sort = forms.ChoiceField(label=_("Sắp xếp theo"), required=False, choices=list(SORTS.items()))
    page = forms.IntegerField(label=_("Trang"), required=False, min_value=1, max_value=MAX_PAGE)

    def __init__(self, *args: Any, statuses: list[tuple[str, Any]], procedures: list[tuple[str, str]],
                 channels: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            (STATUS_OPEN, _("Đang giải quyết")), *statuses, (STATUS_ALL, _("Tất cả"))]
        cast(forms.ChoiceField, self.fields["procedure"]).choices = [("", _("Tất cả thủ tục")), *procedures]
        cast(forms.ChoiceField, self.fields["channel"]).choices = [("", _("Tất cả")), *channels]


class NoteForm(forms.Form):
    """The note of a request for supplement, the reason of a refusal (required), or an
    optional remark on the other actions."""

    note = forms.CharField(label=_("Ghi chú"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, required: bool = False, label: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].required = required
        if label is not None:
            self.fields["note"].label = label

    def clean_note(self) -> str:
        return nfc((self.cleaned_data.get("note") or "").strip())


class AssignForm(forms.Form):
    officer = forms.ChoiceField(label=_("Giao cho"))

    def __init__(self, *args: Any, officers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["officer"]).choices = officers


class IntakeStartForm(forms.Form):
    procedure = forms.ChoiceField(label=_("Thủ tục"))
    personal_id = forms.RegexField(label=_("Số định danh của người nộp"), regex=r"^\d{12}$",
                                   max_length=12, error_messages={
                                       "invalid": _("Số định danh gồm đúng 12 chữ số.")},
                                   widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    reason = forms.CharField(label=_("Lý do tra cứu"), max_length=500,
                             initial=_("Tiếp nhận hồ sơ tại bộ phận một cửa"))

    def __init__(self, *args: Any, procedures: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["procedure"]).choices = [("", "—"), *procedures]


def _schema_field(name: str, spec: dict, required: bool, lang_en: bool) -> forms.Field:
    label = spec.get("title_en" if lang_en else "title") or spec.get("title") or name
    help_text = spec.get("description", "")
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    common: dict[str, Any] = {"label": label, "required": required, "help_text": help_text}
    if "enum" in spec:
        labels = spec.get("enum_labels_en" if lang_en else "enum_labels") or spec.get("enum_labels") or []
        choices = [(str(v), str(labels[i]) if i < len(labels) else str(v))
                   for i, v in enumerate(spec["enum"])]
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    if kind == "boolean":
        return forms.BooleanField(**{**common, "required": False})
    if kind == "integer":
        return forms.IntegerField(min_value=spec.get("minimum"), max_value=spec.get("maximum"), **common)
    if spec.get("format") == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    max_length = spec.get("maxLength") or 2000
    widget = forms.Textarea(attrs={"rows": 2}) if max_length > 300 else forms.TextInput
    return forms.CharField(max_length=max_length, widget=widget, **common)


class IntakeForm(forms.Form):
    """The dossier's data (from the procedure's form_schema, the registry's fields left out:
    they come from the registry), the person it is about and how the applicant acts, and one
    file input per component (the scan)."""

    subject_personal_id = forms.RegexField(
        label=_("Số định danh của người được đăng ký (nếu không phải người nộp)"),
        regex=r"^\d{12}$", max_length=12, required=False,
        error_messages={"invalid": _("Số định danh gồm đúng 12 chữ số.")})
    relation = forms.ChoiceField(label=_("Người nộp là"))

    def __init__(self, *args: Any, procedure: Any, relations: list[tuple[str, Any]],
                 lang_en: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["relation"]).choices = relations
        schema = procedure.form_schema or {}
        required = set(schema.get("required") or [])
        skip = set(procedure.registry_fields or [])
        self.data_fields: list[str] = []
        self._specs: dict[str, dict] = {}
        for name, spec in (schema.get("properties") or {}).items():
            if name in skip or not isinstance(spec, dict):
                continue
            key = f"data__{name}"
            self.fields[key] = _schema_field(name, spec, name in required, lang_en)
            self.data_fields.append(name)
            self._specs[name] = spec
        self.component_fields: list[str] = []
        for comp in procedure.components or []:
            key = f"file__{comp['key']}"
            self.fields[key] = forms.FileField(
                label=comp.get("name_en" if lang_en else "name_vi") or comp["key"],
                required=bool(comp.get("required")),
                help_text=_("Bản quét PDF, JPEG hoặc PNG"),
                widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}))
            self.component_fields.append(comp["key"])

    def data_dict(self) -> dict[str, Any]:
        """The entered data as the JSON Schema expects it (dates ISO, blanks left out)."""
        out: dict[str, Any] = {}
        for name in self.data_fields:
            value = self.cleaned_data.get(f"data__{name}")
            if value is None or value == "":
                continue
            enum = self._specs[name].get("enum")
            if enum:  # back to the schema's own value (a number stays a number)
                value = next((v for v in enum if str(v) == value), value)
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            elif isinstance(value, str):
                value = nfc(value.strip())
            out[name] = value
        return out
