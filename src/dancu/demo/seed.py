"""The demo's public-service dossiers: a modest, realistic mix made once through the real
services (``publicservices.services``), so that the queues, the citizen's portal and the KPI
dashboards (``/chi-so/``) have something to show a newcomer.

Citizens of the busiest communes of the demo province submit online (each as a citizen actor,
as the e-ID sign-in makes them); the demo commune's one-stop counter (``demo.motcua``) enters
paper dossiers with their scans. The officers then accept, ask for a supplement (some answered),
approve (a signed result each, the costly part: a few dozen at most), refuse with a reason;
some fees are paid at the counter, some applicants withdraw, some rate the result. A few
interconnected birth and death bundles get their first step decided by ``demo.tuphap``; the
worker and the social-insurance stand-in carry them on once the demo serves. The demo's e-ID
citizen is left out of all that and gets two dossiers of their own to see on the portal.

Once: the online dossiers carry the idempotency key ``demo-seed-<n>``; if one exists the seed
has run and nothing is made again. Everything is made in one transaction (all or nothing).
Every dossier is made today (the services stamp the present): all decisions are on time.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from dancu.accounts.actor import Actor
from dancu.accounts.models import OfficerProfile
from dancu.accounts.services import actor_for_profile
from dancu.documents import services as documents
from dancu.eid.models import EidAccount
from dancu.eid.services import citizen_actor
from dancu.geo.models import AdminUnit
from dancu.population.models import Citizen
from dancu.publicservices import services
from dancu.publicservices.models import Channel, Dossier
from dancu.publicservices.services.counter import submit_at_counter
from dancu.residence.models import HouseholdMember

KEY_PREFIX = "demo-seed-"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"  # a scan, as the store keeps it
COMMUNES = 6  # the busiest communes of the province
ONLINE, COUNTER, BIRTHS, DEATHS = 70, 20, 2, 2

# What happens to a dossier after it is submitted, in a repeating pattern (20 long): 10 %
# approved (one in two after a supplement was asked and answered), 10 % refused, 5 % withdrawn,
# 5 % waiting for a supplement, the rest in the queues (accepted, or waiting to be received).
# Approvals are few on purpose: each signs a PDF result (about half a second).
PATTERN = ("approve", "accept", "submit", "refuse", "accept", "submit", "supplement", "accept", "accept",
           "submit", "withdraw", "accept", "refuse", "supplement_answered", "submit", "accept", "submit",
           "accept", "accept", "submit")
RATINGS = (5, 4, 5, None, 3, 5, 4, None, 2, 5)  # None: not rated

REFUSALS = (
    "Thông tin trong tờ khai không khớp với Cơ sở dữ liệu quốc gia về dân cư.",
    "Hồ sơ không thuộc thẩm quyền giải quyết của cơ quan tiếp nhận.",
    "Giấy tờ đính kèm không rõ nét, không đọc được nội dung.",
    "Người nộp không đủ điều kiện theo quy định của pháp luật.",
)
SUPPLEMENTS = (
    "Đề nghị bổ sung bản chụp giấy tờ rõ nét hơn.",
    "Đề nghị ghi rõ mục đích đề nghị xác nhận.",
    "Đề nghị bổ sung giấy tờ chứng minh theo quy định.",
)
WITHDRAWALS = ("Nộp nhầm thủ tục.", "Đã nộp trực tiếp tại bộ phận một cửa.")


@dataclass
class Seeded:
    """What the seed made (``made``) or found (``found``)."""

    made: bool
    dossiers: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    online: int = 0
    counter: int = 0
    bundles: int = 0


# ---- The procedures: (code, agency's officer: "commune" | "province", data, components) --------

Data = Callable[[int], dict[str, Any]]


def _today() -> dt.date:
    return timezone.localdate()


ONLINE_PROCEDURES: tuple[tuple[str, str, Data, tuple[str, ...]], ...] = (
    ("xac-nhan-thong-tin-cu-tru", "commune",
     lambda i: {"purpose": ("Bổ sung hồ sơ xin việc", "Làm thủ tục vay vốn ngân hàng",
                            "Nhập học cho con")[i % 3]}, ()),
    ("xac-nhan-so-cmnd", "commune",
     lambda i: {"purpose": ("Cập nhật thông tin tài khoản ngân hàng", "Giao dịch bảo hiểm")[i % 2]}, ()),
    ("cap-lai-the-can-cuoc", "commune", lambda i: {"reason": ("lost", "damaged")[i % 2]}, ()),
    ("khai-bao-tam-vang", "commune",
     lambda i: {"case": "long_absence", "started_on": _today().isoformat(),
                "expires_on": (_today() + dt.timedelta(days=400 + 30 * (i % 6))).isoformat(),
                "destination": ("Thành phố Hồ Chí Minh", "Thành phố Hà Nội", "Tỉnh Bình Dương")[i % 3]}, ()),
    ("cap-ho-chieu-pho-thong", "province",
     lambda i: {"request": "Cấp hộ chiếu phổ thông lần đầu để đi du lịch."}, ("photo",)),
    ("cap-doi-giay-phep-lai-xe", "province",
     lambda i: {"request": "Cấp đổi giấy phép lái xe hạng A1 hết hạn."}, ("health_certificate",)),
)
COUNTER_PROCEDURES = (ONLINE_PROCEDURES[0], ONLINE_PROCEDURES[2], ONLINE_PROCEDURES[1])


# ---- Who ---------------------------------------------------------------------------------------


def _officer(username: str) -> Actor:
    profile = OfficerProfile.objects.select_related("user", "jurisdiction").get(user__username=username)
    return actor_for_profile(profile, source="system", source_ref="dancu demo")


def _adults(commune: AdminUnit, today: dt.date, skip: set[int]) -> Iterator[Citizen]:
    """Living adults (18–70) of the commune with a permanent residence, in a stable order."""
    people = (Citizen.objects.filter(current_commune=commune, life_status="living",
                                     birth_year__lte=today.year - 18, birth_year__gte=today.year - 70,
                                     residences__kind="permanent",
                                     residences__ended_on__isnull=True)
              .order_by("personal_id").distinct())
    for person in list(people[:ONLINE]):  # read before writing: no cursor open across the writes
        if person.pk not in skip:
            yield person


def _busiest(province: AdminUnit, first: AdminUnit) -> list[AdminUnit]:
    rows = (Citizen.objects.filter(current_province=province, life_status="living")
            .values("current_commune").annotate(n=Count("id")).order_by("-n", "current_commune")[:COMMUNES])
    ids = [first.pk] + [r["current_commune"] for r in rows if r["current_commune"] != first.pk]
    units = AdminUnit.objects.in_bulk(ids[:COMMUNES])
    return [units[pk] for pk in ids[:COMMUNES] if pk in units]


def _scans(person: Citizen, keys: tuple[str, ...], *, from_store: bool = False) -> dict[str, Any]:
    """The scans of the components, stored in the person's document store; ``from_store``: as the
    portal's "choose from my documents" sends them (by code: counted as reused)."""
    out: dict[str, Any] = {}
    for key in keys:
        document = documents.store_upload(citizen_actor(person.personal_id, channel="web"), owner=person,
                                          filename=f"{key}.pdf", content=PDF, field=f"components.{key}")
        out[key] = document.code if from_store else document
    return out


