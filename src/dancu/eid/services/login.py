"""The first factor: password login, lock-out after five wrong passwords, the device binding of the
mobile app, the web session written with the login's record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, Model, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dancu.core import session_store
from dancu.core.errors import DomainError
from dancu.core.pg import fetchone_prepared
from dancu.eid import assurance
from dancu.eid.models import (
    AccountStatus,
    Device,
    EidAccount,
    LoginEvent,
    LoginOutcome,
    OtpChallenge,
    OtpPurpose,
)
from dancu.eid.passwords import hash_password, needs_rehash, verify_password
from dancu.eid.services._common import _blocked_error, _login_event, _login_event_fields, _setting
from dancu.eid.services._otp import _issue_otp, _sms_failure_recorded

_M = TypeVar("_M", bound=Model)

MAX_FAILED_LOGINS = 5


def lock_minutes() -> float:
    return _setting("DANCU_EID_LOCK_MINUTES", 30)


@dataclass
class LoginResult:
    """``ok``: the password was right and the account may log in. Otherwise ``error`` says why;
    the failure has been recorded (and counted) already."""

    account: EidAccount | None
    error: DomainError | None = None
    methods: list[str] = field(default_factory=list)
    otp_challenge: OtpChallenge | None = None  # a new device must confirm this first

    @property
    def ok(self) -> bool:
        return self.error is None and self.otp_challenge is None


def _temp_locked_error(account: EidAccount, *, just_now: bool = False) -> DomainError:
    until = timezone.localtime(account.locked_until).strftime("%H:%M %d/%m/%Y")
    if just_now:  # the attempt that locked the account says so at once
        message = _("Nhập sai mật khẩu %(n)d lần liên tiếp: tài khoản tạm khóa đến %(until)s.") % {
            "n": MAX_FAILED_LOGINS, "until": until}
    else:
        message = _("Tài khoản tạm khóa do nhập sai mật khẩu nhiều lần; thử lại sau %(until)s.") % {
            "until": until}
    return DomainError("E_ACCOUNT_TEMP_LOCKED", message, "password")


def _credentials_error() -> DomainError:
    return DomainError("E_CREDENTIALS", _("Số định danh hoặc mật khẩu không đúng."), "password")


# ---- the first factor: an attempt takes a slot before its hash ---------------------------------------
#
# The failure counter is raised *before* the password is hashed, in one atomic UPDATE that only
# succeeds while the account may log in (active, not locked, fewer than MAX_FAILED_LOGINS attempts
# counted): parallel guesses cannot get more than MAX_FAILED_LOGINS hashes checked per lock period,
# and no row lock is held while the hash runs (~20 ms). A right password resets the counter; a
# wrong one leaves its count and, at the limit, locks the account. An attempt whose process died
# mid-hash stays counted as a failure (pessimistic).

def _account_columns(alias: str, model: type[Model]) -> list[str]:
    return [f"{alias}.{f.column}" for f in model._meta.concrete_fields]


@cache
def _attnames(model: type[Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


def _from_row(model: type[_M], row: tuple | list) -> _M:
    return model.from_db(connection.alias, _attnames(model), list(row))


@cache
def _take_attempt_sql() -> str:
    """PostgreSQL: the slot and the account with its user in one prepared statement (table and
    column names from the models)."""
    user = get_user_model()
    return (f"UPDATE {EidAccount._meta.db_table} AS e SET failed_logins = e.failed_logins + 1 "  # noqa: S608
            f"FROM {user._meta.db_table} AS u "
            "WHERE e.personal_id = %(pid)s AND u.id = e.user_id AND e.status = %(active)s "
            "AND e.password_hash <> '' AND (e.locked_until IS NULL OR e.locked_until <= %(now)s) "
            "AND e.failed_logins < %(max)s RETURNING "
            + ", ".join(_account_columns("e", EidAccount) + _account_columns("u", user)))


def _take_attempt(personal_id: str, now: dt.datetime) -> EidAccount | None:
    """The account (its user attached) with one more attempt counted, or None when it may not
    try now (unknown, no password, blocked, locked, or the limit reached)."""
    params = {"pid": personal_id, "active": AccountStatus.ACTIVE, "now": now, "max": MAX_FAILED_LOGINS}
    if connection.vendor == "postgresql":
        row = fetchone_prepared(_take_attempt_sql(), params)
        if row is None:
            return None
        n = len(EidAccount._meta.concrete_fields)
        account = _from_row(EidAccount, row[:n])
        account.user = _from_row(get_user_model(), row[n:])
        return account
    with transaction.atomic():  # the UPDATE's row lock (SQLite: its write lock) until the read
        taken = (EidAccount.objects.filter(personal_id=personal_id, status=AccountStatus.ACTIVE,
                                           failed_logins__lt=MAX_FAILED_LOGINS)
                 .exclude(password_hash="")
                 .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
                 .update(failed_logins=F("failed_logins") + 1))
        if not taken:
            return None
        return EidAccount.objects.select_related("user").get(personal_id=personal_id)


def _refused_attempt(personal_id: str, password: str, now: dt.datetime, log: dict) -> LoginResult:
    """Why the account may not try now (no hash is checked: nothing was counted)."""
    account = next(iter(EidAccount.objects.filter(personal_id=personal_id)[:1]), None)
    if account is None or not account.password_hash:
        verify_password("", password or "")  # same time as a real check (no account enumeration)
        return LoginResult(None, _credentials_error())
    blocked = _blocked_error(account)
    if blocked is not None:
        _login_event(account, LoginOutcome.BLOCKED, **log)
        return LoginResult(account, blocked)
    if not (account.locked_until and account.locked_until > now):
        # The limit is reached by attempts still being checked (parallel guesses) or whose
        # process died: the account is locked now, as at the fifth wrong password.
        until = now + dt.timedelta(minutes=lock_minutes())
        EidAccount.objects.filter(pk=account.pk, failed_logins__gte=MAX_FAILED_LOGINS).filter(
            Q(locked_until__isnull=True) | Q(locked_until__lte=now)).update(locked_until=until,
                                                                              failed_logins=0)
        account.refresh_from_db(fields=["failed_logins", "locked_until"])
        if not (account.locked_until and account.locked_until > now):
            account.locked_until = until  # lifted meanwhile by a right password: say the limit
    _login_event(account, LoginOutcome.TEMP_LOCKED, **log)
    return LoginResult(account, _temp_locked_error(account))


def _record_failure(account: EidAccount, now: dt.datetime, log: dict) -> LoginResult:
    """The attempt's count stays; when it is the limit, the account is locked for a period."""
    until = now + dt.timedelta(minutes=lock_minutes())
    with transaction.atomic():
        locked = EidAccount.objects.filter(pk=account.pk, failed_logins__gte=MAX_FAILED_LOGINS).update(
            locked_until=until, failed_logins=0)
        _login_event(account, LoginOutcome.BAD_PASSWORD, **log)
    if locked:
        account.locked_until, account.failed_logins = until, 0
        return LoginResult(account, _temp_locked_error(account, just_now=True))
    return LoginResult(account, _credentials_error())


