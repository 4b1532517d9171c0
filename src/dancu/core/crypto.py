"""Encryption of stored authenticator secrets (TOTP seeds), keyed digests of one-time codes, and
the TOTP check itself — shared by citizens' e-ID accounts (eid) and officers (accounts).

Keys are derived with HKDF from ``DANCU_EID_SECRET_KEY`` (falls back to Django's SECRET_KEY, which
production mode already requires), so a database dump alone reveals neither. To rotate it: set
the new key, list the old one in ``DANCU_EID_PREVIOUS_SECRET_KEYS`` (it still decrypts), run
``dancu eid rekey`` (every stored seed re-encrypted with the new key), then drop the old one.
One-time codes in flight (5 minutes) and recovery handles sealed with the old key stop working.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from functools import lru_cache

import pyotp
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _master() -> bytes:
    return (getattr(settings, "DANCU_EID_SECRET_KEY", "") or settings.SECRET_KEY).encode()


def _previous_masters() -> tuple[bytes, ...]:
    return tuple(k.strip().encode() for k in getattr(settings, "DANCU_EID_PREVIOUS_SECRET_KEYS", []))


@lru_cache(maxsize=16)
def _hkdf(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"dancu.eid." + purpose
                ).derive(master)


def _derive(purpose: bytes) -> bytes:
    return _hkdf(_master(), purpose)


@lru_cache(maxsize=4)
def _multi(masters: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(base64.urlsafe_b64encode(_hkdf(m, b"fernet"))) for m in masters])


def _fernet() -> MultiFernet:
    """Encrypts with the current key; decrypts with it or any previous one (key rotation)."""
    return _multi((_master(), *_previous_masters()))


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def reencrypt(token: str) -> str:
    """The same secret, encrypted with the current key (``MultiFernet.rotate``)."""
    return _fernet().rotate(token.encode()).decode()


def code_digest(challenge_key: str, code: str) -> str:
    """HMAC-SHA256 of a one-time code, bound to its challenge."""
    return hmac.new(_derive(b"otp"), f"{challenge_key}:{code}".encode(), hashlib.sha256).hexdigest()


def digests_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


# ---- TOTP (RFC 6238): 6 digits, 30-second steps, the current step ±1 for clock drift ----

def new_totp_secret() -> tuple[str, str]:
    """A fresh base32 seed and its encrypted form (only the latter is stored)."""
    secret = pyotp.random_base32()
    return secret, encrypt(secret)


def totp_uri(secret: str, *, name: str, issuer: str = "dancu") -> str:
    """The otpauth:// URI an authenticator app reads (from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def totp_step(secret_enc: str, code: str, now: dt.datetime) -> int | None:
    """The time step a code belongs to (now ±1 step), or None. The caller refuses a step not
    above the last one used (replay)."""
    if not secret_enc:
        return None
    totp = pyotp.TOTP(decrypt(secret_enc))
    code = (code or "").strip()
    for drift in (0, -1, 1):
        at = now + dt.timedelta(seconds=drift * totp.interval)
        if secrets.compare_digest(totp.at(at), code):
            return totp.timecode(at)
    return None
