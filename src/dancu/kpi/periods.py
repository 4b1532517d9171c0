"""Reporting periods: a month, a quarter, a year, the 15-day halves of a month, or any range of
local days (Asia/Ho_Chi_Minh). Plain functions, no database."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.core.errors import DomainError

KINDS = ("month", "quarter", "year", "custom")
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_CUSTOM_DAYS = 3660  # ten years: a wider range is a typing error


@dataclass(frozen=True)
class Period:
    """Local days ``start``..``end`` (both included)."""

    kind: str  # month | quarter | year | custom
    start: dt.date
    end: dt.date
    label: str

    @property
    def code(self) -> str:
        """What ``parse_period`` reads back: 2026-11, 2026-Q4, 2026, 2026-11-01..2026-11-15."""
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[first instant, first instant after) as aware datetimes (local midnights)."""
        tz = timezone.get_default_timezone()
        first = dt.datetime.combine(self.start, dt.time.min, tzinfo=tz)
        after = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return first, after

    def previous(self) -> Period:
        """The period of the same kind just before (a custom range: as many days before)."""
        if self.kind == "month":
            return month(self.start - dt.timedelta(days=1))
        if self.kind == "quarter":
            return quarter(self.start - dt.timedelta(days=1))
        if self.kind == "year":
            return year(self.start.year - 1)
        span = (self.end - self.start).days + 1
        return custom(self.start - dt.timedelta(days=span), self.start - dt.timedelta(days=1))


def month(day: dt.date) -> Period:
    last = calendar.monthrange(day.year, day.month)[1]
    return Period("month", day.replace(day=1), day.replace(day=last), f"{day.month:02d}/{day.year}")


def quarter(day: dt.date) -> Period:
    q = (day.month - 1) // 3
    start = dt.date(day.year, 3 * q + 1, 1)
    end_month = 3 * q + 3
    end = dt.date(day.year, end_month, calendar.monthrange(day.year, end_month)[1])
    return Period("quarter", start, end, f"Q{q + 1}/{day.year}")


def year(number: int) -> Period:
    return Period("year", dt.date(number, 1, 1), dt.date(number, 12, 31), str(number))


def custom(start: dt.date, end: dt.date) -> Period:
    return Period("custom", start, end, f"{start:%d/%m/%Y}–{end:%d/%m/%Y}")


def fifteen_day_period(day: dt.date) -> Period:
    """The 15-day reporting half the day falls in: 1–15, or 16 to the end of the month."""
    if day.day <= 15:
        return custom(day.replace(day=1), day.replace(day=15))
    return custom(day.replace(day=16), day.replace(day=calendar.monthrange(day.year, day.month)[1]))


def of_kind(kind: str, day: dt.date) -> Period:
    """The period of this kind containing ``day`` (``fifteen_day`` for the 15-day halves)."""
    if kind == "month":
        return month(day)
    if kind == "quarter":
        return quarter(day)
    if kind == "year":
        return year(day.year)
    if kind == "fifteen_day":
        return fifteen_day_period(day)
    raise DomainError("E_PERIOD_KIND", _("Loại kỳ: month, quarter, year hoặc fifteen_day."), "kind")


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def _bad(field: str) -> DomainError:
    return DomainError(
        "E_PERIOD",
        _("Kỳ không hợp lệ (2026-11, 2026-Q4, 2026 hoặc 2026-11-01..2026-11-15)."),
        field,
    )


def _year_ok(number: int, field: str) -> int:
    if not MIN_YEAR <= number <= MAX_YEAR:
        raise _bad(field)
    return number


def parse_period(text: object, *, field: str = "period") -> Period:
    """``2026-11`` (month), ``2026-Q4`` (quarter), ``2026`` (year) or
    ``2026-11-01..2026-11-15`` (custom range, both days included). Anything else:
    ``DomainError`` ``E_PERIOD`` naming ``field`` (never a 500)."""
    if not isinstance(text, str) or len(text) > 30:
        raise _bad(field)
    text = text.strip()
    if m := _MONTH.match(text):
        number, mon = _year_ok(int(m[1]), field), int(m[2])
        if not 1 <= mon <= 12:
            raise _bad(field)
        return month(dt.date(number, mon, 1))
    if m := _QUARTER.match(text):
        return quarter(dt.date(_year_ok(int(m[1]), field), 3 * (int(m[2]) - 1) + 1, 1))
    if m := _YEAR.match(text):
        return year(_year_ok(int(m[1]), field))
    if m := _RANGE.match(text):
        try:
            start, end = dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2])
        except ValueError:
            raise _bad(field) from None
        _year_ok(start.year, field), _year_ok(end.year, field)
        if end < start or (end - start).days > MAX_CUSTOM_DAYS:
            raise _bad(field)
        return custom(start, end)
    raise _bad(field)


def last_periods(kind: str, count: int, *, until: dt.date | None = None) -> list[Period]:
    """The ``count`` periods of ``kind`` ending with the one containing ``until`` (today),
    oldest first."""
    current = of_kind(kind, until or timezone.localdate())
    out = [current]
    for _i in range(max(count, 1) - 1):
        current = (
            current.previous()
            if kind != "fifteen_day"
            else fifteen_day_period(current.start - dt.timedelta(days=1))
        )
        out.append(current)
    return out[::-1]
