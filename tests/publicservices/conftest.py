"""Fixtures of the public-services tests: a small province with residents, officers of each
role, citizens as actors (as the e-ID sign-in makes them), and documents in their stores."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from dancu.accounts.actor import Actor, system_actor
from dancu.eid.services import citizen_actor
from dancu.population.models import Citizen
from dancu.publicservices.models import Procedure
from dancu.residence import services as residence
from dancu.residence.selectors import current_household
from tests.factories import citizen_raw, officer_actor

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SEED = system_actor("test:seed")
_names = itertools.count(1)


def slug(name: str) -> Procedure:
    return Procedure.objects.get(slug=name)


def resident(
    commune: Any,
    *,
    name: str = "",
    birth: str = "1990-05-17",
    sex: str = "F",
    household: str | None = None,
    relationship: str = "head",
    **extra: str,
) -> Citizen:
    n = next(_names)
    given = "ABCDEGHKLMNPQSTVXY"
    auto = f"Nguyễn Văn {given[n % 18]}{'aeiou'[n // 18 % 5]}{'nmt'[n // 90 % 3]}"
    raw = citizen_raw(full_name=name or auto, birth_date=birth, sex=sex, **extra)
    reg = residence.register_new_resident(
        SEED,
        raw,
        commune=commune,
        address=f"Số {next(_names)} Đường Lê Lợi",
        started_on=dt.date(2020, 1, 1),
        reason="test",
        household_number=household,
        relationship=relationship,
    )
    return reg.citizen


def as_citizen(person: Citizen) -> Actor:
    return citizen_actor(person.personal_id, channel="web")


def upload(person: Citizen, field: str = "legal_place") -> Any:
    from dancu.documents import services as documents

    return documents.store_upload(
        as_citizen(person), owner=person, filename=f"{field}.pdf", content=PDF, field=f"components.{field}"
    )


@dataclass
class World:
    geo: Any
    police: Actor  # commune police of Hạc Thành
    justice: Actor  # commune justice of Hạc Thành
    counter: Actor  # one-stop counter of Hạc Thành
    police_elsewhere: Actor  # commune police of Hồng Hà (Hà Nội)
    alice: Citizen  # lives in Hạc Thành, head of her household
    bob: Citizen  # lives in Hạc Thành, member of Alice's household


@pytest.fixture
def world(geo, settings) -> World:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    police = officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)
    justice = officer_actor("tp.hacthanh", "commune_justice", geo.hac_thanh)
    counter = officer_actor("mc.hacthanh", "counter", geo.hac_thanh)
    elsewhere = officer_actor("ca.hongha", "commune_police", geo.hong_ha)
    alice = resident(geo.hac_thanh, name="Trần Thị Lan", birth="1990-05-17", sex="F")
    number = current_household(alice).household.number
    bob = resident(
        geo.hac_thanh, name="Lê Văn Bình", birth="1988-02-01", sex="M", household=number, relationship="other"
    )
    return World(geo, police, justice, counter, elsewhere, alice, bob)


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture(scope="session")
def agency_process(tmp_path_factory):
    """The social-insurance stand-in (``dancu agency serve social-insurance``) as a real process,
    one for the session, for the interconnected dossiers' tests."""
    from tests.exchange.helpers import running_agency

    with running_agency(tmp_path_factory.mktemp("social-insurance"), port=18240) as agency:
        yield agency


@pytest.fixture
def agency(agency_process, settings):
    """dancu pointed at the session's stand-in."""
    from tests.exchange.helpers import point_dancu_at

    point_dancu_at(agency_process, settings)
    return agency_process