# ---- What happens next ------------------------------------------------------------------------


class _Texts:
    """The reasons, notes and ratings, each taken in turn (not by the dossier's number, which
    would give every refusal the same reason)."""

    def __init__(self) -> None:
        self.refusals, self.supplements = itertools.cycle(REFUSALS), itertools.cycle(SUPPLEMENTS)
        self.withdrawals, self.ratings = itertools.cycle(WITHDRAWALS), itertools.cycle(RATINGS)


def _carry_on(outcome: str, n: int, dossier: Dossier, officer: Actor, cashier: Actor,
              citizen: Actor, texts: _Texts) -> None:
    """Take the dossier as far as ``outcome`` through the officers' and the citizen's services."""
    code = dossier.code
    if outcome == "submit":
        return
    if outcome == "withdraw":
        services.withdraw(citizen, code, reason=next(texts.withdrawals))
        return
    if outcome in ("supplement", "supplement_answered"):
        services.request_supplement(officer, code, note=next(texts.supplements))
        if outcome == "supplement":
            return
        services.answer_supplement(citizen, code, note="Đã bổ sung theo yêu cầu.")
    else:
        services.accept(officer, code)
    if outcome == "accept":
        return
    if outcome == "refuse":
        services.refuse(officer, code, reason=next(texts.refusals))
    else:
        if not dossier.paid:
            services.paid_at_counter(cashier, code, receipt=f"BL-DEMO-{n:04d}")
        services.approve(officer, code)
    rating = next(texts.ratings)
    if rating is not None:
        services.rate(citizen, code, rating)


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
def seed_dossiers(province: AdminUnit) -> Seeded:
    """Make the demo's dossiers once (see the module docstring); then what the province has."""
    if already_seeded():
        return seeded(province)
    local = _officer("demo.xa")  # commune police of the demo commune
    home = OfficerProfile.objects.get(user__username="demo.xa").jurisdiction
    assert home is not None  # demo.xa is a commune officer (demo._officers)
    officers = {"commune": local, "province": _officer("demo.tinh")}
    counter, justice = _officer("demo.motcua"), _officer("demo.tuphap")
    # the demo's e-ID citizen (``demo._eid_account``) is nobody's death and nobody's mother: their
    # own dossiers are made below, to be seen on the portal
    today, used = _today(), set(EidAccount.objects.values_list("citizen_id", flat=True))
    communes = _busiest(province, home)
    _bundles(home, justice, today, used)  # first: the young mothers and the elderly are few
    people = {unit.pk: _adults(unit, today, used) for unit in communes}

    def next_person(unit: AdminUnit) -> Citizen | None:
        for person in people[unit.pk]:
            used.add(person.pk)
            return person
        return None

    n, texts = 0, _Texts()
    for i in range(COUNTER):
        person = next_person(home)
        if person is None:
            break
        slug, _level, data, keys = COUNTER_PROCEDURES[i % len(COUNTER_PROCEDURES)]
        files = {key: ContentFile(PDF, name=f"{key}.pdf") for key in keys}
        dossier = submit_at_counter(counter, procedure_code=slug, applicant_personal_id=person.personal_id,
                                    subject_personal_id=None, relation="self", data=data(i), files=files)
        citizen = citizen_actor(person.personal_id, channel="web")
        _carry_on(PATTERN[n % len(PATTERN)], n, dossier, local, counter, citizen, texts)
        n += 1
    for i in range(ONLINE):
        unit = communes[i % len(communes)]
        person = next_person(unit)
        if person is None:
            continue
        slug, level, data, keys = ONLINE_PROCEDURES[i % len(ONLINE_PROCEDURES)]
        citizen = citizen_actor(person.personal_id, channel="web")
        dossier = services.submit(citizen, procedure_code=slug, applicant_personal_id=person.personal_id,
                                  data=data(i), components=_scans(person, keys, from_store=i % 3 != 0),
                                  channel=Channel.ONLINE,
                                  idempotency_key=f"{KEY_PREFIX}{i:04d}", loa=2)
        # the demo commune's own police decide its commune-level dossiers; the province's the rest
        officer = local if level == "commune" and dossier.commune_id == home.pk else officers["province"]
        _carry_on(PATTERN[n % len(PATTERN)], n, dossier, officer, officer, citizen, texts)
        n += 1
    _eid_citizen(province, home, officers)
    return Seeded(**{**seeded(province).__dict__, "made": True})


