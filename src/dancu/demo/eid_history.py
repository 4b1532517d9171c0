"""Six months of e-ID registrations in the demo commune, through the ``eid`` services under the
demo's clock (``dancu.demo.clock``), and the registry snapshots the KPIs' periodic job would
have taken meanwhile (``kpi.services.snapshot_registry`` on the 15th and the last day of each
past month), so that the e-ID figures of the dashboards have a value and a trend.

Of the commune's people aged 14 and over, about three in five end with an active account:

- most at level 2 at the commune police's counter (``enrol_level2``, by ``demo.xa``: card
  checked, biometrics captured; the account is made there, to be activated by the person);
- a quarter at level 1 online first (``submit_level1_application``: the registry check and an
  OTP by SMS; ``confirm_level1_application`` with the code from the development outbox and a
  password), a third of whom are raised to level 2 at the counter weeks later;
- and a few applications are refused by the registry check (a name typed wrong): they count
  among the applicants, not the accounts.

Only the demo commune: level 2 needs a commune police officer of the person's commune, and the
demo has one (``demo.xa``). Level 2 costs ~3 ms, level 1 ~35 ms (the Argon2id hash of the
password), so the commune's ~120 people take about a second; the province's figure stays low
(one commune of 166), the commune's is realistic.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from django.utils import timezone

from dancu.accounts.actor import Actor
from dancu.demo.clock import Story, local, office_moment, waking_moment
from dancu.eid.models import EidAccount
from dancu.eid.services import (
    ApplicationResult,
    confirm_level1_application,
    enrol_level2,
    submit_level1_application,
)
from dancu.eid.sms import latest_code
from dancu.geo.models import AdminUnit
from dancu.kpi.services import snapshot_registry
from dancu.population.models import Citizen

SHARE = 0.6  # of the commune's people aged 14+ with an account today
LEVEL1_FIRST = 0.25  # of them, registered online at level 1 first
RAISED = 1 / 3  # of those, raised to level 2 at the counter later
REFUSED = 0.05  # an application refused by the registry check
PORTRAIT = b"\x89PNG\r\n\x1a\n" + bytes(64)


def _phone(person: Citizen) -> str:
    return "09" + person.personal_id[-8:]


def _birth_date(person: Citizen) -> dt.date:
    return dt.date(person.birth_year, person.birth_month or 1, person.birth_day or 1)


def eid_stories(
    rng: random.Random, start: dt.date, now: dt.datetime, home: AdminUnit, officer: Actor, password: str
) -> list[Story]:
    """The registrations of the demo commune from ``start`` to ``now`` (more as the months go by)."""
    people = list(
        Citizen.objects.filter(current_commune=home, life_status="living", birth_year__lte=start.year - 15)
        .exclude(pk__in=EidAccount.objects.values("citizen_id"))
        .order_by("personal_id")
    )
    rng.shuffle(people)
    span = (now - local(start, dt.time(0))).total_seconds()
    stories: list[Story] = []
    refused = max(round(len(people) * REFUSED), 1 if len(people) > 2 else 0)
    for i, person in enumerate(people[: refused + round(len(people) * SHARE)]):
        at = local(start, dt.time(0)) + dt.timedelta(seconds=span * rng.random() ** 0.8)  # growing
        day = timezone.localdate(at)
        if i < refused:
            stories.append(_refused(person, waking_moment(day, rng)))
        elif rng.random() < LEVEL1_FIRST and person.birth_day:  # the full date of birth is asked online
            raised = office_moment(day + dt.timedelta(days=rng.randint(14, 60)), rng)
            stories.append(
                _level1(
                    person,
                    waking_moment(day, rng),
                    password,
                    officer,
                    raised if rng.random() < RAISED else None,
                )
            )
        else:
            stories.append(_level2(person, office_moment(day, rng), officer))
    return stories


def _apply(person: Citizen, full_name: str) -> ApplicationResult:
    """Level 1 online: the registry check (name, date of birth) and an OTP by SMS."""
    return submit_level1_application(
        personal_id=person.personal_id,
        full_name=full_name,
        birth_date=_birth_date(person),
        phone=_phone(person),
        portrait=PORTRAIT,
    )


def _at_the_counter(officer: Actor, person: Citizen, phone: str = "") -> None:
    """Level 2 at the commune police: card checked, biometrics captured (the account made there
    with ``phone`` if the person had none)."""
    enrol_level2(
        officer,
        person.personal_id,
        card_checked=True,
        device_reference="DEMO-ABIS",
        capture_reference=f"DEMO-{person.personal_id}",
        phone=phone,
    )


def _refused(person: Citizen, at: dt.datetime) -> Story:
    yield at
    _apply(person, person.full_name[:-1])  # a name typed wrong: the registry check refuses it


def _level1(
    person: Citizen, at: dt.datetime, password: str, officer: Actor, raised: dt.datetime | None
) -> Story:
    yield at
    result = _apply(person, person.full_name)
    if result.refused or result.challenge is None:
        return
    yield at + dt.timedelta(minutes=2)  # the code arrives by SMS; the person types it
    confirm_level1_application(
        result.application.pk, result.challenge.pk, latest_code(result.challenge.phone) or "", password
    )
    if raised is not None:
        yield raised
        _at_the_counter(officer, person)


def _level2(person: Citizen, at: dt.datetime, officer: Actor) -> Story:
    yield at
    _at_the_counter(officer, person, _phone(person))


def snapshots(start: dt.date, now: dt.datetime) -> Story:
    """The registry snapshot as the hourly job took it on the 15th and the last day of each past
    month (the dashboards read the latest one on or before a period's end)."""
    for day in _snapshot_days(start, timezone.localdate(now)):
        yield local(day, dt.time(23, 50))
        snapshot_registry(day)


def _snapshot_days(start: dt.date, today: dt.date) -> Iterator[dt.date]:
    day = start
    while day < today:
        month_end = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        for candidate in (day.replace(day=15), month_end):
            if start <= candidate < today:
                yield candidate
        day = month_end + dt.timedelta(days=1)
