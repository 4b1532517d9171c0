"""Electronic identification accounts through the service layer, on the real database."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pyotp
import pytest
from django.utils import timezone

from dancu.audit.models import AuditEvent
from dancu.core import crypto
from dancu.core.errors import Conflict, DomainError, OutOfJurisdiction
from dancu.eid import assurance, passwords
from dancu.eid import services as eid
from dancu.eid.models import (
    AccountStatus,
    ApplicationStatus,
    Device,
    EidAccount,
    EidApplication,
    Level2Enrolment,
    LoginEvent,
    OtpChallenge,
    SmsMessage,
)
from dancu.eid.services import applications, login, recovery
from dancu.eid.services._otp import _consume_otp
from dancu.population import services as population
from tests.eid_helpers import JPEG, PASSWORD, PNG, last_code, level1_account, person

pytestmark = pytest.mark.usefixtures("otp_without_waits")


@pytest.fixture
def hoa(geo, commune_officer):
    return person(commune_officer, geo.hac_thanh)  # Nguyễn Thị Hoà, 17/05/1990


# ---- level 1 -------------------------------------------------------------------------------------

def test_level1_registration_checks_the_registry_sends_an_otp_and_creates_the_account(hoa) -> None:
    result = eid.submit_level1_application(
        personal_id=hoa.personal_id, full_name="nguyễn thị  hoà", birth_date=dt.date(1990, 5, 17),
        phone="091 234 5678", email="hoa@example.vn", portrait=JPEG)
    app = result.application
    assert app.status == ApplicationStatus.PENDING and app.phone == "+84912345678"
    sms = SmsMessage.objects.get(to="+84912345678")
    assert sms.status == "outbox" and "dancu" in sms.body
    assert OtpChallenge.objects.get(pk=result.challenge.pk).code_hmac != last_code("+84912345678")
    account = eid.confirm_level1_application(app.pk, result.challenge.pk, last_code("+84912345678"), PASSWORD)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.APPROVED and app.account == account and app.decided_at
    assert (account.level, account.status, account.email) == (1, AccountStatus.ACTIVE, "hoa@example.vn")
    assert account.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not account.user.has_usable_password() and not account.user.is_staff
    actions = set(AuditEvent.objects.filter(personal_id=hoa.personal_id).values_list("action", flat=True))
    assert {"eid.registry_check", "eid.account.create"} <= actions


@pytest.mark.parametrize(("name", "birth", "code"), [
    ("Nguyễn Thị Hòa", dt.date(1990, 5, 17), "E_REGISTRY_MISMATCH"),   # other accent placement
    ("Nguyễn Thị Hoà", dt.date(1990, 5, 18), "E_REGISTRY_MISMATCH"),
])
def test_level1_refused_when_name_or_birth_date_differ(hoa, name, birth, code) -> None:
    result = eid.submit_level1_application(personal_id=hoa.personal_id, full_name=name, birth_date=birth,
                                           phone="0912345678", portrait=PNG)
    assert result.refused and result.challenge is None
    app = EidApplication.objects.get(pk=result.application.pk)  # the refusal is recorded
    assert (app.status, app.reason_code) == (ApplicationStatus.REFUSED, code) and app.decided_at
    assert not SmsMessage.objects.exists() and not EidAccount.objects.exists()


def test_unknown_person_is_refused_like_a_mismatch(geo) -> None:
    result = eid.submit_level1_application(personal_id="038190123456", full_name="Ai Đó",
                                           birth_date=dt.date(1990, 1, 1), phone="0912345678", portrait=PNG)
    assert result.refused and result.application.reason_code == "E_REGISTRY_MISMATCH"


def test_deceased_person_is_refused(geo, commune_officer, hoa) -> None:
    population.correct_citizen(commune_officer, hoa.personal_id,
                               {"life_status": "deceased", "death_date": "2024-01-02"}, reason="khai tử")
    result = eid.submit_level1_application(personal_id=hoa.personal_id, full_name=hoa.full_name,
                                           birth_date=dt.date(1990, 5, 17), phone="0912345678", portrait=PNG)
    assert result.refused and result.application.reason_code == "E_PERSON_DECEASED"


def test_child_under_six_must_go_through_a_guardian(geo, commune_officer) -> None:
    child = person(commune_officer, geo.hac_thanh, full_name="Lê Minh Khang", birth_date="2022-03-04",
                   sex="M")
    result = eid.submit_level1_application(personal_id=child.personal_id, full_name="Lê Minh Khang",
                                           birth_date=dt.date(2022, 3, 4), phone="0912345678", portrait=PNG,
                                           today=dt.date(2026, 11, 22))
    assert result.refused and result.application.reason_code == "E_AGE_GUARDIAN"


@pytest.mark.parametrize(("field", "kwargs", "code"), [
    ("phone", {"phone": "12345"}, "E_PHONE_FORMAT"),
    ("personal_id", {"personal_id": "03819012345"}, "E_ID_NUMBER_FORMAT"),
    ("portrait", {"portrait": b"GIF89a..."}, "E_PORTRAIT_FORMAT"),
    ("portrait", {"portrait": None}, "E_REQUIRED"),
    ("portrait", {"portrait": PNG + b"\x00" * (2 * 1024 * 1024)}, "E_PORTRAIT_TOO_LARGE"),
])
def test_bad_input_names_the_field_and_writes_nothing(hoa, field, kwargs, code) -> None:
    args = {"personal_id": hoa.personal_id, "full_name": hoa.full_name, "birth_date": dt.date(1990, 5, 17),
            "phone": "0912345678", "portrait": PNG} | kwargs
    with pytest.raises(DomainError) as err:
        eid.submit_level1_application(**args)
    assert err.value.field == field and err.value.code == code
    assert not EidApplication.objects.exists()


def test_second_account_for_the_same_person_is_refused(hoa) -> None:
    level1_account(hoa)
    result = eid.submit_level1_application(personal_id=hoa.personal_id, full_name=hoa.full_name,
                                           birth_date=dt.date(1990, 5, 17), phone="0987654321", portrait=PNG)
    assert result.refused and result.application.reason_code == "E_ACCOUNT_EXISTS"


def test_otp_wrong_then_replay_and_expiry(hoa, settings) -> None:
    result = eid.submit_level1_application(personal_id=hoa.personal_id, full_name=hoa.full_name,
                                           birth_date=dt.date(1990, 5, 17), phone="0912345678", portrait=PNG)
    code = last_code("+84912345678")
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(DomainError) as err:
        eid.confirm_level1_application(result.application.pk, result.challenge.pk, wrong, PASSWORD)
    assert err.value.code == "E_OTP_WRONG"
    assert OtpChallenge.objects.get(pk=result.challenge.pk).attempts == 1  # counted, not rolled back
    with pytest.raises(DomainError) as err:
        eid.confirm_level1_application(result.application.pk, result.challenge.pk, code, "short")
    assert err.value.code == "E_PASSWORD_WEAK" and err.value.field == "password"
    eid.confirm_level1_application(result.application.pk, result.challenge.pk, code, PASSWORD)
    with pytest.raises(Conflict):
        eid.confirm_level1_application(result.application.pk, result.challenge.pk, code, PASSWORD)
    # A used code cannot be used again, even for its own purpose.
    with pytest.raises(DomainError) as err:
        _consume_otp(result.challenge.pk, code, "registration")
    assert err.value.code == "E_OTP_USED"


def test_expired_and_exhausted_codes(hoa) -> None:
    result = eid.submit_level1_application(personal_id=hoa.personal_id, full_name=hoa.full_name,
                                           birth_date=dt.date(1990, 5, 17), phone="0912345678", portrait=PNG)
    code = last_code("+84912345678")
    OtpChallenge.objects.filter(pk=result.challenge.pk).update(attempts=5)
    with pytest.raises(DomainError) as err:
        eid.confirm_level1_application(result.application.pk, result.challenge.pk, code, PASSWORD)
    assert err.value.code == "E_OTP_ATTEMPTS"
    OtpChallenge.objects.filter(pk=result.challenge.pk).update(
        attempts=0, expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(DomainError) as err:
        eid.confirm_level1_application(result.application.pk, result.challenge.pk, code, PASSWORD)
    assert err.value.code == "E_OTP_EXPIRED"


def test_otp_resend_is_throttled(hoa, settings) -> None:
    settings.DANCU_OTP_RESEND_SECONDS = 60
    eid.submit_level1_application(personal_id=hoa.personal_id, full_name=hoa.full_name,
                                  birth_date=dt.date(1990, 5, 17), phone="0912345678", portrait=PNG)
    with pytest.raises(DomainError) as err:
        eid.submit_level1_application(personal_id=hoa.personal_id, full_name=hoa.full_name,
                                      birth_date=dt.date(1990, 5, 17), phone="0912345678", portrait=PNG)
    assert err.value.code == "E_OTP_TOO_SOON"


# ---- passwords and lock-out ----------------------------------------------------------------------

def test_five_wrong_passwords_lock_the_account_for_a_period(hoa) -> None:
    account = level1_account(hoa)
    for _ in range(4):
        assert eid.authenticate_password(hoa.personal_id, "wrong-password").error.code == "E_CREDENTIALS"
    fifth = eid.authenticate_password(hoa.personal_id, "wrong-password")
    assert fifth.error.code == "E_ACCOUNT_TEMP_LOCKED"  # the attempt that locks says so
    account.refresh_from_db()
    assert account.locked_until and account.locked_until > timezone.now() + dt.timedelta(minutes=29)
    # Even the right password is refused while locked.
    assert eid.authenticate_password(hoa.personal_id, PASSWORD).error.code == "E_ACCOUNT_TEMP_LOCKED"
    EidAccount.objects.filter(pk=account.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    ok = eid.authenticate_password(hoa.personal_id, PASSWORD)
    assert ok.ok and ok.methods == ["pwd"]
    outcomes = list(LoginEvent.objects.filter(account=account).order_by("id")
                    .values_list("outcome", flat=True))
    assert outcomes == ["bad_password"] * 5 + ["temp_locked", "success"]


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_get_no_more_hashes_checked_than_the_limit(hoa, monkeypatch) -> None:
    """Each attempt takes its slot before the hash (one atomic UPDATE): ten guesses sent at once
    against one account get at most five passwords checked, and the account ends locked. Every
    attempt is in the login history."""
    from tests.parallel import run_parallel

    account = level1_account(hoa)
    checked: list[str] = []
    real_verify = passwords.verify_password

    def counting_verify(stored: str, password: str) -> bool:
        checked.append(stored)
        return real_verify(stored, password)

    monkeypatch.setattr(login, "verify_password", counting_verify)  # where the login looks it up
    outcomes: list[str] = []
    errors = run_parallel(lambda i: outcomes.append(
        eid.authenticate_password(hoa.personal_id, f"guess-{i}").error.code), 10)
    assert errors == []
    assert len(checked) <= eid.MAX_FAILED_LOGINS and all(checked)  # no dummy hash either
    assert len(outcomes) == 10 and "E_ACCOUNT_TEMP_LOCKED" in outcomes
    account.refresh_from_db()
    assert account.locked_until and account.locked_until > timezone.now() + dt.timedelta(minutes=29)
    events = list(LoginEvent.objects.filter(account=account).values_list("outcome", flat=True))
    assert len(events) == 10 and events.count("bad_password") == len(checked)
    assert set(events) == {"bad_password", "temp_locked"}
    # the right password now is refused too, without a hash
    assert eid.authenticate_password(hoa.personal_id, PASSWORD).error.code == "E_ACCOUNT_TEMP_LOCKED"
    assert len(checked) <= eid.MAX_FAILED_LOGINS


def test_login_tables_keep_only_the_indexes_their_readers_use(db) -> None:
    """Every login attempt writes a LoginEvent, every login a session row: the history is read by
    (account, time), a session by its key. No foreign-key index repeating the history's prefix,
    no varchar_pattern_ops twin of the session key (PostgreSQL)."""
    from django.db import connection

    def secondary_indexes(table: str) -> list[list[str]]:
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, table).values()
        return sorted(c["columns"] for c in found if c["index"] and not c["primary_key"])

    assert secondary_indexes("eid_loginevent") == [["account_id", "at"]]
    assert secondary_indexes("django_session") == [["expire_date"]]


def test_attempts_counted_but_never_finished_lock_the_account(hoa) -> None:
    """An attempt whose process died mid-hash stays counted (pessimistic): when such attempts fill
    the limit, the next one locks the account for the period instead of checking its password."""
    account = level1_account(hoa)
    EidAccount.objects.filter(pk=account.pk).update(failed_logins=eid.MAX_FAILED_LOGINS)
    assert eid.authenticate_password(hoa.personal_id, PASSWORD).error.code == "E_ACCOUNT_TEMP_LOCKED"
    account.refresh_from_db()
    assert account.failed_logins == 0 and account.locked_until > timezone.now()
    EidAccount.objects.filter(pk=account.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert eid.authenticate_password(hoa.personal_id, PASSWORD).ok


def test_a_right_password_resets_the_count_and_an_old_hash_is_upgraded(hoa) -> None:
    from argon2 import PasswordHasher

    account = level1_account(hoa)
    assert eid.authenticate_password(hoa.personal_id, "wrong-password").error.code == "E_CREDENTIALS"
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    EidAccount.objects.filter(pk=account.pk).update(password_hash=weaker)
    result = eid.authenticate_password(hoa.personal_id, PASSWORD)
    assert result.ok and result.account.user.pk == account.user_id
    account.refresh_from_db()
    assert account.failed_logins == 0 and account.locked_until is None
    assert account.password_hash != weaker and not passwords.needs_rehash(account.password_hash)
    assert eid.authenticate_password(hoa.personal_id, PASSWORD).ok
    assert list(LoginEvent.objects.filter(account=account).order_by("id").values_list(
        "outcome", "methods", "acr")) == [("bad_password", "", ""), ("success", "pwd", "urn:vn:dancu:loa:1"),
                                          ("success", "pwd", "urn:vn:dancu:loa:1")]


@pytest.mark.parametrize(("password", "ok"), [("Hoa-sen-99x", True), ("12345678901", False),
                                              ("password1", False), ("short1!", False)])
def test_citizen_password_rules(hoa, password, ok) -> None:
    result = eid.submit_level1_application(personal_id=hoa.personal_id, full_name=hoa.full_name,
                                           birth_date=dt.date(1990, 5, 17), phone="0912345678", portrait=PNG)
    confirm = lambda: eid.confirm_level1_application(  # noqa: E731
        result.application.pk, result.challenge.pk, last_code("+84912345678"), password)
    if ok:
        assert confirm().has_password
    else:
        with pytest.raises(DomainError) as err:
            confirm()
        assert (err.value.code, err.value.field) == ("E_PASSWORD_WEAK", "password")


def test_unknown_id_and_wrong_password_give_the_same_error(hoa) -> None:
    level1_account(hoa)
    unknown = eid.authenticate_password("038190999999", PASSWORD).error
    wrong = eid.authenticate_password(hoa.personal_id, "not-the-password").error
    assert (unknown.code, str(unknown.message)) == (wrong.code, str(wrong.message))


def test_recovery_by_otp_sets_a_new_password_and_lifts_the_lock(hoa) -> None:
    account = level1_account(hoa)
    EidAccount.objects.filter(pk=account.pk).update(locked_until=timezone.now() + dt.timedelta(minutes=30))
    assert eid.start_recovery(hoa.personal_id, "0999999999") is None  # phone not on record: nothing sent
    challenge = eid.start_recovery(hoa.personal_id, "0912345678")
    eid.complete_recovery(challenge.pk, last_code("+84912345678"), "Mat-khau-moi-2026")
    assert eid.authenticate_password(hoa.personal_id, "Mat-khau-moi-2026").ok
    assert eid.authenticate_password(hoa.personal_id, PASSWORD).error.code == "E_CREDENTIALS"


@pytest.mark.django_db(transaction=True)
def test_registration_and_recovery_hash_the_password_outside_their_transaction(hoa, monkeypatch) -> None:
    """The ~20 ms hash (and its queue for the hashing thread) comes before the transaction: no
    row lock — on SQLite, no write lock — is held while it runs."""
    from django.db import connection

    inside: list[bool] = []
    real = passwords.hash_password

    def watched(password: str) -> str:
        inside.append(connection.in_atomic_block)
        return real(password)

    for module in (applications, recovery):  # where registration and recovery look it up
        monkeypatch.setattr(module, "hash_password", watched)
    result = eid.submit_level1_application(personal_id=hoa.personal_id, full_name=hoa.full_name,
                                           birth_date=dt.date(1990, 5, 17), phone="0912345678", portrait=PNG)
    eid.confirm_level1_application(result.application.pk, result.challenge.pk,
                                   last_code("+84912345678"), PASSWORD)
    challenge = eid.start_recovery(hoa.personal_id, "0912345678")
    eid.complete_recovery(challenge.pk, last_code("+84912345678"), "Mat-khau-moi-2026")
    assert inside == [False, False]
    assert eid.authenticate_password(hoa.personal_id, "Mat-khau-moi-2026").ok


# ---- devices -----------------------------------------------------------------------------------------

def test_first_device_is_bound_and_a_new_device_needs_an_otp(hoa) -> None:
    account = level1_account(hoa)
    first = eid.authenticate_password(hoa.personal_id, PASSWORD, device_id="phone-A", device_name="Galaxy")
    assert first.ok
    assert eid.authenticate_password(hoa.personal_id, PASSWORD, device_id="phone-A").ok
    other = eid.authenticate_password(hoa.personal_id, PASSWORD, device_id="phone-B", device_name="iPhone")
    assert not other.ok and other.error is None and other.otp_challenge is not None
    with pytest.raises(DomainError):
        eid.confirm_new_device(other.otp_challenge.pk, "12345x")
    eid.confirm_new_device(other.otp_challenge.pk, last_code("+84912345678"))
    active = Device.objects.get(account=account, released_at__isnull=True)
    assert (active.device_id, active.name) == ("phone-B", "iPhone")
    assert Device.objects.get(device_id="phone-A").release_reason == "new_device"


# ---- level 2 at the counter --------------------------------------------------------------------

def test_level2_enrolment_by_commune_police(hoa, commune_officer) -> None:
    account = level1_account(hoa)
    eid.enrol_level2(commune_officer, hoa.personal_id, card_checked=True, device_reference="ABIS-07",
                     capture_reference="CAP-2026-0001")
    account.refresh_from_db()
    assert account.level == 2
    enrolment = Level2Enrolment.objects.get(account=account)
    assert enrolment.place_id == commune_officer.jurisdiction_id and enrolment.device_reference == "ABIS-07"
    assert AuditEvent.objects.filter(action="eid.account.level2", personal_id=hoa.personal_id).exists()


def test_level2_enrolment_needs_an_officer_to_record(hoa, commune_officer) -> None:
    """The enrolment records the officer (a NOT NULL column): an actor with the commune police's
    role and area but no user (e.g. a system actor) is refused, not failed with an IntegrityError."""
    level1_account(hoa)
    nobody = dataclasses.replace(commune_officer, user_id=None)
    with pytest.raises(OutOfJurisdiction):
        eid.enrol_level2(nobody, hoa.personal_id, card_checked=True, device_reference="ABIS-07",
                         capture_reference="CAP-2026-0002", phone="0912000111")
    assert not Level2Enrolment.objects.exists()


def test_level2_rules(geo, hoa, commune_officer, province_officer) -> None:
    with pytest.raises(OutOfJurisdiction):
        eid.enrol_level2(province_officer, hoa.personal_id, card_checked=True, device_reference="d",
                         capture_reference="c")
    with pytest.raises(DomainError) as err:
        eid.enrol_level2(commune_officer, hoa.personal_id, card_checked=False, device_reference="d",
                         capture_reference="c")
    assert err.value.field == "card_checked"
    with pytest.raises(DomainError) as err:
        eid.enrol_level2(commune_officer, hoa.personal_id, card_checked=True, device_reference="d",
                         capture_reference="c")
    assert err.value.code == "E_REQUIRED" and err.value.field == "phone"  # no account yet: needs a phone
    kid = person(commune_officer, geo.hac_thanh, full_name="Lê Minh Khang", birth_date="2016-03-04", sex="M")
    with pytest.raises(DomainError) as err:
        eid.enrol_level2(commune_officer, kid.personal_id, card_checked=True, device_reference="d",
                         capture_reference="c", phone="0912000111", today=dt.date(2026, 11, 22))
    assert err.value.code == "E_LEVEL2_ON_REQUEST"
    account = eid.enrol_level2(commune_officer, kid.personal_id, card_checked=True, device_reference="d",
                               capture_reference="c", phone="0912000111", on_request=True,
                               today=dt.date(2026, 11, 22))
    assert account.level == 2 and not account.has_password
    # A level-2 account made at the counter is activated by OTP to the phone given there.
    challenge = eid.start_recovery(kid.personal_id, "0912000111")
    eid.complete_recovery(challenge.pk, last_code("+84912000111"), "Kich-hoat-2026")
    assert eid.authenticate_password(kid.personal_id, "Kich-hoat-2026").ok


# ---- guardian -------------------------------------------------------------------------------------

def test_child_under_six_through_a_parents_level2_account(geo, commune_officer, hoa) -> None:
    parent = level1_account(hoa)
    child = person(commune_officer, geo.hac_thanh, full_name="Lê Minh Khang", birth_date="2022-03-04",
                   sex="M", mother_id=hoa.personal_id)
    with pytest.raises(DomainError) as err:
        eid.register_child(parent, child.personal_id)
    assert err.value.code == "E_GUARDIAN_LEVEL"
    eid.enrol_level2(commune_officer, hoa.personal_id, card_checked=True, device_reference="d",
                     capture_reference="c")
    parent.refresh_from_db()
    stranger = person(commune_officer, geo.hac_thanh, full_name="Trần Văn Bình", birth_date="2021-01-01",
                      sex="M")
    with pytest.raises(DomainError) as err:
        eid.register_child(parent, stranger.personal_id)
    assert err.value.code == "E_NOT_PARENT"
    account = eid.register_child(parent, child.personal_id, today=dt.date(2026, 11, 22))
    assert account.guardian == parent and account.level == 1 and not account.has_password
    assert eid.start_recovery(child.personal_id, "0912345678") is None  # no password of its own


# ---- status: officers and the registry ---------------------------------------------------------------

def test_recording_death_locks_the_account(hoa, commune_officer) -> None:
    account = level1_account(hoa)
    population.correct_citizen(commune_officer, hoa.personal_id,
                               {"life_status": "deceased", "death_date": "2026-11-01"}, reason="khai tử")
    account.refresh_from_db()
    assert account.status == AccountStatus.LOCKED
    assert eid.authenticate_password(hoa.personal_id, PASSWORD).error.code == "E_ACCOUNT_LOCKED"
    assert AuditEvent.objects.filter(action="eid.account.lock", personal_id=hoa.personal_id).exists()


def test_officer_suspends_reinstates_and_revokes_with_a_reason(hoa, commune_officer, auditor) -> None:
    level1_account(hoa)
    with pytest.raises(DomainError) as err:
        eid.suspend_account(commune_officer, hoa.personal_id, reason=" ")
    assert err.value.field == "reason"
    with pytest.raises(OutOfJurisdiction):
        eid.suspend_account(auditor, hoa.personal_id, reason="x")
    eid.suspend_account(commune_officer, hoa.personal_id, reason="Nghi bị chiếm đoạt")
    assert eid.authenticate_password(hoa.personal_id, PASSWORD).error.code == "E_ACCOUNT_SUSPENDED"
    eid.reinstate_account(commune_officer, hoa.personal_id, reason="Đã xác minh chính chủ")
    assert eid.authenticate_password(hoa.personal_id, PASSWORD).ok
    eid.revoke_account(commune_officer, hoa.personal_id, reason="Theo đề nghị của công dân")
    with pytest.raises(Conflict):
        eid.reinstate_account(commune_officer, hoa.personal_id, reason="x")
    events = AuditEvent.objects.filter(personal_id=hoa.personal_id, action__startswith="eid.account.")
    assert {"eid.account.suspend", "eid.account.reinstate", "eid.account.revoke"} <= set(
        events.values_list("action", flat=True))


# ---- second factors ------------------------------------------------------------------------------------

def test_sms_step_up_and_totp_with_replay_protection(hoa) -> None:
    account = level1_account(hoa)
    challenge = eid.start_sms_step_up(account)
    assert eid.verify_sms_step_up(account, challenge.pk, last_code("+84912345678")) == ["sms"]
    with pytest.raises(DomainError) as err:
        eid.verify_sms_step_up(account, challenge.pk, last_code("+84912345678"))
    assert err.value.code == "E_OTP_USED"
    uri = eid.begin_totp_enrolment(account)
    secret = pyotp.parse_uri(uri).secret
    assert crypto.decrypt(account.totp_secret_enc) == secret and secret not in account.totp_secret_enc
    totp = pyotp.TOTP(secret)
    with pytest.raises(DomainError):
        eid.verify_totp(account, totp.now())  # not confirmed yet
    eid.confirm_totp_enrolment(account, totp.now())
    with pytest.raises(DomainError) as err:
        eid.verify_totp(account, totp.now())  # the enrolment code's step is used
    assert err.value.code == "E_OTP_USED"
    next_code = totp.at(timezone.now() + dt.timedelta(seconds=30))
    assert eid.verify_totp(account, next_code) == ["otp"]
    with pytest.raises(DomainError) as err:
        eid.verify_totp(account, next_code)
    assert err.value.code == "E_OTP_USED"
    assert eid.available_methods(account) == {"pwd", "sms", "otp"}


# ---- assurance levels (no database) ----------------------------------------------------------------

@pytest.mark.parametrize(("methods", "account_level", "expected"), [
    (["pwd"], 2, 1), (["pwd", "sms"], 2, 2), (["pwd", "otp"], 2, 2), (["sms", "otp"], 2, 1),
    (["pwd", "face"], 2, 3), (["pwd", "sms", "fpt"], 2, 4), (["pwd", "sms"], 1, 1), ([], 2, 0),
])
def test_assurance_levels_of_decree_69(methods, account_level, expected) -> None:
    assert assurance.assurance_level(methods, account_level) == expected


def test_amr_and_acr_values() -> None:
    assert assurance.amr_claim(["sms", "pwd"]) == ["pwd", "sms", "mfa"]
    assert assurance.amr_claim(["pwd"]) == ["pwd"]
    assert assurance.level_of_acr(assurance.acr_for_level(3)) == 3
    assert assurance.level_of_acr("urn:other:loa:3") is None


@pytest.mark.parametrize(("birth", "today", "age"), [
    ((2012, 11, 22), dt.date(2026, 11, 22), 14), ((2012, 11, 23), dt.date(2026, 11, 22), 13),
    ((2012, None, None), dt.date(2026, 11, 22), 13), ((2012, None, None), dt.date(2026, 12, 31), 14),
])
def test_age_with_partial_birth_dates_is_never_overstated(birth, today, age) -> None:
    assert assurance.age_on(*birth, today) == age


def test_rekey_moves_totp_seeds_to_a_new_key(hoa, settings) -> None:
    """Key rotation: the previous key still decrypts; `dancu eid rekey` re-encrypts every seed
    with the new one, after which the old key can be dropped."""
    from io import StringIO

    from cryptography.fernet import InvalidToken
    from django.core.management import call_command

    settings.DANCU_EID_SECRET_KEY = "old-eid-key-" + "o" * 40
    settings.DANCU_EID_PREVIOUS_SECRET_KEYS = []
    account = level1_account(hoa)
    eid.begin_totp_enrolment(account)
    sealed_with_old = account.totp_secret_enc
    seed = crypto.decrypt(sealed_with_old)
    settings.DANCU_EID_SECRET_KEY = "new-eid-key-" + "n" * 40
    with pytest.raises(InvalidToken):
        crypto.decrypt(sealed_with_old)  # the new key alone cannot read it
    settings.DANCU_EID_PREVIOUS_SECRET_KEYS = ["old-eid-key-" + "o" * 40]
    assert crypto.decrypt(sealed_with_old) == seed  # during the rotation: still readable
    out = StringIO()
    call_command("eid", "rekey", stdout=out)
    assert "1 TOTP seed(s) re-encrypted" in out.getvalue()
    settings.DANCU_EID_PREVIOUS_SECRET_KEYS = []  # the old key dropped
    account.refresh_from_db()
    assert account.totp_secret_enc != sealed_with_old and crypto.decrypt(account.totp_secret_enc) == seed
    assert AuditEvent.objects.get(action="eid.totp_rekey").details == {"seeds": 1}
    # the enrolment still completes with the authenticator app's code
    eid.confirm_totp_enrolment(account, pyotp.TOTP(seed).now())
