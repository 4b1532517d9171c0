"""The demo's public-service dossiers and e-ID accounts, made once through the real services,
so that the queues, the citizen's portal and the KPI dashboards (``/chi-so/``) have something to
show a newcomer — with a history.

- Six months of dossiers in the busiest communes of the demo province (``demo.history``) and of
  e-ID registrations in the demo commune with the registry snapshots of the KPIs taken
  meanwhile (``demo.eid_history``), each step run by the real services while the demo's clock
  (``demo.clock``) says the moment it happened: deadlines in working days from the backdated
  submission, some decisions late, fees paid online through the payment flow or at the counter,
  and the KPI tallies counted by their receiver on those days.
- Today: a few interconnected birth and death bundles, whose first step ``demo.tuphap``
  decides (the worker and the social-insurance stand-in carry them on once the demo serves),
  and two dossiers of the demo's e-ID citizen to see on the portal.

Once: the online dossiers carry the idempotency key ``demo-seed-<n>``; if one exists the seed
has run and nothing is made again. Everything is made in one transaction (all or nothing).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from dancu.accounts.actor import Actor
from dancu.accounts.models import OfficerProfile
from dancu.accounts.services import actor_for_profile
from dancu.demo import clock
from dancu.demo.eid_history import eid_stories, snapshots
from dancu.demo.history import KEY_PREFIX, Cast, Texts, dossier_story, plans, scans
from dancu.eid.models import EidAccount
from dancu.eid.services import citizen_actor
from dancu.geo.models import AdminUnit
from dancu.population.models import Citizen
from dancu.publicservices import services
from dancu.publicservices.models import Channel, Dossier
from dancu.residence.models import HouseholdMember

MONTHS = 6  # the history: this month and the five before it
COMMUNES = 6  # the busiest communes of the province
BIRTHS, DEATHS = 2, 2


@dataclass
class Seeded:
    """What the seed made (``made``) or found (``found``)."""

    made: bool
    dossiers: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    online: int = 0
    counter: int = 0
    bundles: int = 0


# ---- Who ---------------------------------------------------------------------------------------


def _officer(username: str) -> Actor:
    profile = OfficerProfile.objects.select_related("user", "jurisdiction").get(user__username=username)
    return actor_for_profile(profile, source="system", source_ref="dancu demo")


def _busiest(province: AdminUnit, first: AdminUnit) -> list[AdminUnit]:
    rows = (Citizen.objects.filter(current_province=province, life_status="living")
            .values("current_commune").annotate(n=Count("id")).order_by("-n", "current_commune")[:COMMUNES])
    ids = [first.pk] + [r["current_commune"] for r in rows if r["current_commune"] != first.pk]
    units = AdminUnit.objects.in_bulk(ids[:COMMUNES])
    return [units[pk] for pk in ids[:COMMUNES] if pk in units]


# ---- The seed ---------------------------------------------------------------------------------


def seeded(province: AdminUnit) -> Seeded:
    """The province's dossiers as they stand (by status, channel; the bundles)."""
    dossiers = Dossier.objects.filter(province=province)
    by_status = dict(dossiers.values_list("status").annotate(n=Count("id")).order_by())
    return Seeded(made=False, dossiers=sum(by_status.values()), by_status=by_status,
                  online=dossiers.filter(channel=Channel.ONLINE).count(),
                  counter=dossiers.filter(channel=Channel.COUNTER).count(),
                  bundles=dossiers.exclude(procedure__steps=[]).count())


def already_seeded() -> bool:
    return Dossier.objects.filter(idempotency_key__startswith=KEY_PREFIX).exists()


@transaction.atomic
def seed_dossiers(province: AdminUnit, *, password: str, eid_citizen: str | None = None,
                  base_url: str = "http://127.0.0.1:8000", seed: int = 2026) -> Seeded:
    """Make the demo's history and today's dossiers once (see the module docstring); then what
    the province has. ``password``: the e-ID accounts' registered online; ``eid_citizen``: the
    demo's e-ID citizen (left out of the history and the bundles); ``base_url``: the portal's."""
    if already_seeded():
        return seeded(province)
    local = _officer("demo.xa")  # commune police of the demo commune
    home = OfficerProfile.objects.get(user__username="demo.xa").jurisdiction
    assert home is not None  # demo.xa is a commune officer (demo._officers)
    cast = Cast(home=home, local=local, province=_officer("demo.tinh"), counter=_officer("demo.motcua"),
                base_url=base_url)
    now = timezone.now()
    today = timezone.localdate(now)
    start = clock.month_starts(today, MONTHS)[0]
    # the demo's e-ID citizen is nobody's applicant, death or mother here: their own dossiers are
    # made below, to be seen on the portal
    used = set(Citizen.objects.filter(personal_id=eid_citizen).values_list("pk", flat=True))
    mothers, deaths = _bundle_people(home, today, used)
    rng, texts = random.Random(seed), Texts()
    stories = [dossier_story(plan, cast, texts)
               for plan in plans(rng, start, now, _busiest(province, home), home, used)]
    stories += eid_stories(rng, start, now, home, local, password)
    stories.append(snapshots(start, now))
    clock.run(stories, until=now)
    _bundles(_officer("demo.tuphap"), today, mothers, deaths)  # today: the worker carries them on
    _eid_citizen(eid_citizen, home, {"commune": local, "province": cast.province})
    return Seeded(**{**seeded(province).__dict__, "made": True})


