"""Vietnamese text: stored in NFC with its diacritics, searched without them."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(value: str) -> str:
    """Normalise to NFC and collapse runs of white space; the spelling is kept as given."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def search_key(value: str) -> str:
    """Lower-case, diacritics-free form used for matching: 'Đặng Thị Ngọc' -> 'dang thi ngoc'."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.lower()).strip()


def given_key(name_key: str) -> str:
    """The given name (tên, the last word) of a search key: 'nguyen van an' -> 'an'."""
    return name_key.rsplit(" ", 1)[-1][:40]


def is_nfc(value: str) -> bool:
    return unicodedata.is_normalized("NFC", value)
