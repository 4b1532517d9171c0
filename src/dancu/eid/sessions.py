"""The citizen's web session: which account is signed in, by which factors, since when.

The session of a signed-in citizen is a Django session of the account's user plus
``request.session["dancu_eid"] = {"account": pk, "methods": [...], "auth_time": epoch}``.
The OpenID Connect provider reads it to decide ``acr``/``amr``/``auth_time`` and whether a
step-up or a fresh login (``max_age``, ``prompt=login``) is needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import login, logout
from django.http import HttpRequest

from dancu.core.session_store import NewRow
from dancu.eid import assurance
from dancu.eid.models import AccountStatus, EidAccount
from dancu.eid.receivers import CITIZEN_LOGIN

if TYPE_CHECKING:
    from dancu.eid.services.login import SessionStart

SESSION_KEY = "dancu_eid"
BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass
class EidSession:
    account: EidAccount
    methods: list[str]
    auth_time: int

    @property
    def level(self) -> int:
        """The Decree 69 assurance level this session has reached."""
        return assurance.assurance_level(self.methods, self.account.level)

    @property
    def acr(self) -> str:
        return assurance.acr_for_level(max(self.level, 1))

    @property
    def amr(self) -> list[str]:
        return assurance.amr_claim(self.methods)


def establish(request: HttpRequest, account: EidAccount, methods: list[str]) -> EidSession:
    """After a successful first factor: a new session (new key: no fixation) for the account.
    The key changes at every login — also when the same citizen logs in again (``prompt=login``,
    ``max_age``), where Django's ``login()`` would keep it: the earlier key stops working."""
    setattr(account.user, CITIZEN_LOGIN, True)  # the login is a LoginEvent; no last_login UPDATE
    request.session.cycle_key()  # the old row deleted; the data (e.g. a pending ?next) kept
    login(request, account.user, backend=BACKEND)
    session = EidSession(account, sorted(set(methods)), int(time.time()))
    request.session[SESSION_KEY] = {"account": account.pk, "methods": session.methods,
                                    "auth_time": session.auth_time}
    return session


def starter(request: HttpRequest) -> SessionStart:
    """``start_session`` for ``services.authenticate_password``: once the password is right, the
    session is established (as ``establish``) and its row handed to the service, which writes it
    with the login's record; the response's save then has nothing left to write."""

    def start(account: EidAccount, methods: list[str]) -> NewRow | None:
        establish(request, account, methods)
        new_row = getattr(request.session, "new_row", None)  # another SESSION_ENGINE: saved as usual
        return new_row() if new_row is not None else None

    return start


def add_methods(request: HttpRequest, methods: list[str]) -> None:
    """After a successful step-up: the factors add up; auth_time stays the first factor's."""
    data = dict(request.session.get(SESSION_KEY) or {})
    if not data:
        return
    data["methods"] = sorted(set(data.get("methods", [])) | set(methods))
    request.session[SESSION_KEY] = data


def current(request: HttpRequest) -> EidSession | None:
    """The signed-in citizen, or None (not signed in, an officer's session, or an account that
    was locked, suspended or revoked since)."""
    data = request.session.get(SESSION_KEY)
    user = getattr(request, "user", None)
    if not data or user is None or not user.is_authenticated:
        return None
    account = EidAccount.objects.filter(pk=data.get("account"), user_id=user.pk).first()
    if account is None or account.status != AccountStatus.ACTIVE:
        return None
    return EidSession(account, list(data.get("methods", [])), int(data.get("auth_time", 0)))


def end(request: HttpRequest) -> None:
    logout(request)
