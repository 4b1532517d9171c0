"""The data-quality checks of the population register — "đúng, đủ, sạch, sống".

Each check has a stable code (``Q_…``), a Vietnamese label and a condition written as a
Django ``Q`` over one table, so the same definition serves the report (``Count(filter=…)``
grouped by unit, one SQL scan) and the drill-down (``filter(…)`` of the failing records).
Nothing here loops over rows in Python. Definitions are documented in docs/data-quality.md;
a change here must be made there too.

Most checks are on ``population.Citizen``. Two are counted where the fault lives:
a household with a deceased head in the household's commune, an expired temporary
residence in the commune where it was registered (the police who must close it).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Count, Exists, F, Func, IntegerField, OuterRef, Q, Value
from django.db.models.expressions import Combinable, ExpressionWrapper
from django.db.models.functions import (
    Cast,
    Coalesce,
    Concat,
    ExtractDay,
    ExtractMonth,
    ExtractYear,
    Lower,
    Replace,
    Substr,
)
from django.db.models.lookups import Exact, GreaterThan, In, LessThan
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from dancu.core.text import search_key
from dancu.population.domain import ID_PROVINCE_CODES
from dancu.population.models import Citizen, LifeStatus
from dancu.residence.models import ResidenceKind

MINOR_AGE = 14  # Civil Code 2015 Art. 21: under 14 acts only through a legal representative
MAX_AGE = 120
MIN_PARENT_GAP_YEARS = 12


class Group:
    """The four words of Project 06: the report groups its columns by them."""

    SUFFICIENT = "du"     # đủ: required fields present
    CORRECT = "dung"      # đúng: formats and internal consistency
    CLEAN = "sach"        # sạch: no duplicates, canonical text
    LIVE = "song"         # sống: reflects today's reality

    LABELS: dict[str, Promise] = {
        SUFFICIENT: _("Đủ — thiếu thông tin bắt buộc"),
        CORRECT: _("Đúng — sai định dạng, mâu thuẫn"),
        CLEAN: _("Sạch — nghi trùng, văn bản chưa chuẩn"),
        LIVE: _("Sống — chưa cập nhật thực tế"),
    }


# Where a check's failing rows live: the citizen table, households, or registrations.
CITIZEN, HOUSEHOLD, REGISTRATION = "citizen", "household", "registration"


@dataclass(frozen=True)
class Check:
    code: str
    label: Promise
    group: str
    condition: Callable[[dt.date], Q]
    source: str = CITIZEN
    # Completeness checks: % complete = 1 - failing / denominator ("total", "minors" or
    # "not_deceased": the people the condition applies to).
    completeness: bool = False
    denominator: str = "total"


# --- building blocks -----------------------------------------------------------------------------

def _vietnamese_letters() -> dict[str, str]:
    """Every precomposed Vietnamese letter with a diacritic (both cases) → its ASCII letter,
    as ``dancu.core.text.search_key`` maps it (đ → d)."""
    bases = "aăâeêioôơuưy"
    tones = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
    letters = {"đ": "d", "Đ": "D"}
    for base in bases:
        for tone in tones:
            for ch in (base, base.upper()):
                composed = unicodedata.normalize("NFC", ch + tone)
                if len(composed) == 1 and not composed.isascii():
                    letters[composed] = search_key(composed)
    return letters


VIETNAMESE_LETTERS = _vietnamese_letters()
# The marks a decomposed (NFD) Vietnamese name carries: grave, acute, circumflex, tilde, breve,
# hook above, horn, dot below. In Vietnamese every letter has a precomposed form, so one of them
# in a stored name means the name is not NFC.
COMBINING_MARKS = ("\u0300", "\u0301", "\u0302", "\u0303", "\u0306", "\u0309", "\u031b", "\u0323")
_COMBINING_CLASS = "[" + "".join(COMBINING_MARKS) + "]"


_TRANSLATE_FROM = "".join(VIETNAMESE_LETTERS) + "".join(COMBINING_MARKS)
_TRANSLATE_TO = "".join(VIETNAMESE_LETTERS.values())  # shorter: TRANSLATE drops the marks


def _sqlite_search_key(value: str | None) -> str | None:
    return None if value is None else search_key(value)


class SearchKey(Func):
    """``dancu.core.text.search_key`` of a text column, in SQL.

    - PostgreSQL: ``LOWER(TRANSLATE(x, <134 Vietnamese letters + combining marks>, <ASCII>))``;
      letters outside Vietnamese (ö, ç…) are not folded (see docs/data-quality.md).
    - SQLite: the Python ``search_key`` itself, registered on the connection as
      ``dancu_search_key`` (SQLite has no TRANSLATE, and 142 nested REPLACE calls overflow
      its parser stack).
    - Other databases: nested REPLACE, then LOWER.
    """

    function = "dancu_search_key"
    arity = 1
    output_field = CharField()

    def as_sql(self, compiler: Any, connection: Any, function: str | None = None,  # Func's signature
               template: str | None = None, arg_joiner: str | None = None, **extra: Any) -> Any:
        expr: Any = self.source_expressions[0]
        for mark in COMBINING_MARKS:
            expr = Replace(expr, Value(mark), Value(""))
        for letter, ascii_letter in VIETNAMESE_LETTERS.items():
            expr = Replace(expr, Value(letter), Value(ascii_letter))
        return compiler.compile(Lower(expr))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        translated = Func(self.source_expressions[0], Value(_TRANSLATE_FROM), Value(_TRANSLATE_TO),
                          function="TRANSLATE", output_field=CharField())
        return compiler.compile(Lower(translated))

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        connection.ensure_connection()
        connection.connection.create_function(self.function, 1, _sqlite_search_key,
                                              deterministic=True)
        return Func.as_sql(self, compiler, connection, **extra)


def _id_well_formed() -> Q:
    return Q(personal_id__regex=r"^[0-9]{12}$")


def _century_sex_digit(parity: int) -> Combinable:
    """The ID's 4th digit expected for the record's birth century: (century-19)*2 + parity."""
    number = ExpressionWrapper((F("birth_year") / 100 - 19) * 2 + parity, output_field=IntegerField())
    return Cast(number, output_field=CharField())


def is_minor(today: dt.date) -> Q:
    """Under 14 today, counting an unknown birth month/day as 1 January (the oldest the person
    can be): only people certainly under 14 are counted."""
    cutoff = today.year - MINOR_AGE
    month = Coalesce(F("birth_month"), Value(1))
    day = Coalesce(F("birth_day"), Value(1))
    later_in_year = Q(GreaterThan(month, today.month)) | (
        Q(Exact(month, today.month)) & Q(GreaterThan(day, today.day)))
    return Q(birth_year__gt=cutoff) | (Q(birth_year=cutoff) & later_in_year)


def not_deceased(today: dt.date) -> Q:
    """People not recorded deceased (living or missing): those who have a place of residence.
    A death ends the residence, so a deceased person's empty current place is no gap."""
    return ~Q(life_status=LifeStatus.DECEASED)


