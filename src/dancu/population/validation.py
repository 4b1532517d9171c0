"""Turning raw values (a form, a JSON body, a CSV row) into a clean citizen record.

One function serves the console, the API and the importer, so a rule is written once.
Unit and parent look-ups are passed in, so the importer can resolve them from a cache.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.translation import gettext_lazy as _

from dancu.core.errors import FieldError
from dancu.core.reference import ETHNICITIES, RELIGIONS
from dancu.core.text import given_key, is_nfc, nfc, search_key
from dancu.population import domain
from dancu.population.models import LifeStatus, MaritalStatus, Sex

# Fields a caller may set; personal_id is set only at creation (never changed afterwards).
CITIZEN_FIELDS = (
    "personal_id", "full_name", "birth_date", "sex", "ethnicity", "religion", "nationality",
    "birth_registration_unit", "origin_unit", "marital_status", "life_status", "death_date",
    "old_id_number", "father_id", "mother_id", "spouse_id",
)
REQUIRED = ("full_name", "birth_date", "sex", "ethnicity", "birth_registration_unit")

_DATE_FORMS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), ("y", "m")),
    (re.compile(r"^(\d{1,2})/(\d{4})$"), ("m", "y")),
    (re.compile(r"^(\d{4})$"), ("y",)),
)
_SEX_WORDS = {"m": "M", "nam": "M", "male": "M", "f": "F", "nu": "F", "female": "F"}
_ETHNICITY_BY_KEY = {search_key(name): code for code, name in ETHNICITIES.items()}
_RELIGION_BY_KEY = {search_key(name): code for code, name in RELIGIONS.items()}
_MARITAL_VALUES = frozenset(MaritalStatus.values)  # .values is rebuilt on every access
_LIFE_VALUES = frozenset(LifeStatus.values)


@dataclass
class Cleaned:
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)

    def error(self, code: str, message: Any, fld: str) -> None:
        self.errors.append(FieldError(code, message, fld))


def parse_partial_date(text: str) -> tuple[int, int | None, int | None]:
    """'1990-05-17', '17/05/1990', '1990-05', '05/1990' or '1990' → (year, month, day).
    Raises ValueError for anything else or an impossible calendar date."""
    text = (text or "").strip()
    for pattern, parts in _DATE_FORMS:
        match = pattern.match(text)
        if match:
            got = dict(zip(parts, (int(g) for g in match.groups()), strict=True))
            year, month, day = got["y"], got.get("m"), got.get("d")
            if month is not None and not 1 <= month <= 12:
                raise ValueError("month")
            if day is not None:
                dt.date(year, month or 1, day)  # raises for 31/02 and the like
            return year, month, day
    raise ValueError("format")


# What the messages ask for: the form the console's fields take (dd/mm/yyyy). The validator
# also accepts ISO dates (the API's and the import's), so the advice holds everywhere. A date of
# the right form that the calendar does not have (31/02/1990, month 13) is named as such.
BIRTH_DATE_MESSAGES = (
    _("Ngày sinh không hợp lệ: nhập dd/mm/yyyy (không rõ ngày: mm/yyyy hoặc yyyy)."),
    _("Ngày sinh không hợp lệ: %(value)s không có trên lịch."))
DEATH_DATE_MESSAGES = (
    _("Ngày chết không hợp lệ: nhập dd/mm/yyyy."),
    _("Ngày chết không hợp lệ: %(value)s không có trên lịch."))


def _date_message(exc: ValueError, text: str, messages: tuple[Any, Any]) -> Any:
    if str(exc) in ("format", "partial"):
        return messages[0]
    return messages[1] % {"value": text.strip()}


def format_partial_date(year: int, month: int | None, day: int | None) -> str:
    if day:
        return f"{year:04d}-{month:02d}-{day:02d}"
    if month:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}"


# The cleaned values each raw field gives (a changed field replaces all of them).
_VALUES_OF = {
    "full_name": ("full_name", "name_key", "given_key"),
    "birth_date": ("birth_year", "birth_month", "birth_day"),
    "father_id": ("father",), "mother_id": ("mother",), "spouse_id": ("spouse",),
}


def merge_change(current: Mapping[str, Any], change: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The record as it will be after ``change``: ``current`` (raw values of every field, as
    ``population.services.snapshot`` gives them) overlaid with the change. Returns it and the
    fields the change sets. A life status changed to anything but deceased, with no death
    date in the change, clears the death date (it belonged to the status being undone)."""
    merged = {k: current.get(k) for k in CITIZEN_FIELDS}
    merged.update({k: v for k, v in change.items() if k in CITIZEN_FIELDS})
    changed = {k for k in change if k in CITIZEN_FIELDS}
    if change.get("life_status") and "death_date" not in changed \
            and change.get("life_status") != LifeStatus.DECEASED and merged.get("death_date"):
        merged["death_date"] = None
        changed.add("death_date")
    return merged, changed


