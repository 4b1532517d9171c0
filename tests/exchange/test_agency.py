"""The social-insurance stand-in over real HTTP, as any client would reach it: signatures checked,
replays answered byte for byte, a reused message id refused, one card per child and one decision
per deceased whatever the number of messages or concurrent requests, the benefit rules, and bad
input that never crashes it."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
import requests

from dancu.exchange import protocol
from dancu.exchange.services import own_key
from tests.exchange.helpers import RunningAgency
from tests.exchange.test_call import child, unique_pid
from tests.parallel import run_parallel


def signed(service: str, body: dict, message_id: str | None = None, key=None) -> tuple[str, str]:
    message_id = message_id or str(uuid.uuid4())
    payload = protocol.request_payload(message_id=message_id, service=service, body=body)
    return message_id, protocol.sign(payload, key or own_key())


def post(
    agency: RunningAgency, service: str, token: str | bytes, message_id: str, **headers: str
) -> requests.Response:
    return requests.post(
        f"{agency.url}/x/{service}",
        data=token,
        headers={"Content-Type": protocol.CONTENT_TYPE, "X-Message-Id": message_id, **headers},
        timeout=30,
    )


def answer_of(agency: RunningAgency, response: requests.Response) -> dict:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == protocol.CONTENT_TYPE
    return protocol.verify(response.text, protocol.load_key(agency.public_key))


def death(personal_id: str, payee: str = "001190000456", **extra) -> dict:
    return {
        "personal_id": personal_id,
        "full_name": "Trần Thị Bình",
        "death_date": dt.date.today().isoformat(),
        "payee": {
            "personal_id": payee,
            "full_name": "Trần Văn Cường",
            "relationship": "con",
            "bank_account": "0123456789",
        },
        **extra,
    }


def test_a_request_not_signed_by_dancu_is_refused_401_and_logged(social_insurance_process) -> None:
    agency = social_insurance_process
    before = agency.state()
    message_id, forged = signed("health_card.issue", child(unique_pid()), key=protocol.generate_key())
    refused = post(agency, "health_card.issue", forged, message_id)
    assert refused.status_code == 401 and refused.json()["code"] == "E_SIGNATURE"
    after = agency.state()
    assert after["cards"] == before["cards"] and after["messages"] == before["messages"]
    assert after["requests_logged"] == before["requests_logged"] + 1


def test_a_replay_gets_the_same_bytes_and_a_reused_id_409(social_insurance_process) -> None:
    agency = social_insurance_process
    message_id, token = signed("health_card.issue", child(unique_pid()))
    first = post(agency, "health_card.issue", token, message_id)
    again = post(agency, "health_card.issue", token, message_id)
    assert answer_of(agency, first)["status"] == "ok" and first.content == again.content
    payload = answer_of(agency, first)
    assert payload["request_sha256"] == protocol.sha256(token) and payload["message_id"] == message_id
    _, other = signed("health_card.issue", child(unique_pid()), message_id)
    conflict = post(agency, "health_card.issue", other, message_id)
    assert conflict.status_code == 409 and conflict.json()["code"] == "E_MESSAGE_ID_REUSED"


def test_one_card_per_child_whatever_the_messages(social_insurance_process) -> None:
    agency = social_insurance_process
    body = child(unique_pid())
    cards = set()
    for _ in range(3):  # three messages (a new id each) for the same child
        message_id, token = signed("health_card.issue", body)
        cards.add(
            answer_of(agency, post(agency, "health_card.issue", token, message_id))["body"]["card_number"]
        )
    assert len(cards) == 1


def test_concurrent_identical_and_different_requests_make_one_card(social_insurance_process) -> None:
    agency = social_insurance_process
    before = agency.state()["cards"]
    body = child(unique_pid())
    same_id, same_token = signed("health_card.issue", body)
    answers: list[bytes] = []

    def work(i: int) -> None:
        if i % 2:
            answers.append(post(agency, "health_card.issue", same_token, same_id).content)
        else:
            message_id, token = signed("health_card.issue", body)
            answers.append(post(agency, "health_card.issue", token, message_id).content)

    assert run_parallel(work, 8) == []
    assert agency.state()["cards"] == before + 1
    assert len({protocol.unverified_payload(a.decode())["body"]["card_number"] for a in answers}) == 1
    assert len({a for a in answers if same_id in json.dumps(protocol.unverified_payload(a.decode()))}) == 1
    assert agency.state()["duplicate_cards"] == 0


def test_a_child_of_six_is_refused_and_the_card_ends_the_day_before_the_sixth_birthday(
    social_insurance_process,
) -> None:
    agency = social_insurance_process
    today = dt.date.today()
    six = child(
        unique_pid(),
        born=today.replace(year=today.year - 6)
        if not (today.month == 2 and today.day == 29)
        else dt.date(today.year - 6, 2, 28),
    )
    message_id, token = signed("health_card.issue", six)
    refused = answer_of(agency, post(agency, "health_card.issue", token, message_id))
    assert refused["status"] == "refused" and refused["body"]["code"] == "E_AGE"
    leap = child(unique_pid(), born=dt.date(2024, 2, 29))
    if today < dt.date(2030, 3, 1):
        message_id, token = signed("health_card.issue", leap)
        card = answer_of(agency, post(agency, "health_card.issue", token, message_id))["body"]
        assert (card["valid_from"], card["valid_to"]) == ("2024-02-29", "2030-02-28")


def test_funeral_allowance_by_the_contribution_history(social_insurance_process) -> None:
    from dancu.agencies.social_insurance import add_participant

    agency = social_insurance_process
    short, funeral_only, long = unique_pid(), unique_pid(), unique_pid()
    add_participant(agency.db, short, 11)
    add_participant(agency.db, funeral_only, 12)
    add_participant(agency.db, long, 20 * 12 + 5, average_salary=8_000_000)
    results = {}
    for pid in (short, funeral_only, long):
        message_id, token = signed("funeral_allowance.decide", death(pid))
        results[pid] = answer_of(agency, post(agency, "funeral_allowance.decide", token, message_id))
    assert results[short]["status"] == "refused" and results[short]["body"]["code"] == "E_NOT_ENTITLED"
    assert "11 tháng" in results[short]["body"]["reason"]
    funeral = results[funeral_only]["body"]
    assert (
        funeral["kind"],
        funeral["funeral_allowance_vnd"],
        funeral["survivor_lump_sum_vnd"],
        funeral["total_vnd"],
    ) == ("funeral_allowance", 23_400_000, 0, 23_400_000)
    assert (
        funeral["payee"]["personal_id"] == "001190000456" and funeral["payee"]["bank_account"] == "0123456789"
    )
    both = results[long]["body"]
    assert both["kind"] == "funeral_allowance+survivor_lump_sum"
    assert both["survivor_lump_sum_vnd"] == 8_000_000 * 20 * 3 // 2
    assert both["total_vnd"] == 23_400_000 + both["survivor_lump_sum_vnd"]
    # a second message for the same deceased: the same decision, never a second
    message_id, token = signed("funeral_allowance.decide", death(long, payee="001190000789"))
    again = answer_of(agency, post(agency, "funeral_allowance.decide", token, message_id))["body"]
    assert again["decision_number"] == both["decision_number"] and agency.state()["duplicate_decisions"] == 0
    # an earlier death: the reference amount of its date
    message_id, token = signed("funeral_allowance.decide", death(unique_pid(), death_date="2024-03-15"))
    old = answer_of(agency, post(agency, "funeral_allowance.decide", token, message_id))
    if old["status"] == "ok":
        assert old["body"]["funeral_allowance_vnd"] == 18_000_000


BAD_BODIES = [
    {},
    {"personal_id": 1},
    {"personal_id": "12"},
    {"personal_id": "001226000123\x00"},
    {**child(), "birth_date": "2026-02-30"},
    {**child(), "birth_date": "9999-01-01"},
    {**child(), "birth_date": 20260101},
    {**child(), "province_code": "1"},
    {**child(), "full_name": "x" * 10_000},
    {**child(), "guardian_personal_id": ["a"]},
    {**child(), "full_name": None},
]
BAD_DEATHS = [
    death("001226000123", payee="001226000123"),
    {**death("001150000111"), "payee": "x"},
    {**death("001150000111"), "payee": {"personal_id": "001190000456"}},
    {**death("001150000111"), "death_date": "1800-01-01"},
    {**death("001150000111"), "payee": {**death("1")["payee"], "bank_account": "'; DROP TABLE card;--"}},
    {**death("001150000111"), "personal_id": 10**30},
]


def test_bad_input_gets_a_signed_refusal_or_a_4xx_never_a_5xx(social_insurance_process) -> None:
    agency = social_insurance_process
    for service, bodies in (("health_card.issue", BAD_BODIES), ("funeral_allowance.decide", BAD_DEATHS)):
        for body in bodies:
            message_id, token = signed(service, body)
            answer = answer_of(agency, post(agency, service, token, message_id))
            assert answer["status"] == "refused" and answer["body"]["code"] == "E_INVALID", (body, answer)
    message_id, token = signed("tax.file", {})
    assert (
        answer_of(agency, post(agency, "tax.file", token, message_id))["body"]["code"] == "E_UNKNOWN_SERVICE"
    )
    message_id, token = signed("health_card.issue", child())
    raw = [
        (f"{agency.url}/x/health_card.issue", b"", {}),
        (f"{agency.url}/x/health_card.issue", b"\xff\xfe\x00", {}),
        (f"{agency.url}/x/health_card.issue", b"a.b.c", {"X-Message-Id": "x"}),
        (f"{agency.url}/x/health_card.issue", token.encode(), {}),  # no X-Message-Id
        (f"{agency.url}/x/health_card.issue", token.encode(), {"X-Message-Id": str(uuid.uuid4())}),
        (f"{agency.url}/x/funeral_allowance.decide", token.encode(), {"X-Message-Id": message_id}),
        (f"{agency.url}/x/%00", token.encode(), {"X-Message-Id": message_id}),
        (f"{agency.url}/x/health_card.issue", b"x" * (protocol.MAX_MESSAGE_BYTES + 1), {}),
        (f"{agency.url}/x/health_card.issue", json.dumps({"payload": "x"}).encode(), {}),
    ]
    for url, data, headers in raw:
        response = requests.post(url, data=data, headers=headers, timeout=30)
        assert 400 <= response.status_code < 500, (url, data[:40], response.status_code, response.text)
        assert response.json()["code"].startswith("E_")
    assert requests.get(f"{agency.url}/x/health_card.issue", timeout=10).status_code == 405
    assert requests.get(f"{agency.url}/nowhere", timeout=10).status_code == 404
    assert (
        requests.post(
            f"{agency.url}/x/health_card.issue", data=token, timeout=10, headers={"Content-Length": "abc"}
        ).status_code
        < 500
    )


def test_state_page_and_published_key(social_insurance_process) -> None:
    agency = social_insurance_process
    message_id, token = signed("health_card.issue", child(unique_pid()))
    post(agency, "health_card.issue", token, message_id)
    state = agency.state(ids=True)
    assert message_id in state["message_ids"] and state["duplicate_cards"] == 0
    page = requests.get(agency.url + "/", timeout=10)
    assert page.status_code == 200 and message_id in page.text and "stand-in" in page.text
    jwks = requests.get(agency.url + "/.well-known/jwks.json", timeout=10).json()
    published = protocol.load_key_from_jwk(jwks["keys"][0])
    assert published.thumbprint() == protocol.load_key(agency.public_key).thumbprint()
    assert "d" not in jwks["keys"][0]


@pytest.mark.parametrize("content_length", ["-1", "99999999999"])
def test_a_lying_content_length_is_refused(social_insurance_process, content_length) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", social_insurance_process.port, timeout=10)
    conn.putrequest("POST", "/x/health_card.issue")
    conn.putheader("Content-Length", content_length)
    conn.endheaders()
    assert conn.getresponse().status == 413
    conn.close()


def test_the_cli_records_a_contribution_history(social_insurance_process) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    agency = social_insurance_process
    pid = unique_pid()
    call_command("agency", "participant", "social-insurance", pid, "5", "--db", str(agency.db))
    message_id, token = signed("funeral_allowance.decide", death(pid))
    refused = answer_of(agency, post(agency, "funeral_allowance.decide", token, message_id))
    assert refused["status"] == "refused" and "5 tháng" in refused["body"]["reason"]
    with pytest.raises(CommandError):
        call_command("agency", "participant", "social-insurance", "12", "5", "--db", str(agency.db))