def _parent_too_young(parent: str) -> Q:
    return Q(Exists(Citizen.objects.filter(
        pk=OuterRef(f"{parent}_id"),
        birth_year__gt=OuterRef("birth_year") - MIN_PARENT_GAP_YEARS)))


def duplicate_key() -> Concat:
    """The identity a duplicate shares: name_key, birth year, month, day, father, mother, as one
    text (``|``-separated; a NULL month/day/parent as 0 — never a real value — so two missing
    parents match). ``name_key`` is lower-case letters, digits and spaces: no ``|``."""
    parts: list[Any] = [F("name_key")]
    for f in ("birth_year", "birth_month", "birth_day", "father_id", "mother_id"):
        parts += [Value("|"), Cast(Coalesce(F(f), 0), output_field=CharField())]
    return Concat(*parts, output_field=CharField())


def duplicate_of_outer() -> Q:
    """Another record with the same name_key, full date of birth and parents (NULL = NULL): the
    record's ``duplicate_key`` is among the keys that more than one record has. Written as an
    uncorrelated ``IN (SELECT key … GROUP BY key HAVING COUNT(*) > 1)`` — one hash aggregate
    over the citizens, then a hash lookup per row — rather than ``EXISTS`` per row, which
    PostgreSQL cannot turn into a join inside ``COUNT(*) FILTER``/a select list (20 of the 36 s
    of a 1,000,000-person scan)."""
    shared = (Citizen.objects.annotate(dup_key=duplicate_key()).values("dup_key")
              .annotate(n=Count("pk")).filter(n__gt=1).values("dup_key"))
    return Q(In(duplicate_key(), shared))


