"""Small, explicit test data: a few real administrative units and officers.

The full unit tables (15,000 rows) are loaded only by tests that need them
(``dancu.geo.testing.ensure_admin_units``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dancu.accounts import services as accounts
from dancu.accounts.actor import Actor
from dancu.accounts.models import Role
from dancu.core.text import search_key
from dancu.geo.models import AdminUnit, CodeSystem, Level, UnitConversion


def _unit(system: str, level: str, code: str, name: str, unit_type: str,
          parent: AdminUnit | None = None, id_code: str = "") -> AdminUnit:
    unit = AdminUnit.objects.create(
        code_system=system, level=level, code=code, name=name,
        short_name=name.split(" ", 1)[-1], unit_type=unit_type, search_key=search_key(name),
        parent=parent, province=parent.province if parent else None, id_number_code=id_code)
    if parent is None:
        unit.province = unit
        unit.save(update_fields=["province"])
    return unit


@dataclass
class MiniGeo:
    legacy_thanh_hoa: AdminUnit
    legacy_ha_noi: AdminUnit
    legacy_commune: AdminUnit
    thanh_hoa: AdminUnit
    ha_noi: AdminUnit
    hac_thanh: AdminUnit  # 2025 commune in Thanh Hóa
    dong_son: AdminUnit   # another 2025 commune in Thanh Hóa
    hong_ha: AdminUnit    # 2025 commune in Hà Nội


def mini_geo() -> MiniGeo:
    lth = _unit(CodeSystem.LEGACY, Level.PROVINCE, "38", "Tỉnh Thanh Hóa", "Tỉnh", id_code="038")
    lhn = _unit(CodeSystem.LEGACY, Level.PROVINCE, "01", "Thành phố Hà Nội", "Thành phố", id_code="001")
    ldist = _unit(CodeSystem.LEGACY, Level.DISTRICT, "380", "Thành phố Thanh Hóa", "Thành phố", lth)
    lcom = _unit(CodeSystem.LEGACY, Level.COMMUNE, "14758", "Phường Hàm Rồng", "Phường", ldist)
    th = _unit(CodeSystem.V2025, Level.PROVINCE, "38", "Tỉnh Thanh Hóa", "Tỉnh")
    hn = _unit(CodeSystem.V2025, Level.PROVINCE, "01", "Thành phố Hà Nội", "Thành phố")
    hac = _unit(CodeSystem.V2025, Level.COMMUNE, "14758", "Phường Hạc Thành", "Phường", th)
    ds = _unit(CodeSystem.V2025, Level.COMMUNE, "14797", "Phường Đông Sơn", "Phường", th)
    hh = _unit(CodeSystem.V2025, Level.COMMUNE, "00097", "Phường Hồng Hà", "Phường", hn)
    UnitConversion.objects.create(legacy_unit=lcom, new_unit=hac)
    return MiniGeo(lth, lhn, lcom, th, hn, hac, ds, hh)


OFFICER_PASSWORD = "mật-khẩu-thử-123"


def officer_actor(username: str, role: str, unit: AdminUnit | None) -> Actor:
    profile = accounts.create_officer(username, OFFICER_PASSWORD, role, jurisdiction=unit)
    return accounts.actor_for_profile(profile)


def citizen_raw(**overrides: str) -> dict[str, str]:
    raw = {"full_name": "Nguyễn Thị Hoà", "birth_date": "1990-05-17", "sex": "F",
           "ethnicity": "01", "religion": "00", "birth_registration_unit": "legacy:38"}
    raw.update(overrides)
    return raw


ROLES = Role


def officer_login(client: Any, who: Actor | str) -> None:
    """Sign an officer into a test client as the console's sign-in does after the password and
    the TOTP code (the second-factor backend; the session clocks start at the first request).
    The sign-in itself is tested through its pages in tests/accounts/test_officers.py."""
    from django.contrib.auth import get_user_model

    from dancu.accounts.backends import SECOND_FACTOR_BACKEND

    username = who.label if isinstance(who, Actor) else who
    client.force_login(get_user_model().objects.get(username=username), backend=SECOND_FACTOR_BACKEND)


def totp_code(username: str) -> str:
    """A valid, not yet used code of the officer's app (the seed from the database), as the
    officer's phone would show it (the current step, or the next one if the current is used)."""
    import datetime as dt

    import pyotp
    from django.utils import timezone

    from dancu.accounts.models import OfficerProfile
    from dancu.core import crypto

    profile = OfficerProfile.objects.get(user__username=username)
    totp = pyotp.TOTP(crypto.decrypt(profile.totp_secret_enc))
    now = timezone.now()
    for at in (now, now + dt.timedelta(seconds=totp.interval)):
        if totp.timecode(at) > profile.totp_last_step:
            return totp.at(at)
    raise AssertionError("both usable steps already used")


def sign_in(client: Any, username: str, password: str = OFFICER_PASSWORD) -> Any:
    """The console's real sign-in: password, then (enrolling the app the first time) a TOTP code.
    Returns the response to the code."""
    from django.urls import reverse

    first = client.post(reverse("accounts:login"), {"username": username, "password": password})
    assert first.status_code == 302 and first["Location"] == reverse("accounts:second_factor"), first
    assert client.get(reverse("accounts:second_factor")).status_code == 200
    return client.post(reverse("accounts:second_factor"), {"code": totp_code(username)})
