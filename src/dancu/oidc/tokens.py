"""Access and refresh tokens: 256 random bits from the operating system's CSPRNG, URL-safe
base64 (43 characters), by ``secrets.token_urlsafe`` in one call; and the checksum the library
stores them under and looks them up by.

oauthlib's default generator draws each of its 30 characters separately through
``random.SystemRandom`` (~25 µs a token here, ~1 µs this way) for 178 bits. django-oauth-toolkit
issues tokens with this function (``ACCESS_TOKEN_GENERATOR`` / ``REFRESH_TOKEN_GENERATOR`` in
settings). RFC 6750's ``b64token`` syntax allows the ``-`` and ``_`` it may contain.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

TOKEN_BYTES = 32


def generate(request: Any = None) -> str:
    """A new access or refresh token (oauthlib calls it with the request, unused)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def checksum(token: str) -> str:
    """What django-oauth-toolkit's ``TokenChecksumField`` stores (SHA-256, hex) and looks tokens
    up by: the bearer check and introspection find a token with it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