_WORD_KEYS: dict[str, str] = {}


def name_key(name: str) -> str:
    """``core.text.search_key(name)`` for a name in canonical form (what ``nfc`` returns: NFC,
    single spaces, no white space around it), word by word from a cache: a file of millions
    names people with a few thousand distinct words. Every step of ``search_key`` works
    character by character with the space as a barrier (NFD's reordering of combining marks,
    removing them, lower case and its final-sigma rule), so the key of the name is the keys of
    its words joined by single spaces — when each word's key is non-empty and has no white
    space, checked here; otherwise ``search_key`` of the whole name."""
    keys = []
    for word in name.split(" "):
        key = _WORD_KEYS.get(word)
        if key is None:
            key = search_key(word)
            if not key or len(key.split()) != 1:
                return search_key(name)
            if len(_WORD_KEYS) < 100_000:
                _WORD_KEYS[word] = key
        keys.append(key)
    return " ".join(keys)


_ID12 = re.compile(r"\d{12}")


def _plausible_id(value: str) -> bool:
    """What ``domain.check_personal_id`` accepts when no birth year or sex is given, without
    building its result (the common case of a valid family link)."""
    return _ID12.fullmatch(value) is not None and value[:3] in domain.ID_PROVINCE_CODES


def is_canonical_text(value: str) -> bool:
    """``nfc(value) == value`` without building it: NFC, no white space other than single
    spaces between words (``isprintable`` is false for every other kind of white space)."""
    return (value.isprintable() and "  " not in value and value[0] != " " and value[-1] != " "
            and (value.isascii() or is_nfc(value)))


