"""How an officer's session was signed in: the session's authentication backend says it.

``SecondFactorBackend`` authenticates nothing by itself (``authenticate`` always answers None):
the console's sign-in calls ``login(..., backend=SECOND_FACTOR_BACKEND)`` only after the password
*and* the TOTP code were right (``accounts.views``). A session signed in any other way — Django's
``ModelBackend`` after a password alone (the admin's login form, a citizen's e-ID login) — is
refused by the officer pages (``officer_required``). It is the first entry of
``AUTHENTICATION_BACKENDS``, so a test's ``client.force_login(officer_user)`` is a signed-in
officer (``tests.factories.officer_login`` says it explicitly).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

SECOND_FACTOR_BACKEND = "dancu.accounts.backends.SecondFactorBackend"


class SecondFactorBackend(ModelBackend):
    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> None:
        return None