@cache
def _success_sql(with_session: bool) -> str:
    """PostgreSQL: the counter reset (and a re-hashed password) with the login's record — and
    the new web session's row."""
    columns = ("account_id", "at", "outcome", "methods", "acr", "client_id", "client_name",
               "device_id", "ip", "user_agent")
    session = f", session AS ({session_store.insert_sql()}) " if with_session else " "
    return (f"WITH reset AS (UPDATE {EidAccount._meta.db_table} "  # noqa: S608
            "SET failed_logins = 0, locked_until = NULL, "
            "password_hash = COALESCE(%(new_hash)s, password_hash) WHERE id = %(account_id)s)"
            f"{session}INSERT INTO {LoginEvent._meta.db_table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(f'%({c})s' for c in columns)}) RETURNING id")


# Starts the web session of a successful login (in memory) and returns its row, or None when the
# session is saved the usual way (``eid.sessions.starter``).
SessionStart = Callable[[EidAccount, list[str]], session_store.NewRow | None]


def _login_success(account: EidAccount, new_hash: str | None, now: dt.datetime, log: dict,
                   start_session: SessionStart | None) -> LoginResult:
    """A web login (no device): the counter reset and the LoginEvent, with the session's row
    when the caller starts one: one statement on PostgreSQL, one transaction elsewhere."""
    methods, acr = ["pwd"], assurance.acr_for_level(1)
    changes = _clear_failures(account, new_hash)
    row = start_session(account, methods) if start_session is not None else None
    if connection.vendor == "postgresql":
        fetchone_prepared(_success_sql(row is not None), {
            "new_hash": new_hash, "account_id": account.pk, "at": now, "outcome": LoginOutcome.SUCCESS,
            "methods": " ".join(methods), "acr": acr, **_login_event_fields(**log),
            **(row.params() if row is not None else {})})
    else:
        with transaction.atomic():
            EidAccount.objects.filter(pk=account.pk).update(**changes)
            _login_event(account, LoginOutcome.SUCCESS, methods=methods, acr=acr, **log)
            if row is not None:
                row.insert()
    if row is not None:
        row.written()
    return LoginResult(account, None, methods)