def clean_citizen(raw: Mapping[str, Any], *, resolve_unit: Callable[[str], Any | None],
                  resolve_person: Callable[[str], Any | None],
                  today: dt.date | None = None, partial: bool = False,
                  current: Mapping[str, Any] | None = None) -> Cleaned:
    """Validate and normalise. ``resolve_unit('2025:00097')`` returns an AdminUnit or None;
    ``resolve_person('0383…')`` returns a Citizen (or its id) or None.

    With ``current`` (a correction: the record's raw values now), ``raw`` is the change and
    every rule is checked on the record as it will be after it (``merge_change``) — a death
    date is compared with the birth date already recorded, and the reverse; an error on a
    field the change left alone is reported too. The values then hold only what the change
    sets. With ``partial`` (a form's early check), only the fields present are checked."""
    if current is not None:
        merged, changed = merge_change(current, raw)
        out = clean_citizen(merged, resolve_unit=resolve_unit, resolve_person=resolve_person,
                            today=today)
        keep = {v for k in changed for v in _VALUES_OF.get(k, (k,))}
        out.values = {k: v for k, v in out.values.items() if k in keep}
        out.values.update({k: None for k in keep - out.values.keys()
                           if k in ("origin_unit", "death_date", "old_id_number", "father",
                                    "mother", "spouse")})
        if "death_date" not in changed and "birth_date" in changed:
            # the death date is where it was: the refusal names the field that changed
            out.errors = [replace(e, field="birth_date") if e.code == "E_DEATH_BEFORE_BIRTH" else e
                          for e in out.errors]
        out.warnings = [w for w in out.warnings if w.field in changed]
        return out
    today = today or dt.date.today()
    out = Cleaned()
    present: dict[str, str] = {}
    for key in CITIZEN_FIELDS:
        if key not in raw:
            continue
        value = raw[key]
        value = "" if value is None else value if type(value) is str else str(value)
        if value and not is_canonical_text(value):  # most values are: no need to normalise
            if not is_nfc(value):
                out.warnings.append(FieldError(
                    "W_NOT_NFC", _("Văn bản chưa chuẩn Unicode NFC; đã chuẩn hoá."), key))
            value = nfc(value)
        present[key] = value
    if not partial:
        for key in REQUIRED:
            if not present.get(key):
                out.error("E_REQUIRED", _("Trường bắt buộc."), key)
    v = out.values

    if present.get("full_name"):
        name = present["full_name"]
        if len(name) > 150 or any(map(str.isdigit, name)):
            out.error("E_NAME_INVALID", _("Họ tên không được chứa chữ số và dài tối đa 150 ký tự."),
                      "full_name")
        else:
            v["full_name"], v["name_key"] = name, name_key(name)
            v["given_key"] = given_key(v["name_key"])

    if present.get("birth_date"):
        try:
            year, month, day = parse_partial_date(present["birth_date"])
        except ValueError as exc:
            out.error("E_DATE_INVALID", _date_message(exc, present["birth_date"], BIRTH_DATE_MESSAGES),
                      "birth_date")
        else:
            if year < 1900 or (year, month or 1, day or 1) > (today.year, today.month, today.day):
                out.error("E_DATE_RANGE", _("Ngày sinh phải từ năm 1900 đến hôm nay."), "birth_date")
            else:
                v.update(birth_year=year, birth_month=month, birth_day=day)

    if present.get("sex"):
        sex = present["sex"] if present["sex"] in ("M", "F") else _SEX_WORDS.get(search_key(present["sex"]))
        if sex is None:
            out.error("E_SEX_INVALID", _("Giới tính phải là M (nam) hoặc F (nữ)."), "sex")
        else:
            v["sex"] = sex

    if present.get("ethnicity"):
        code = _code(present["ethnicity"], ETHNICITIES, _ETHNICITY_BY_KEY)
        if code is None:
            out.error("E_ETHNICITY_UNKNOWN", _("Dân tộc không có trong danh mục 54 dân tộc."),
                      "ethnicity")
        else:
            v["ethnicity"] = code
    if "religion" in present or not partial:
        code = _code(present.get("religion") or "00", RELIGIONS, _RELIGION_BY_KEY)
        if code is None:
            out.error("E_RELIGION_UNKNOWN", _("Tôn giáo không có trong danh mục."), "religion")
        else:
            v["religion"] = code
    if "nationality" in present or not partial:
        nat = (present.get("nationality") or "VN").upper()
        if not re.fullmatch(r"[A-Z]{2}", nat):
            out.error("E_NATIONALITY_INVALID", _("Quốc tịch phải là mã ISO 2 chữ cái (VN)."),
                      "nationality")
        else:
            v["nationality"] = nat

    for key in ("birth_registration_unit", "origin_unit"):
        if present.get(key):
            unit = resolve_unit(present[key])
            if unit is None:
                out.error("E_UNIT_UNKNOWN", _("Mã đơn vị hành chính không tồn tại: %(code)s.")
                          % {"code": present[key]}, key)
            else:
                v[key] = unit
        elif key in present and partial and key == "origin_unit":
            v[key] = None

    for key, choices in (("marital_status", _MARITAL_VALUES), ("life_status", _LIFE_VALUES)):
        if present.get(key):
            if present[key] not in choices:
                out.error("E_CHOICE_INVALID", _("Giá trị không hợp lệ: %(value)s.")
                          % {"value": present[key]}, key)
            else:
                v[key] = present[key]

    if present.get("death_date"):
        try:
            y, m, d = parse_partial_date(present["death_date"])
            if not (m and d):
                raise ValueError("partial")
            death = dt.date(y, m, d)
        except ValueError as exc:
            out.error("E_DATE_INVALID", _date_message(exc, present["death_date"], DEATH_DATE_MESSAGES),
                      "death_date")
        else:
            if death > today:
                out.error("E_DATE_RANGE", _("Ngày chết không được ở tương lai."), "death_date")
            elif "birth_year" in v and (death.year, death.month, death.day) < (
                    v["birth_year"], v.get("birth_month") or 1, v.get("birth_day") or 1):
                out.error("E_DEATH_BEFORE_BIRTH", _("Ngày chết trước ngày sinh."), "death_date")
            else:
                v["death_date"] = death
    elif "death_date" in present and partial:
        v["death_date"] = None
    if v.get("life_status") == LifeStatus.DECEASED and not present.get("death_date") and not partial:
        out.error("E_REQUIRED", _("Người đã chết cần có ngày chết."), "death_date")
    if v.get("death_date") and v.get("life_status", LifeStatus.DECEASED) != LifeStatus.DECEASED:
        out.error("E_DEATH_DATE_LIVING", _("Chỉ ghi ngày chết khi tình trạng là đã chết."),
                  "death_date")

    if present.get("old_id_number"):
        errs = domain.check_old_id(present["old_id_number"])
        out.errors.extend(errs)
        if not errs:
            v["old_id_number"] = present["old_id_number"]
    elif "old_id_number" in present and partial:
        v["old_id_number"] = None

    for key in ("father_id", "mother_id", "spouse_id"):
        if present.get(key):
            if not _plausible_id(present[key]) and domain.check_personal_id(present[key], field=key):
                out.error("E_ID_NUMBER_FORMAT", _("Số định danh phải gồm đúng 12 chữ số."), key)
                continue
            person = resolve_person(present[key])
            if person is None:
                out.error("E_PERSON_UNKNOWN", _("Không có công dân mang số định danh %(id)s.")
                          % {"id": present[key]}, key)
            else:
                v[key.removesuffix("_id")] = person
        elif key in present and partial:
            v[key.removesuffix("_id")] = None

    if present.get("personal_id"):
        out.errors.extend(domain.check_personal_id(
            present["personal_id"], birth_year=v.get("birth_year"), sex=v.get("sex")))
        v["personal_id"] = present["personal_id"]
    return out


def _code(value: str, table: dict[str, str], by_key: dict[str, str]) -> str | None:
    if value.isdigit() and value.zfill(2) in table:
        return value.zfill(2)
    return by_key.get(search_key(value))


SEX_LABELS = dict(Sex.choices)
