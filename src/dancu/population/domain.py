"""The personal identification number (số định danh cá nhân), as plain rules.

12 digits: 3-digit code of the province (or country) where the birth was registered,
1 century/sex digit, the last 2 digits of the birth year, 6 random digits; no checksum.
Sources: Decree 137/2015 Art. 13; Circular 07/2016 Art. 7 and Appendix 1;
Circular 59/2021 Art. 4; Law on Identification 2023 Art. 12.

No framework imports here: these functions are tested without a database.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from dancu.core.errors import FieldError

# Circular 07/2016 Appendix 1: the 63 legacy provinces, GSO codes zero-padded to 3 digits.
# Numbers are never re-issued when provinces merge (2025), so this table stays as it is.
ID_PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn",
    "008": "Tuyên Quang", "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu",
    "014": "Sơn La", "015": "Yên Bái", "017": "Hòa Bình", "019": "Thái Nguyên",
    "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang", "025": "Phú Thọ",
    "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định",
    "037": "Ninh Bình", "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh",
    "044": "Quảng Bình", "045": "Quảng Trị", "046": "Thừa Thiên Huế", "048": "Đà Nẵng",
    "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định", "054": "Phú Yên",
    "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa – Vũng Tàu", "079": "TP Hồ Chí Minh", "080": "Long An",
    "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long",
    "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}

_ID_RE = re.compile(r"^\d{12}$")
_OLD_ID_RE = re.compile(r"^\d{9}$")
MALE, FEMALE = "M", "F"


def century_sex_digit(birth_year: int, sex: str) -> int:
    """0/1 for the 1900s, 2/3 for the 2000s … 8/9 for the 2300s (even = male)."""
    century = birth_year // 100
    if not 19 <= century <= 23:
        raise ValueError(f"birth year {birth_year} outside 1900–2399")
    return (century - 19) * 2 + (1 if sex == FEMALE else 0)


@dataclass(frozen=True)
class DecodedId:
    province_code: str
    sex: str
    birth_year: int


def decode(number: str) -> DecodedId:
    digit = int(number[3])
    return DecodedId(
        province_code=number[:3],
        sex=FEMALE if digit % 2 else MALE,
        birth_year=1900 + (digit // 2) * 100 + int(number[4:6]),
    )


def compose(province_code: str, birth_year: int, sex: str, serial: int | None = None) -> str:
    """Build a number; ``serial`` (6 random digits) is drawn from a CSPRNG when not given."""
    if serial is None:
        serial = secrets.randbelow(1_000_000)
    return f"{province_code}{century_sex_digit(birth_year, sex)}{birth_year % 100:02d}{serial:06d}"


def check_personal_id(number: str, *, birth_year: int | None = None, sex: str | None = None,
                      field: str = "personal_id") -> list[FieldError]:
    """Format, known province code, and consistency with the birth year and sex."""
    if not _ID_RE.match(number or ""):
        return [FieldError("E_ID_NUMBER_FORMAT", _("Số định danh phải gồm đúng 12 chữ số."), field)]
    errors: list[FieldError] = []
    if number[:3] not in ID_PROVINCE_CODES:
        errors.append(FieldError(
            "E_ID_NUMBER_PROVINCE",
            _("Mã tỉnh %(code)s trong số định danh không có trong danh mục.") % {"code": number[:3]},
            field))
    decoded = decode(number)
    if birth_year is not None and decoded.birth_year != birth_year:
        errors.append(FieldError(
            "E_ID_NUMBER_BIRTH_YEAR",
            _("Số định danh ứng với năm sinh %(id_year)s, hồ sơ ghi %(year)s.")
            % {"id_year": decoded.birth_year, "year": birth_year},
            field))
    if sex is not None and decoded.sex != sex:
        errors.append(FieldError(
            "E_ID_NUMBER_SEX", _("Mã thế kỷ/giới tính trong số định danh không khớp giới tính."),
            field))
    return errors


def check_old_id(number: str, field: str = "old_id_number") -> list[FieldError]:
    if not _OLD_ID_RE.match(number):
        return [FieldError("E_OLD_ID_FORMAT", _("Số CMND cũ phải gồm đúng 9 chữ số."), field)]
    return []
