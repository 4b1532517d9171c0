"""Rules of electronic identification that need no database (Decree 69/2024/NĐ-CP).

Two scales meet here and must not be confused:

- the **e-ID account level** (mức độ tài khoản định danh điện tử) says how the person's identity
  was proven when the account was made: level 1 online against the population database with a
  portrait, level 2 in person at the commune police with the card and biometrics;
- the **authentication assurance level** (mức độ xác thực, Art. 11–12 of Decree 69) says how
  strongly this login proved it is that person: level 1 one factor; level 2 two factors without
  biometrics; level 3 two or more factors of which one biometric; level 4 a biometric factor
  plus two or more others.

An OpenID Connect relying party asks for the second through ``acr_values`` and learns what was
reached from the ``acr`` and ``amr`` claims (RFC 8176 method names). A login can never be
stronger than the identity proofing behind it, so a level-1 account is capped at assurance 1
(as eIDAS caps the level of assurance at the weaker of enrolment and authentication).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

# acr values published in the discovery document. Level N means "at least N".
ACR_PREFIX = "urn:vn:dancu:loa:"
ACR_VALUES = tuple(f"{ACR_PREFIX}{n}" for n in (1, 2, 3, 4))

# RFC 8176 authentication method reference values, by factor category.
KNOWLEDGE = frozenset({"pwd", "pin"})
POSSESSION = frozenset({"sms", "otp", "hwk", "swk"})
BIOMETRIC = frozenset({"face", "fpt", "iris"})


def acr_for_level(level: int) -> str:
    return f"{ACR_PREFIX}{level}"


def level_of_acr(acr: str) -> int | None:
    """The assurance level an ``acr`` value names, or None if it is not one of ours."""
    if acr in ACR_VALUES:
        return int(acr.removeprefix(ACR_PREFIX))
    return None


def assurance_level(methods: Iterable[str], account_level: int) -> int:
    """The Decree 69 assurance level that this set of factors reaches for this account (0: none)."""
    used = set(methods)
    categories = sum(bool(used & cat) for cat in (KNOWLEDGE, POSSESSION, BIOMETRIC))
    factors = len(used & (KNOWLEDGE | POSSESSION | BIOMETRIC))
    if factors == 0:
        return 0
    biometric = bool(used & BIOMETRIC)
    if biometric and factors >= 3:
        level = 4
    elif biometric and factors >= 2:
        level = 3
    elif categories >= 2:
        level = 2
    else:
        level = 1
    return min(level, 1 if account_level < 2 else 4)


def amr_claim(methods: Iterable[str]) -> list[str]:
    """The ``amr`` claim: the methods used, plus "mfa" when factors of two categories were used."""
    used = sorted(set(methods))
    categories = sum(bool(set(used) & cat) for cat in (KNOWLEDGE, POSSESSION, BIOMETRIC))
    return [*used, "mfa"] if categories >= 2 else used


def max_reachable_level(account_level: int, available_methods: Iterable[str]) -> int:
    """The best assurance this account could reach with the authenticators it has."""
    return assurance_level(available_methods, account_level)


# ---- Eligibility by age (Decree 69, Art. 9) -----------------------------------------------------

@dataclass(frozen=True)
class Eligibility:
    self_level1: bool       # may register level 1 themselves
    level2: bool            # may be enrolled at level 2 at the counter
    level2_on_request: bool  # only on request (aged 6 to under 14)
    via_guardian: bool      # level 1 only through a guardian's account (under 6)


def age_on(birth_year: int, birth_month: int | None, birth_day: int | None, today: dt.date) -> int:
    """Completed years. With a partial date of birth the latest possible birthday is assumed, so
    a person is never taken for older than they may be."""
    month = birth_month or 12
    day = birth_day or (31 if month == 12 else 28)
    age = today.year - birth_year
    if (today.month, today.day) < (month, day):
        age -= 1
    return age


def eligibility(age: int) -> Eligibility:
    if age >= 14:
        return Eligibility(self_level1=True, level2=True, level2_on_request=False, via_guardian=False)
    if age >= 6:
        return Eligibility(self_level1=True, level2=True, level2_on_request=True, via_guardian=False)
    return Eligibility(self_level1=False, level2=False, level2_on_request=False, via_guardian=True)