# --- the checks ----------------------------------------------------------------------------------

def _missing(field: str) -> Callable[[dt.date], Q]:
    def condition(today: dt.date) -> Q:
        return Q(**{f"{field}__isnull": True}) | Q(**{field: ""})
    return condition


def _missing_fk(field: str) -> Callable[[dt.date], Q]:
    return lambda today: Q(**{f"{field}__isnull": True})


def _id_dob(today: dt.date) -> Q:
    digit = Substr("personal_id", 4, 1)
    year_digits = Substr(Cast("birth_year", output_field=CharField()), 3, 2)
    wrong_century = ~Q(Exact(digit, _century_sex_digit(0))) & ~Q(Exact(digit, _century_sex_digit(1)))
    wrong_year = ~Q(Exact(Substr("personal_id", 5, 2), year_digits))
    return _id_well_formed() & (wrong_century | wrong_year)


def _id_sex(today: dt.date) -> Q:
    odd = Q(In(Substr("personal_id", 4, 1), ["1", "3", "5", "7", "9"]))
    return _id_well_formed() & (Q(sex="M") & odd | Q(sex="F") & ~odd)


def _death_before_birth(today: dt.date) -> Q:
    """(death y, m, d) < (birth y, m or 1, d or 1): an unknown birth month/day is the earliest
    the birth can be, so only a death certainly before the birth is counted."""
    month = Coalesce(F("birth_month"), Value(1))
    day = Coalesce(F("birth_day"), Value(1))
    d_year, d_month, d_day = ExtractYear("death_date"), ExtractMonth("death_date"), ExtractDay("death_date")
    same_year = Q(Exact(d_year, F("birth_year")))
    return Q(death_date__isnull=False) & (
        Q(LessThan(d_year, F("birth_year")))
        | same_year & Q(LessThan(d_month, month))
        | same_year & Q(Exact(d_month, month)) & Q(LessThan(d_day, day)))


