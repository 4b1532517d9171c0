"""The one-stop counter pages (/mot-cua/) through the Django test client: the queue (area and
agency, filters, sorts, pages, bad input), the dossier page, each action through its service,
refusals (outside the area, wrong role) as 403 pages audited by the services, intake of a paper
dossier with its scans, and the receipt."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dancu.accounts.actor import Actor, system_actor
from dancu.audit.models import AuditEvent
from dancu.population.models import Citizen
from dancu.publicservices import services
from dancu.publicservices.models import Dossier, DossierEvent
from dancu.residence import services as residence
from tests.factories import citizen_raw, officer_actor, officer_login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SEED = system_actor("test:seed")
CONFIRM = "1.010123"   # residence information confirmation: commune police, no fee, no component
ID_CONFIRM = "1.003666"  # old ID number confirmation: commune police, no effect
BIRTH = "1.001193"     # birth registration: commune justice
_n = itertools.count(1)


def resident(commune: Any, name: str = "") -> Citizen:
    raw = citizen_raw(full_name=name or f"Nguyễn Văn Quầy {next(_n)}")
    return residence.register_new_resident(
        SEED, raw, commune=commune, address=f"Số {next(_n)} Lê Lợi", started_on=dt.date(2020, 1, 1),
        reason="test").citizen


@pytest.fixture
def w(geo, settings) -> Any:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    class W:
        pass

    x = W()
    x.geo = geo
    x.police = officer_actor("ca.hacthanh", "commune_police", geo.hac_thanh)
    x.police2 = officer_actor("ca2.hacthanh", "commune_police", geo.hac_thanh)
    x.justice = officer_actor("tp.hacthanh", "commune_justice", geo.hac_thanh)
    x.counter = officer_actor("mc.hacthanh", "counter", geo.hac_thanh)
    x.elsewhere = officer_actor("ca.hongha", "commune_police", geo.hong_ha)
    x.province = officer_actor("ca.thanhhoa", "province_police", geo.thanh_hoa)
    x.auditor = officer_actor("kiem.tra", "auditor", None)
    x.alice = resident(geo.hac_thanh, "Trần Thị Lan")
    x.bob = resident(geo.hac_thanh, "Lê Văn Bình")
    x.carol = resident(geo.hong_ha, "Phạm Thị Hà")
    return x


def counter_dossier(actor: Actor, person: Citizen, code: str = CONFIRM, purpose: str = "Vay vốn") -> Dossier:
    return services.submit(actor, procedure_code=code, applicant_personal_id=person.personal_id,
                           relation="self", data={"purpose": purpose}, components={}, channel="counter")


def as_(client: Any, actor: Actor) -> Any:
    officer_login(client, actor)
    return client


def codes(response: Any) -> list[str]:
    import re

    return re.findall(r'data-testid="queue-row" data-code="([^"]+)"', response.content.decode())


def denied(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


# ---- the queue -------------------------------------------------------------------------------

def test_the_queue_shows_the_area_and_agency_of_the_officer(client, w) -> None:
    mine = counter_dossier(w.counter, w.alice)
    other = counter_dossier(officer_actor("mc.hongha", "counter", w.geo.hong_ha), w.carol)
    page = as_(client, w.police).get(reverse("counter:queue"))
    assert page.status_code == 200
    assert codes(page) == [mine.code]
    # the civil-status officer handles births, not the police's residence confirmation
    assert codes(as_(client, w.justice).get(reverse("counter:queue"))) == []
    # province police see their province; the auditor the whole country
    assert codes(as_(client, w.province).get(reverse("counter:queue"))) == [mine.code]
    assert set(codes(as_(client, w.auditor).get(reverse("counter:queue")))) == {mine.code, other.code}


def test_the_queue_page_audits_the_people_it_shows(client, w) -> None:
    mine = counter_dossier(w.counter, w.alice)
    counter_dossier(officer_actor("mc.hongha", "counter", w.geo.hong_ha), w.carol)
    assert codes(as_(client, w.police).get(reverse("counter:queue"))) == [mine.code]
    shown = AuditEvent.objects.filter(action="dossier.queue", actor_id=w.police.user_id)
    assert list(shown.values_list("personal_id", flat=True)) == [w.alice.personal_id]
    assert shown.get().reason == "hàng đợi xử lý hồ sơ"


def test_filters_and_sorts(client, w) -> None:
    a = counter_dossier(w.counter, w.alice)
    b = counter_dossier(w.counter, w.bob, code=ID_CONFIRM)
    c = counter_dossier(w.counter, w.alice, code=ID_CONFIRM, purpose="Ngân hàng")
    today = timezone.localdate()
    Dossier.objects.filter(pk=a.pk).update(due_on=today - dt.timedelta(days=3))  # overdue
    Dossier.objects.filter(pk=b.pk).update(due_on=today)                         # due today
    Dossier.objects.filter(pk=c.pk).update(due_on=today + dt.timedelta(days=30),
                                           submitted_at=timezone.now() + dt.timedelta(minutes=5))
    services.assign(w.police, c.code)
    client = as_(client, w.police)
    url = reverse("counter:queue")
    assert codes(client.get(url)) == [a.code, b.code, c.code]           # by deadline
    assert codes(client.get(url, {"sort": "submitted"})) == [c.code, b.code, a.code]
    assert codes(client.get(url, {"sort": "code"})) == sorted([a.code, b.code, c.code])
    overdue = client.get(url, {"flag": "overdue"})
    assert codes(overdue) == [a.code]
    html = overdue.content.decode()
    assert 'data-flag="overdue"' in html and "Quá hạn" in html  # a word, not colour alone
    soon = client.get(url, {"flag": "due_soon"})
    assert codes(soon) == [b.code] and "Sắp đến hạn" in soon.content.decode()
    assert codes(client.get(url, {"procedure": ID_CONFIRM})) == [b.code, c.code]
    assert codes(client.get(url, {"mine": "on"})) == [c.code]
    assert codes(client.get(url, {"channel": "online"})) == []
    assert codes(client.get(url, {"channel": "counter"})) == [a.code, b.code, c.code]
    services.accept(w.police, a.code)
    assert codes(client.get(url, {"status": "accepted"})) == [a.code]
    services.refuse(w.police, b.code, reason="Thiếu giấy tờ")
    assert b.code not in codes(client.get(url))
    assert b.code in codes(client.get(url, {"status": "all"}))


def test_pages(client, w) -> None:
    from dancu.publicservices.views import counter as views

    made = [counter_dossier(w.counter, w.alice, purpose=f"Mục đích {i}").code for i in range(3)]
    client = as_(client, w.police)
    old = views.PAGE_SIZE
    views.PAGE_SIZE = 2
    try:
        first = client.get(reverse("counter:queue"))
        assert codes(first) == made[:2] and 'data-testid="next"' in first.content.decode()
        second = client.get(reverse("counter:queue"), {"page": "2"})
        assert codes(second) == made[2:] and 'data-testid="next"' not in second.content.decode()
        assert codes(client.get(reverse("counter:queue"), {"page": "9"})) == []
    finally:
        views.PAGE_SIZE = old


@pytest.mark.parametrize("params", [
    {"page": "0"}, {"page": "-1"}, {"page": "99999999999999999999"}, {"page": "abc"},
    {"sort": "id; drop"}, {"status": "nope"}, {"flag": "late"}, {"procedure": "9.999999"},
    {"channel": "fax"},
])
def test_bad_queue_parameters_are_400_naming_the_field(client, w, params) -> None:
    response = as_(client, w.police).get(reverse("counter:queue"), params)
    assert response.status_code == 400
    assert f'data-field-error="{next(iter(params))}"' in response.content.decode()


def test_nul_anywhere_is_400(client, w) -> None:
    client = as_(client, w.police)
    assert client.get(reverse("counter:queue"), {"status": "open\x00"}).status_code == 400
    assert client.get("/mot-cua/ho-so/DC%00X/").status_code == 400


def test_the_pages_are_for_officers_only(client, w) -> None:
    response = client.get(reverse("counter:queue"))
    assert response.status_code == 302 and "/accounts/" in response["Location"]
    service = officer_actor("svc.api", "service", None)
    assert as_(client, service).get(reverse("counter:queue")).status_code == 403


# ---- the dossier page and the refusals --------------------------------------------------------

def test_the_dossier_page_shows_everything_and_audits_the_read(client, w) -> None:
    d = counter_dossier(w.counter, w.alice)
    services.assign(w.police, d.code)
    page = as_(client, w.police).get(reverse("counter:dossier", args=[d.code]))
    html = page.content.decode()
    assert page.status_code == 200
    for text in (d.code, "Trần Thị Lan", w.alice.personal_id, "Vay vốn", "Nộp hồ sơ", "Phân công",
                 "mc.hacthanh", 'data-testid="accept"', 'data-testid="refuse"'):
        assert text in html, text
    read = AuditEvent.objects.filter(action="dossier.view", subject_id=d.code).get()
    assert read.personal_id == w.alice.personal_id and d.code in read.reason


def test_outside_the_area_is_403_and_audited(client, w) -> None:
    d = counter_dossier(w.counter, w.alice)
    client = as_(client, w.elsewhere)
    page = client.get(reverse("counter:dossier", args=[d.code]))
    assert page.status_code == 403 and "không thuộc" in page.content.decode()
    assert denied("dossier.view.denied") == 1
    before = DossierEvent.objects.count()
    for action in ("accept", "approve", "assign"):
        response = client.post(reverse("counter:act", args=[d.code, action]), {"to": "me"})
        assert response.status_code == 403, action
        assert "ngoài địa bàn" in response.content.decode()
    assert denied("dossier.accept.denied") == 1 and denied("dossier.approve.denied") == 1
    assert DossierEvent.objects.count() == before
    assert Dossier.objects.get(pk=d.pk).status == "submitted"


def test_wrong_role_is_403_and_audited(client, w) -> None:
    d = counter_dossier(w.counter, w.alice)
    services.accept(w.police, d.code)
    # the civil-status officer does not decide a police procedure; the counter does not approve
    for actor in (w.justice, w.counter, w.auditor):
        response = as_(client, actor).post(reverse("counter:act", args=[d.code, "approve"]))
        assert response.status_code == 403, actor.role
    assert Dossier.objects.get(pk=d.pk).status == "accepted"
    assert denied("dossier.approve.denied") >= 2
    # the auditor reads the dossier, without buttons
    page = as_(client, w.auditor).get(reverse("counter:dossier", args=[d.code]))
    assert page.status_code == 200 and 'data-testid="actions"' not in page.content.decode()


def test_unknown_dossier_and_action(client, w) -> None:
    client = as_(client, w.police)
    assert client.get(reverse("counter:dossier", args=["DC-00000000-000000"])).status_code == 404
    assert client.get("/mot-cua/ho-so/" + "X" * 5000 + "/").status_code == 404
    d = counter_dossier(w.counter, w.alice)
    assert client.post(reverse("counter:act", args=[d.code, "explode"])).status_code == 404
    assert client.get(reverse("counter:act", args=[d.code, "accept"])).status_code == 405


# ---- each action -------------------------------------------------------------------------------

def test_assign_to_me_and_to_another_officer(client, w) -> None:
    d = counter_dossier(w.counter, w.alice)
    client = as_(client, w.police)
    r = client.post(reverse("counter:act", args=[d.code, "assign"]), {"to": "me"})
    assert r.status_code == 302
    assert Dossier.objects.get(pk=d.pk).assigned_to_id == w.police.user_id
    r = client.post(reverse("counter:act", args=[d.code, "assign"]),
                    {"to": "other", "officer": "ca2.hacthanh"})
    assert r.status_code == 302
    assert Dossier.objects.get(pk=d.pk).assigned_to_id == w.police2.user_id
    # an officer who may not decide it is not offered, and a forged name is refused
    bad = client.post(reverse("counter:act", args=[d.code, "assign"]),
                      {"to": "other", "officer": "ca.hongha"})
    assert bad.status_code == 400
    assert Dossier.objects.get(pk=d.pk).assigned_to_id == w.police2.user_id
    assert list(DossierEvent.objects.filter(dossier=d).values_list("action", flat=True)) == [
        "submitted", "assigned", "assigned"]


def test_accept_supplement_refuse(client, w) -> None:
    d = counter_dossier(w.counter, w.alice)
    client = as_(client, w.police)
    assert client.post(reverse("counter:act", args=[d.code, "accept"])).status_code == 302
    assert Dossier.objects.get(pk=d.pk).status == "accepted"
    empty = client.post(reverse("counter:act", args=[d.code, "supplement"]), {"supplement-note": "  "})
    assert empty.status_code == 400 and 'data-field-error="supplement-note"' in empty.content.decode()
    r = client.post(reverse("counter:act", args=[d.code, "supplement"]),
                    {"supplement-note": "Bổ sung giấy xác nhận"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == "supplement" and d.clock_paused_at is not None  # the clock stops
    page = client.get(reverse("counter:dossier", args=[d.code])).content.decode()
    assert "Tạm dừng" in page and "Bổ sung giấy xác nhận" in page
    no_reason = client.post(reverse("counter:act", args=[d.code, "refuse"]), {"refuse-note": ""})
    assert no_reason.status_code == 400
    r = client.post(reverse("counter:act", args=[d.code, "refuse"]), {"refuse-note": "Không đủ điều kiện"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == "refused" and d.decision_note == "Không đủ điều kiện"
    # a second refusal meets the status rule: 409, nothing written
    again = client.post(reverse("counter:act", args=[d.code, "accept"]))
    assert again.status_code == 409
    events = list(DossierEvent.objects.filter(dossier=d)
                  .values_list("action", "from_status", "to_status", "actor_label"))
    assert events[1:] == [("accepted", "submitted", "accepted", "ca.hacthanh"),
                          ("supplement_requested", "accepted", "supplement", "ca.hacthanh"),
                          ("refused", "supplement", "refused", "ca.hacthanh")]


def test_approve_applies_the_effect_and_the_counter_hands_over(client, w) -> None:
    d = counter_dossier(w.counter, w.alice)
    services.accept(w.police, d.code)
    r = as_(client, w.police).post(reverse("counter:act", args=[d.code, "approve"]))
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == "approved" and d.result_document_id is not None
    page = client.get(reverse("counter:dossier", args=[d.code])).content.decode()
    assert 'data-testid="result-link"' in page
    result = client.get(reverse("counter:component", args=[d.code, 0]))
    assert result.status_code == 200 and result["Content-Type"] == "application/pdf"
    assert result.content.startswith(b"%PDF") and "inline" in result["Content-Disposition"]
    r = as_(client, w.counter).post(reverse("counter:act", args=[d.code, "handover"]))
    assert r.status_code == 302
    assert DossierEvent.objects.filter(dossier=d, action="handed_over").count() == 1


def test_a_fee_is_paid_at_the_counter_before_approval(client, w) -> None:
    from dancu.publicservices.models import Procedure

    Procedure.objects.filter(code=ID_CONFIRM).update(fee_vnd=15000)
    d = counter_dossier(w.counter, w.alice, code=ID_CONFIRM)
    assert not d.paid
    services.accept(w.police, d.code)
    client = as_(client, w.police)
    page = client.get(reverse("counter:dossier", args=[d.code])).content.decode()
    assert 'data-testid="approve"' not in page and 'data-testid="paid"' in page  # not paid yet
    assert client.post(reverse("counter:act", args=[d.code, "approve"])).status_code == 409
    client = as_(client, w.counter)
    assert 'data-testid="paid"' in client.get(reverse("counter:dossier", args=[d.code])).content.decode()
    assert client.post(reverse("counter:act", args=[d.code, "paid"])).status_code == 302
    assert Dossier.objects.get(pk=d.pk).paid


# ---- intake at the counter ----------------------------------------------------------------------

def test_intake_of_a_paper_dossier_with_scans(client, w) -> None:
    client = as_(client, w.counter)
    assert client.get(reverse("counter:intake")).status_code == 200
    step2 = client.get(reverse("counter:intake"), {"procedure": "1.004222",
                                                   "personal_id": w.bob.personal_id,
                                                   "reason": "Tiếp nhận hồ sơ"})
    html = step2.content.decode()
    assert step2.status_code == 200 and "Lê Văn Bình" in html and 'name="file__legal_place"' in html
    assert "2025:14758" in html  # the counter's commune offered
    look = AuditEvent.objects.filter(action="citizen.view", personal_id=w.bob.personal_id).last()
    assert look is not None and look.reason == "Tiếp nhận hồ sơ"
    data = {"procedure": "1.004222", "personal_id": w.bob.personal_id, "reason": "Tiếp nhận hồ sơ",
            "relation": "self", "data__commune": "2025:14758", "data__address": "Số 9 Trần Phú",
            "data__started_on": timezone.localdate().isoformat(), "data__housing": "own",
            "file__legal_place": SimpleUploadedFile("so-do.pdf", PDF, content_type="application/pdf")}
    r = client.post(reverse("counter:intake"), data)
    assert r.status_code == 302, r.content.decode()[:3000]
    d = Dossier.objects.get(applicant=w.bob)
    assert r["Location"] == reverse("counter:receipt", args=[d.code])
    assert d.channel == "counter" and d.status == "submitted"
    comp = d.component_rows.get()
    assert comp.key == "legal_place" and bytes(comp.document.content) == PDF
    receipt = client.get(r["Location"])
    assert receipt.status_code == 200 and d.code in receipt.content.decode()
    scan = client.get(reverse("counter:component", args=[d.code, comp.pk]), {"download": "1"})
    assert scan.status_code == 200 and "attachment" in scan["Content-Disposition"]
    # the read goes through the documents context's one rule: audited for the owner, with the
    # dossier code as the purpose
    read = AuditEvent.objects.filter(action="document.read", subject_id=comp.document.code).get()
    assert read.personal_id == w.bob.personal_id and read.reason == d.code


def test_intake_refusals_name_the_field_and_leave_nothing(client, w) -> None:
    from dancu.documents.models import Document

    client = as_(client, w.counter)
    base = {"procedure": "1.004222", "personal_id": w.bob.personal_id, "reason": "Tiếp nhận",
            "relation": "self", "data__commune": "2025:14758", "data__address": "Số 9 Trần Phú",
            "data__started_on": timezone.localdate().isoformat(), "data__housing": "own"}
    fake = client.post(reverse("counter:intake"), {
        **base, "file__legal_place": SimpleUploadedFile("a.pdf", b"MZ\x90\x00 not a pdf")})
    assert fake.status_code == 400 and 'data-field-error="file__legal_place"' in fake.content.decode()
    # a valid scan but a rule refused later (a date the schema refuses): no stray document
    bad_date = client.post(reverse("counter:intake"), {
        **base, "data__started_on": "2024-02-30",
        "file__legal_place": SimpleUploadedFile("a.pdf", PDF)})
    assert bad_date.status_code == 400
    assert not Dossier.objects.exists() and not Document.objects.exists()
    # a bad ID number, an unknown person
    assert client.get(reverse("counter:intake"), {"procedure": CONFIRM, "personal_id": "12",
                                                  "reason": "x"}).status_code == 400
    unknown = client.get(reverse("counter:intake"), {"procedure": CONFIRM, "personal_id": "001099000001",
                                                     "reason": "x"})
    assert unknown.status_code == 404
    # the police officer of another commune cannot take in a dossier for Hạc Thành
    other = as_(client, w.elsewhere).post(reverse("counter:intake"), {
        **base, "personal_id": w.carol.personal_id,
        "file__legal_place": SimpleUploadedFile("a.pdf", PDF)})
    assert other.status_code == 403
    assert denied("dossier.submit.denied") == 1
    assert not Dossier.objects.exists()


def test_english_is_selectable(client, w) -> None:
    counter_dossier(w.counter, w.alice)
    client = as_(client, w.police)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("counter:queue")).content.decode()
    assert "Residence information confirmation" in html or "confirmation" in html.lower()


def test_huge_component_ids_are_404(client, w) -> None:
    d = counter_dossier(w.counter, w.alice)
    client = as_(client, w.police)
    for huge in ("99999999999999999999", "9223372036854775808", "2147483648"):
        assert client.get(f"/mot-cua/ho-so/{d.code}/tai-lieu/{huge}/").status_code == 404