def _clear_failures(account: EidAccount, new_hash: str | None) -> dict:
    """A right password: no failure counted, no lock (and the upgraded hash), on ``account``;
    returns the changes for the caller's UPDATE."""
    changes: dict = {"failed_logins": 0, "locked_until": None}
    if new_hash:
        changes["password_hash"] = new_hash
    for name, value in changes.items():
        setattr(account, name, value)
    return changes


@_sms_failure_recorded
def authenticate_password(personal_id: str, password: str, *, ip: str | None = None, user_agent: str = "",
                          device_id: str = "", device_name: str = "", client_id: str = "",
                          client_name: str = "", start_session: SessionStart | None = None) -> LoginResult:
    """The first factor. Five wrong passwords in a row lock the account for
    ``DANCU_EID_LOCK_MINUTES`` — counted before each hash, so parallel guesses get no more (see
    above). With ``device_id`` (the mobile app) the account's device binding applies: the first
    device is bound at activation; another device gets an OTP challenge. Without it (the web),
    ``start_session`` is called once the password is right, and the row of the session it starts
    is written with the login's record (a login is recorded exactly when its session exists)."""
    personal_id = (personal_id or "").strip()
    log: dict[str, Any] = {"ip": ip, "user_agent": user_agent, "device_id": device_id, "client_id": client_id,
           "client_name": client_name}
    now = timezone.now()
    account = _take_attempt(personal_id, now)
    if account is None:
        return _refused_attempt(personal_id, password, now, log)
    if not verify_password(account.password_hash, password or ""):
        return _record_failure(account, now, log)
    new_hash = hash_password(password) if needs_rehash(account.password_hash) else None
    if not device_id:
        return _login_success(account, new_hash, now, log, start_session)
    with transaction.atomic():
        EidAccount.objects.filter(pk=account.pk).update(**_clear_failures(account, new_hash))
        active = Device.objects.filter(account=account, released_at__isnull=True).first()
        if active is None:
            Device.objects.create(account=account, device_id=device_id[:100], name=device_name[:100],
                                  bound_at=now, last_seen_at=now)
        elif active.device_id != device_id:
            challenge = _issue_otp(OtpPurpose.NEW_DEVICE, account.phone, account=account,
                                   subject=f"{device_id[:60]}|{device_name[:38]}")
            _login_event(account, LoginOutcome.OTP_REQUIRED, methods=["pwd"], **log)
            return LoginResult(account, None, ["pwd"], otp_challenge=challenge)
        else:
            Device.objects.filter(pk=active.pk).update(last_seen_at=now)
        _login_event(account, LoginOutcome.SUCCESS, methods=["pwd"], acr=assurance.acr_for_level(1), **log)
    return LoginResult(account, None, ["pwd"])
