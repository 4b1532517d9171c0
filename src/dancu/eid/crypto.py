"""Encryption of stored authenticator secrets (TOTP seeds) and keyed digests of one-time codes.

Keys are derived with HKDF from ``DANCU_EID_SECRET_KEY`` (falls back to Django's SECRET_KEY, which
production mode already requires), so a database dump alone reveals neither.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _master() -> bytes:
    return (getattr(settings, "DANCU_EID_SECRET_KEY", "") or settings.SECRET_KEY).encode()


@lru_cache(maxsize=4)
def _derive(purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dancu.eid." + purpose
                ).derive(_master())


def encrypt(value: str) -> str:
    return Fernet(base64.urlsafe_b64encode(_derive(b"fernet"))).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return Fernet(base64.urlsafe_b64encode(_derive(b"fernet"))).decrypt(token.encode()).decode()


def code_digest(challenge_key: str, code: str) -> str:
    """HMAC-SHA256 of a one-time code, bound to its challenge."""
    return hmac.new(_derive(b"otp"), f"{challenge_key}:{code}".encode(), hashlib.sha256).hexdigest()


def digests_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
