"""Citizen passwords: Argon2id with the OWASP Password Storage Cheat Sheet's first setting
(m = 19 MiB, t = 2, p = 1), through argon2-cffi. Settings can raise them, never lower them
below OWASP's minimum in production."""

from __future__ import annotations

import contextlib
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from django.conf import settings

OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=int(getattr(settings, "DANCU_EID_ARGON2_TIME_COST", OWASP_TIME_COST)),
        memory_cost=int(getattr(settings, "DANCU_EID_ARGON2_MEMORY_KIB", OWASP_MEMORY_KIB)),
        parallelism=OWASP_PARALLELISM, hash_len=32, salt_len=16, type=Type.ID,
    )


def hash_password(password: str) -> str:
    return hasher().hash(password)


# A real hash of a random password: verifying against it costs what a real check costs, so an
# unknown ID number takes as long to refuse as a wrong password (no account enumeration by time).
_DUMMY: list[str] = []


def verify_password(stored: str, password: str) -> bool:
    if not stored:
        if not _DUMMY:
            _DUMMY.append(hash_password("dummy-password-for-timing"))
        stored = _DUMMY[0]
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher().verify(stored, password)
        return False
    try:
        return hasher().verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return hasher().check_needs_rehash(stored)