def _eid_citizen(personal_id: str | None, home: AdminUnit, officers: dict[str, Actor]) -> None:
    """The demo's e-ID citizen finds on the portal a residence confirmation approved (and rates
    it) and an ID-card reissue accepted, its fee left for them to pay online (the sandbox
    gateway)."""
    account = EidAccount.objects.select_related("citizen").filter(personal_id=personal_id,
                                                                  status="active").first()
    if account is None:
        return
    person, citizen = account.citizen, citizen_actor(account.personal_id, channel="web")
    for key, slug, data in (("eid-0", "xac-nhan-thong-tin-cu-tru", {"purpose": "Bổ sung hồ sơ xin việc"}),
                            ("eid-1", "cap-lai-the-can-cuoc", {"reason": "damaged"})):
        dossier = services.submit(citizen, procedure_code=slug, applicant_personal_id=person.personal_id,
                                  data=data, idempotency_key=f"{KEY_PREFIX}{key}", loa=2)
        officer = officers["commune" if dossier.commune_id == home.pk else "province"]
        services.accept(officer, dossier.code)
        if dossier.paid:
            services.approve(officer, dossier.code)
            services.rate(citizen, dossier.code, 5)


def _bundle_people(home: AdminUnit, today: dt.date, used: set[int]
                   ) -> tuple[list[Citizen], list[tuple[Citizen, Citizen]]]:
    """The young mothers who declare a birth and the (household head, deceased member) pairs who
    declare a death, in the demo commune, chosen first (they are few) and added to ``used``."""
    mothers = list(Citizen.objects.filter(current_commune=home, life_status="living", sex="F",
                                          birth_year__lte=today.year - 20, birth_year__gte=today.year - 38,
                                          residences__kind="permanent", residences__ended_on__isnull=True)
                   .exclude(pk__in=used).order_by("personal_id").distinct()[:BIRTHS])
    used.update(mother.pk for mother in mothers)
    members = (HouseholdMember.objects.filter(household__commune=home, left_on__isnull=True,
                                              citizen__life_status="living",
                                              citizen__birth_year__lte=today.year - 75,
                                              household__head__life_status="living")
               .exclude(Q(citizen_id__in=used) | Q(household__head_id__in=used))
               .select_related("citizen", "household__head").order_by("citizen__personal_id"))
    deaths: list[tuple[Citizen, Citizen]] = []
    for member in list(members[:20]):
        head, deceased = member.household.head, member.citizen
        if len(deaths) >= DEATHS or head.pk == deceased.pk or head.pk in used or deceased.pk in used:
            continue
        used.update((head.pk, deceased.pk))
        deaths.append((head, deceased))
    return mothers, deaths


def _bundles(justice: Actor, today: dt.date, mothers: list[Citizen],
             deaths: list[tuple[Citizen, Citizen]]) -> None:
    """Birth bundles declared by the mothers, death bundles by the household heads; the justice
    officer decides the first step of all but one of each (left in ``demo.tuphap``'s queue)."""
    names = ("Minh An", "Bảo Ngọc", "Gia Huy", "Khánh Linh")
    for i, mother in enumerate(mothers):
        family = mother.full_name.split()[0]
        data = {"child_full_name": f"{family} {names[i % len(names)]}",
                "child_birth_date": (today - dt.timedelta(days=2 + i)).isoformat(),
                "child_sex": "MF"[i % 2], "child_ethnicity": mother.ethnicity or "01"}
        if mother.spouse_id is not None:
            data["other_parent_personal_id"] = Citizen.objects.get(pk=mother.spouse_id).personal_id
        dossier = services.submit(citizen_actor(mother.personal_id, channel="web"),
                                  procedure_code="lien-thong-khai-sinh-thuong-tru-bhyt",
                                  applicant_personal_id=mother.personal_id, relation="parent", data=data,
                                  components=scans(mother, ("birth_certificate",)),
                                  idempotency_key=f"{KEY_PREFIX}birth-{i}", loa=2)
        if i < BIRTHS - 1:
            services.decide_step(justice, dossier.code, "birth_registration", approve=True)
    for made, (head, deceased) in enumerate(deaths):
        dossier = services.submit(citizen_actor(head.personal_id, channel="web"),
                                  procedure_code="lien-thong-khai-tu-xoa-thuong-tru-mai-tang",
                                  applicant_personal_id=head.personal_id,
                                  subject_personal_id=deceased.personal_id, relation="household_head",
                                  data={"death_date": (today - dt.timedelta(days=1 + made)).isoformat(),
                                        "death_place": "Bệnh viện Đa khoa tỉnh",
                                        "payee_relationship": "child" if made % 2 else "other"},
                                  components=scans(head, ("death_notice",)),
                                  idempotency_key=f"{KEY_PREFIX}death-{made}", loa=2)
        if made < DEATHS - 1:
            services.decide_step(justice, dossier.code, "death_registration", approve=True)
