"""Helpers for e-ID tests: people in the registry, the SMS outbox, a portrait."""

from __future__ import annotations

import datetime as dt

from dancu.eid import services as eid
from dancu.eid.models import EidAccount
from dancu.eid.sms import latest_code
from dancu.population import services as population
from dancu.population.models import Citizen
from tests.factories import citizen_raw

# The smallest valid PNG and JPEG headers are enough: the service checks the signature, size and
# stores the bytes; it does not decode the image.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PASSWORD = "Hoa-sen-2024!"


def person(officer, commune, **overrides: str) -> Citizen:
    return population.register_citizen(officer, citizen_raw(**overrides), commune=commune,
                                       reason="test")


def last_code(phone: str) -> str:
    code = latest_code(phone)
    assert code is not None, f"no code sent to {phone}"
    return code


def level1_account(citizen: Citizen, phone: str = "0912345678", password: str = PASSWORD) -> EidAccount:
    birth = dt.date(citizen.birth_year, citizen.birth_month or 1, citizen.birth_day or 1)
    result = eid.submit_level1_application(personal_id=citizen.personal_id, full_name=citizen.full_name,
                                           birth_date=birth, phone=phone, portrait=PNG)
    assert not result.refused, result.application.reason
    assert result.challenge is not None
    return eid.confirm_level1_application(result.application.pk, result.challenge.pk,
                                          last_code(result.challenge.phone), password)
