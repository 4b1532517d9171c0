"""Six months of public-service dossiers in the demo province, made by the real services under
the demo's clock (``dancu.demo.clock``), so that the KPI dashboards have a history to show.

Each dossier is planned up front from a seeded random generator (when it is submitted, by
whom, through which channel, what becomes of it, whether its officer decides it late, whether
the fee is paid online), then told as a story whose steps run at their moments:

- the submission: online by the citizen (acting as the e-ID sign-in makes them), or at a
  counter — the demo commune's (``demo.motcua``) or, for the province's procedures, the province
  police's (``demo.tinh``) — which takes the fee in cash;
- an online fee paid through the payment flow: ``payments.start_payment`` (the signed redirect
  to the gateway), then the gateway's notification of success — signed with the merchant's
  secret exactly as the sandbox gateway signs it — handed to ``payments.handle_callback``, the
  function behind ``/payments/ipn`` (which marks the dossier paid by its signal);
- the officer receives it in office hours (or asks for a supplement, which the citizen answers
  a few days later: the clock stops meanwhile), then decides on a working day on or before
  the due date — or a few working days after it, more often in some communes than others;
- approvals need the fee: unpaid ones are paid at the counter just before; some decided
  dossiers are rated, late ones worse;
- a few applicants withdraw.

Nothing is written to the KPI tables here: every step's event is counted by the tallies'
receiver, on the local day the clock says. A step planned after the present has not happened
yet, so the recent dossiers are still in the queues, some of them overdue.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from dancu.accounts.actor import Actor
from dancu.core.errors import DomainError
from dancu.demo.clock import Story, office_moment, waking_moment
from dancu.documents import services as documents
from dancu.eid.services import citizen_actor
from dancu.geo.models import AdminUnit
from dancu.payments import protocol, sandbox
from dancu.payments import services as payments
from dancu.population.models import Citizen
from dancu.publicservices import services
from dancu.publicservices.models import Channel, Dossier
from dancu.publicservices.services.counter import submit_at_counter
from dancu.publicservices.workdays import add_working_days, working_days_between

KEY_PREFIX = "demo-seed-"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"  # a scan, as the store keeps it
# Dossiers submitted per working day in the province's busiest communes (half that on weekends),
# from six months ago (the first) to today (the second): the portal's use grows. The last
# RECENT_DAYS are busier (SURGE times), so that the queues have dossiers waiting: a decision
# takes up to the procedure's time limit (1 to 8 working days). Sixty to seventy dossiers in all;
# each approval signs a PDF result (~0.35 s of CPU), the costly part of the demo's set-up.
RATE = (0.22, 0.6)
RECENT_DAYS, SURGE = 10, 2.5
PEOPLE_PER_COMMUNE = 200  # the candidates of a commune (read once, in a stable order)
# How often each commune's officers decide on time (the demo commune first; the province police
# decide the province's procedures); the others are a few working days late. Late decisions
# become rarer as the months go by.
ON_TIME_HOME, ON_TIME_PROVINCE, ON_TIME_OTHERS = 0.95, 0.85, (0.9, 0.75, 0.85, 0.7, 0.8)
LATE_BY = (1, 1, 2, 2, 3, 5)  # working days after the due date
# What becomes of a dossier, dealt from a shuffled deck of twenty: 85 % approved, 10 % refused,
# 5 % withdrawn by the applicant (a deck, not a roll each: a small demo still has every kind).
OUTCOMES = ("approve",) * 17 + ("refuse",) * 2 + ("withdraw",)
JUST_NOW = 3  # dossiers submitted online in the last minutes: waiting to be received
RATINGS = {"on_time": (5, 5, 5, 4, 4, 3), "late": (4, 3, 3, 2, 1), "refused": (4, 3, 2, 1)}

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

# ---- The procedures: (code, agency's officer: "commune" | "province", data, components) --------

Data = Callable[[int], dict[str, Any]]
Procedure = tuple[str, str, Data, tuple[str, ...]]


def _today() -> dt.date:
    return timezone.localdate()  # the demo's clock's day while a story runs


PROCEDURES: tuple[Procedure, ...] = (
    (
        "xac-nhan-thong-tin-cu-tru",
        "commune",
        lambda i: {
            "purpose": ("Bổ sung hồ sơ xin việc", "Làm thủ tục vay vốn ngân hàng", "Nhập học cho con")[i % 3]
        },
        (),
    ),
    (
        "xac-nhan-so-cmnd",
        "commune",
        lambda i: {"purpose": ("Cập nhật thông tin tài khoản ngân hàng", "Giao dịch bảo hiểm")[i % 2]},
        (),
    ),
    ("cap-lai-the-can-cuoc", "commune", lambda i: {"reason": ("lost", "damaged")[i % 2]}, ()),
    (
        "khai-bao-tam-vang",
        "commune",
        lambda i: {
            "case": "long_absence",
            "started_on": _today().isoformat(),
            "expires_on": (_today() + dt.timedelta(days=400 + 30 * (i % 6))).isoformat(),
            "destination": ("Thành phố Hồ Chí Minh", "Thành phố Hà Nội", "Tỉnh Bình Dương")[i % 3],
        },
        (),
    ),
    (
        "cap-ho-chieu-pho-thong",
        "province",
        lambda i: {"request": "Cấp hộ chiếu phổ thông lần đầu để đi du lịch."},
        ("photo",),
    ),
    (
        "cap-doi-giay-phep-lai-xe",
        "province",
        lambda i: {"request": "Cấp đổi giấy phép lái xe hạng A1 hết hạn."},
        ("health_certificate",),
    ),
)
WEIGHTS = (30, 15, 15, 10, 18, 12)  # of PROCEDURES


@dataclass
class Cast:
    """Who acts: the demo commune, its police and counter, the province police, and where the
    portal is (the payment's return address)."""

    home: AdminUnit
    local: Actor  # demo.xa: the demo commune's police
    province: Actor  # demo.tinh
    counter: Actor  # demo.motcua
    base_url: str


@dataclass
class Plan:
    """One dossier, decided up front."""

    n: int
    at: dt.datetime  # submitted
    person: Citizen
    procedure: Procedure
    counter: bool
    pays_online: bool
    outcome: str  # approve | refuse | withdraw
    supplement: bool
    late_by: int  # working days after the due date (0: on time)
    rated: bool
    rng: random.Random


class Texts:
    """The reasons and notes, each taken in turn."""

    def __init__(self) -> None:
        self.refusals, self.supplements = itertools.cycle(REFUSALS), itertools.cycle(SUPPLEMENTS)
        self.withdrawals = itertools.cycle(WITHDRAWALS)


# ---- The plans --------------------------------------------------------------------------------


class _People:
    """Who submits in each commune: adults (18–70) with a permanent residence, each procedure
    at most once per person (a person may submit several different ones over the months)."""

    def __init__(self, communes: list[AdminUnit], today: dt.date, skip: set[int]) -> None:
        self.by_commune: dict[int, list[Citizen]] = {}
        for unit in communes:
            people = (
                Citizen.objects.filter(
                    current_commune=unit,
                    life_status="living",
                    birth_year__lte=today.year - 18,
                    birth_year__gte=today.year - 70,
                    residences__kind="permanent",
                    residences__ended_on__isnull=True,
                )
                .exclude(pk__in=skip)
                .order_by("personal_id")
                .distinct()
            )
            self.by_commune[unit.pk] = list(people[:PEOPLE_PER_COMMUNE])
        self.turn = dict.fromkeys(self.by_commune, 0)
        self.done: set[tuple[int, str]] = set()

    def next(self, unit: AdminUnit, slug: str) -> Citizen | None:
        people = self.by_commune[unit.pk]
        for _ in range(len(people)):
            person = people[self.turn[unit.pk] % len(people)]
            self.turn[unit.pk] += 1
            if (person.pk, slug) not in self.done:
                self.done.add((person.pk, slug))
                return person
        return None


def plans(
    rng: random.Random,
    start: dt.date,
    now: dt.datetime,
    communes: list[AdminUnit],
    home: AdminUnit,
    skip: set[int],
) -> list[Plan]:
    """The dossiers submitted from ``start`` to ``now`` in ``communes`` (the demo commune first)."""
    today = timezone.localdate(now)
    people = _People(communes, today, skip)
    span = max((today - start).days, 1)
    on_time = dict(zip((u.pk for u in communes[1:]), itertools.cycle(ON_TIME_OTHERS), strict=False))
    out: list[Plan] = []
    outcomes = _deck(rng, OUTCOMES)
    # received ten minutes at the earliest after they arrive: not yet
    just_now = [now - dt.timedelta(minutes=rng.uniform(1, 8)) for _ in range(JUST_NOW)]
    day = start
    while day <= today:
        progress = (day - start).days / span
        expected = (
            (RATE[0] + (RATE[1] - RATE[0]) * progress)
            * (1.0 if day.weekday() < 5 else 0.5)
            * (SURGE if (today - day).days < RECENT_DAYS else 1.0)
        )
        moments: list[dt.datetime | None] = [None] * (int(expected) + (rng.random() < expected % 1))
        for moment in moments + (sorted(just_now) if day == today else []):
            unit = home if rng.random() < 0.3 or len(communes) == 1 else rng.choice(communes[1:])
            procedure = rng.choices(PROCEDURES, weights=WEIGHTS)[0]
            # at a counter: the demo commune's (demo.motcua) or, for the province's procedures, the
            # province police's; fewer as the months go by
            counter = (
                (unit.pk == home.pk or procedure[1] == "province")
                and moment is None
                and rng.random() < 0.8 - 0.4 * progress
            )
            at = moment or (office_moment(day, rng) if counter else waking_moment(day, rng))
            person = people.next(unit, procedure[0])
            if person is None or at > now:
                continue
            outcome = next(outcomes)
            punctual = (
                ON_TIME_PROVINCE
                if procedure[1] == "province"
                else ON_TIME_HOME
                if unit.pk == home.pk
                else on_time[unit.pk]
            )
            late = rng.random() < (1 - punctual) * (1.3 - 0.6 * progress)
            out.append(
                Plan(
                    n=len(out),
                    at=at,
                    person=person,
                    procedure=procedure,
                    counter=counter,
                    pays_online=not counter and rng.random() < 0.5 + 0.4 * progress,  # if there is a fee
                    outcome=outcome,
                    supplement=outcome != "withdraw" and rng.random() < 0.12,
                    late_by=rng.choice(LATE_BY) if late else 0,
                    rated=rng.random() < 0.55,
                    rng=random.Random(rng.random()),
                )
            )
        day += dt.timedelta(days=1)
    return out


def _deck(rng: random.Random, cards: tuple[str, ...]) -> Iterator[str]:
    while True:
        yield from rng.sample(cards, len(cards))


# ---- The stories ------------------------------------------------------------------------------


def scans(person: Citizen, keys: tuple[str, ...], *, from_store: bool = False) -> dict[str, Any]:
    """The scans of the components, stored in the person's document store; ``from_store``: as the
    portal's "choose from my documents" sends them (by code: counted as reused)."""
    out: dict[str, Any] = {}
    for key in keys:
        document = documents.store_upload(
            citizen_actor(person.personal_id, channel="web"),
            owner=person,
            filename=f"{key}.pdf",
            content=PDF,
            field=f"components.{key}",
        )
        out[key] = document.code if from_store else document
    return out


def pay_online(citizen: Actor, person: Citizen, dossier: Dossier, base_url: str, number: int) -> None:
    """The fee paid through the gateway: the payment started as the portal starts it, then the
    gateway's notification of success (what the sandbox gateway sends once the payer chose
    "success" on its page) taken by ``handle_callback``, as ``/payments/ipn`` takes it."""
    payment, _url = payments.start_payment(
        citizen,
        reference=dossier.code,
        amount_vnd=dossier.fee_vnd,
        payer=person,
        return_url=base_url + reverse("portal:paid", args=[dossier.code]),
    )
    answer = sandbox.result_notice(
        amount=protocol.minor_units(payment.amount_vnd), no=number,
        order_info=f"Thanh toan le phi ho so {dossier.code}", pay_date=protocol.format_date(timezone.now()),
        response_code=protocol.SUCCESS, tmn_code=settings.DANCU_PAYMENT_TMN_CODE, status=protocol.SUCCESS,
        txn_ref=payment.txn_ref, secret=settings.DANCU_PAYMENT_SECRET,
    )
    result = payments.handle_callback(answer, kind="ipn")
    if result.code != protocol.RSP_CONFIRMED:
        raise RuntimeError(f"the demo's payment {payment.txn_ref}: {result.code} {result.message}")


def dossier_story(plan: Plan, cast: Cast, texts: Texts) -> Story:
    """``plan`` told step by step (each ``yield`` is the moment of the next step)."""
    rng, person = plan.rng, plan.person
    slug, level, data, keys = plan.procedure
    citizen = citizen_actor(person.personal_id, channel="web")
    desk = cast.counter if plan.person.current_commune_id == cast.home.pk else cast.province
    yield plan.at
    try:
        if plan.counter:
            files = {key: ContentFile(PDF, name=f"{key}.pdf") for key in keys}
            dossier = submit_at_counter(
                desk,
                procedure_code=slug,
                applicant_personal_id=person.personal_id,
                subject_personal_id=None,
                relation="self",
                data=data(plan.n),
                files=files,
            )
        else:
            dossier = services.submit(
                citizen,
                procedure_code=slug,
                applicant_personal_id=person.personal_id,
                data=data(plan.n),
                channel=Channel.ONLINE,
                loa=2,
                components=scans(person, keys, from_store=plan.n % 3 != 0),
                idempotency_key=f"{KEY_PREFIX}{plan.n:04d}",
            )
    except DomainError:
        return  # the law's rules refuse this person this procedure (nothing was made)
    code, paid = dossier.code, dossier.paid
    # the demo commune's own police decide its commune-level dossiers; the province's the rest
    officer = cast.local if level == "commune" and dossier.commune_id == cast.home.pk else cast.province
    if plan.counter and not paid:
        services.paid_at_counter(desk, code, receipt=f"BL-DEMO-{plan.n:04d}")
        paid = True
    elif plan.pays_online and not paid:
        yield plan.at + dt.timedelta(minutes=rng.uniform(2, 15))
        pay_online(citizen, person, dossier, cast.base_url, 13_900_000 + plan.n)
        paid = True
    if plan.outcome == "withdraw":
        yield plan.at + dt.timedelta(hours=rng.uniform(3, 40))
        services.withdraw(citizen, code, reason=next(texts.withdrawals))
        return
    received = office_moment(timezone.localdate(), rng, after=timezone.now())
    yield received
    if plan.supplement:
        services.request_supplement(officer, code, note=next(texts.supplements))
        yield received + dt.timedelta(days=rng.uniform(1, 5))
        services.answer_supplement(citizen, code, note="Đã bổ sung theo yêu cầu.")
    else:
        services.accept(officer, code)
    today, due = timezone.localdate(), Dossier.objects.values_list("due_on", flat=True).get(code=code)
    if plan.late_by:
        day = add_working_days(max(due, today), plan.late_by)
    else:  # on a working day from now to the due date, most often close to it
        day = add_working_days(today, max(working_days_between(today, due) - rng.choice((0, 0, 1, 2)), 0))
    decided = office_moment(day, rng, after=timezone.now())
    yield decided
    if plan.outcome == "refuse":
        services.refuse(officer, code, reason=next(texts.refusals))
    else:
        if not paid:
            services.paid_at_counter(officer, code, receipt=f"BL-DEMO-{plan.n:04d}")
        services.approve(officer, code)
    if plan.rated:
        yield decided + dt.timedelta(days=rng.uniform(0.2, 3))
        kind = "refused" if plan.outcome == "refuse" else "late" if plan.late_by else "on_time"
        services.rate(citizen, code, rng.choice(RATINGS[kind]))