CHECKS: tuple[Check, ...] = (
    # đủ — completeness
    Check("Q_MISSING_ETHNICITY", _("Thiếu dân tộc"), Group.SUFFICIENT, _missing("ethnicity"),
          completeness=True),
    Check("Q_MISSING_RELIGION", _("Thiếu tôn giáo"), Group.SUFFICIENT, _missing("religion"),
          completeness=True),
    Check("Q_MISSING_NATIONALITY", _("Thiếu quốc tịch"), Group.SUFFICIENT, _missing("nationality"),
          completeness=True),
    Check("Q_MISSING_BIRTH_PLACE", _("Thiếu nơi đăng ký khai sinh"), Group.SUFFICIENT,
          _missing_fk("birth_registration_unit"), completeness=True),
    Check("Q_MISSING_ORIGIN", _("Thiếu quê quán"), Group.SUFFICIENT, _missing_fk("origin_unit"),
          completeness=True),
    Check("Q_MISSING_RESIDENCE", _("Thiếu nơi ở hiện tại"), Group.SUFFICIENT,
          lambda today: not_deceased(today) & _missing_fk("current_commune")(today),
          completeness=True, denominator="not_deceased"),
    Check("Q_MINOR_NO_PARENT", _("Người dưới 14 tuổi chưa liên kết cha hoặc mẹ"), Group.SUFFICIENT,
          lambda today: is_minor(today) & Q(father__isnull=True, mother__isnull=True),
          completeness=True, denominator="minors"),
    # đúng — formats and consistency
    Check("Q_ID_FORMAT", _("Số định danh không đủ 12 chữ số"), Group.CORRECT,
          lambda today: ~_id_well_formed()),
    Check("Q_ID_PROVINCE", _("Mã tỉnh trong số định danh không có trong danh mục"), Group.CORRECT,
          lambda today: _id_well_formed() & ~Q(In(Substr("personal_id", 1, 3), sorted(ID_PROVINCE_CODES)))),
    Check("Q_OLD_ID_FORMAT", _("Số CMND cũ không đủ 9 chữ số"), Group.CORRECT,
          lambda today: Q(old_id_number__isnull=False) & ~Q(old_id_number__regex=r"^[0-9]{9}$")),
    Check("Q_NAME_DIGITS", _("Họ tên chứa chữ số"), Group.CORRECT,
          lambda today: Q(full_name__regex=r"[0-9]")),
    Check("Q_ID_DOB_MISMATCH", _("Số định danh không khớp năm sinh"), Group.CORRECT, _id_dob),
    Check("Q_ID_SEX_MISMATCH", _("Số định danh không khớp giới tính"), Group.CORRECT, _id_sex),
    Check("Q_PARENT_YOUNGER", _("Cha/mẹ hơn con dưới 12 tuổi"), Group.CORRECT,
          lambda today: _parent_too_young("father") | _parent_too_young("mother")),
    Check("Q_DECEASED_NO_DATE", _("Đã chết nhưng thiếu ngày chết"), Group.CORRECT,
          lambda today: Q(life_status=LifeStatus.DECEASED, death_date__isnull=True)),
    Check("Q_DEATH_BEFORE_BIRTH", _("Ngày chết trước ngày sinh"), Group.CORRECT, _death_before_birth),
    # sạch — duplicates and canonical text
    Check("Q_DUPLICATE", _("Nghi trùng (cùng họ tên, ngày sinh, cha mẹ)"), Group.CLEAN,
          lambda today: duplicate_of_outer()),
    Check("Q_NAME_NOT_NFC", _("Họ tên chưa chuẩn Unicode NFC"), Group.CLEAN,
          lambda today: Q(full_name__regex=_COMBINING_CLASS)),
    Check("Q_NAME_KEY_STALE", _("Khóa tìm kiếm họ tên không khớp họ tên"), Group.CLEAN,
          lambda today: ~Q(Exact(F("name_key"), SearchKey("full_name")))),
    # sống — up to date
    Check("Q_OVER_120", _("Còn sống nhưng trên 120 tuổi"), Group.LIVE,
          lambda today: Q(life_status=LifeStatus.LIVING, birth_year__lt=today.year - MAX_AGE)),
    Check("Q_DECEASED_HEAD", _("Chủ hộ đã chết"), Group.LIVE,
          lambda today: Q(head__life_status=LifeStatus.DECEASED), source=HOUSEHOLD),
    Check("Q_TEMP_EXPIRED", _("Tạm trú đã hết hạn chưa xóa"), Group.LIVE,
          lambda today: Q(kind=ResidenceKind.TEMPORARY, ended_on__isnull=True, expires_on__lt=today),
          source=REGISTRATION),
)

BY_CODE: dict[str, Check] = {c.code: c for c in CHECKS}
CITIZEN_CHECKS = tuple(c for c in CHECKS if c.source == CITIZEN)