def _eid_citizen(province: AdminUnit, home: AdminUnit, officers: dict[str, Actor]) -> None:
    """The demo's e-ID citizen finds on the portal a residence confirmation approved (and rates
    it) and an ID-card reissue accepted, its fee left for them to pay online (the sandbox
    gateway)."""
    account = (EidAccount.objects.select_related("citizen")
               .filter(citizen__current_province=province, status="active").order_by("pk").first())
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


def _bundles(home: AdminUnit, justice: Actor, today: dt.date, used: set[int]) -> None:
    """Birth bundles declared by young mothers, death bundles by household heads, in the demo
    commune; the justice officer decides the first step of all but one of each (left in
    ``demo.tuphap``'s queue)."""
    mothers = (Citizen.objects.filter(current_commune=home, life_status="living", sex="F",
                                      birth_year__lte=today.year - 20, birth_year__gte=today.year - 38,
                                      residences__kind="permanent", residences__ended_on__isnull=True)
               .exclude(pk__in=used).order_by("personal_id").distinct())
    names = ("Minh An", "Bảo Ngọc", "Gia Huy", "Khánh Linh")
    for i, mother in enumerate(mothers[:BIRTHS]):
        used.add(mother.pk)
        family = mother.full_name.split()[0]
        data = {"child_full_name": f"{family} {names[i % len(names)]}",
                "child_birth_date": (today - dt.timedelta(days=2 + i)).isoformat(),
                "child_sex": "MF"[i % 2], "child_ethnicity": mother.ethnicity or "01"}
        if mother.spouse_id is not None:
            data["other_parent_personal_id"] = Citizen.objects.get(pk=mother.spouse_id).personal_id
        dossier = services.submit(citizen_actor(mother.personal_id, channel="web"),
                                  procedure_code="lien-thong-khai-sinh-thuong-tru-bhyt",
                                  applicant_personal_id=mother.personal_id, relation="parent", data=data,
                                  components=_scans(mother, ("birth_certificate",)),
                                  idempotency_key=f"{KEY_PREFIX}birth-{i}", loa=2)
        if i < BIRTHS - 1:
            services.decide_step(justice, dossier.code, "birth_registration", approve=True)
    members = (HouseholdMember.objects.filter(household__commune=home, left_on__isnull=True,
                                              citizen__life_status="living",
                                              citizen__birth_year__lte=today.year - 75,
                                              household__head__life_status="living")
               .exclude(Q(citizen_id__in=used) | Q(household__head_id__in=used))
               .select_related("citizen", "household__head").order_by("citizen__personal_id"))
    made = 0
    for member in list(members[:20]):
        head, deceased = member.household.head, member.citizen
        if made >= DEATHS or head.pk == deceased.pk or head.pk in used or deceased.pk in used:
            continue
        used.update((head.pk, deceased.pk))
        dossier = services.submit(citizen_actor(head.personal_id, channel="web"),
                                  procedure_code="lien-thong-khai-tu-xoa-thuong-tru-mai-tang",
                                  applicant_personal_id=head.personal_id,
                                  subject_personal_id=deceased.personal_id, relation="household_head",
                                  data={"death_date": (today - dt.timedelta(days=1 + made)).isoformat(),
                                        "death_place": "Bệnh viện Đa khoa tỉnh",
                                        "payee_relationship": "child" if made % 2 else "other"},
                                  components=_scans(head, ("death_notice",)),
                                  idempotency_key=f"{KEY_PREFIX}death-{made}", loa=2)
        if made < DEATHS - 1:
            services.decide_step(justice, dossier.code, "death_registration", approve=True)
        made += 1
