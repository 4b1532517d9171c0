"""The protocol alone (no Django, no HTTP): signing round trip, forged and tampered documents,
the echo checks, keys written once."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from dancu.exchange import protocol


@pytest.fixture(scope="module")
def key():
    return protocol.generate_key()


def test_a_signed_request_verifies_with_the_public_key_only(key) -> None:
    payload = protocol.request_payload(message_id=str(uuid.uuid4()), service="health_card.issue",
                                       body={"personal_id": "001226000123", "full_name": "Nguyễn Văn An"})
    token = protocol.sign(payload, key)
    public = protocol.load_key_from_jwk(protocol.public_jwk(key))
    assert protocol.verify(token, public) == payload
    assert protocol.check_request(payload, service="health_card.issue") == payload["message_id"]
    with pytest.raises(protocol.ProtocolError) as wrong_service:
        protocol.check_request(payload, service="funeral_allowance.decide")
    assert wrong_service.value.code == "E_SERVICE"


def test_a_forged_or_tampered_document_is_refused(key) -> None:
    payload = protocol.request_payload(message_id=str(uuid.uuid4()), service="health_card.issue", body={})
    other = protocol.generate_key()
    with pytest.raises(protocol.ProtocolError) as forged:
        protocol.verify(protocol.sign(payload, other), key)
    assert forged.value.code == "E_SIGNATURE"
    header, body, signature = protocol.sign(payload, key).split(".")
    tampered_body = protocol.sign({**payload, "body": {"x": 1}}, key).split(".")[1]
    with pytest.raises(protocol.ProtocolError) as tampered:
        protocol.verify(f"{header}.{tampered_body}.{signature}", key)
    assert tampered.value.code == "E_SIGNATURE"
    for junk in ("", "a.b", "a.b.c", "ééé", b"\xff\x00.a.b", "x" * 300_000, f"{header}.{body}."):
        with pytest.raises(protocol.ProtocolError):
            protocol.verify(junk, key)
    # "none" and symmetric algorithms are never accepted
    unsigned = f"{header.replace(header, 'eyJhbGciOiJub25lIn0')}.{body}."
    with pytest.raises(protocol.ProtocolError):
        protocol.verify(unsigned, key)


def test_an_answer_must_echo_the_message_and_the_request_bytes(key) -> None:
    message_id = str(uuid.uuid4())
    answer = protocol.answer_payload(message_id=message_id, request_sha256="ab" * 32, agency="VN:GOV:bhxh",
                                     status="ok", body={"card_number": "TE1017900000001"})
    protocol.check_answer(answer, message_id=message_id, request_sha256="ab" * 32, agency="VN:GOV:bhxh")
    for wrong in ({"message_id": str(uuid.uuid4())}, {"request_sha256": "cd" * 32},
                  {"agency": "VN:GOV:other"}, {"status": "maybe"}, {"body": []}):
        with pytest.raises(protocol.ProtocolError):
            protocol.check_answer({**answer, **wrong}, message_id=message_id, request_sha256="ab" * 32,
                                  agency="VN:GOV:bhxh")


def test_a_key_file_is_written_once_and_its_public_half_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "k" / "dancu.jwk"
    first = protocol.load_or_create_key(path, protocol.public_path_for(path))
    again = protocol.load_or_create_key(path, protocol.public_path_for(path))
    assert first.thumbprint() == again.thumbprint()
    public = json.loads((tmp_path / "k" / "dancu.public.jwk").read_text())
    assert "d" not in public and public["kid"] == first.thumbprint()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(protocol.ProtocolError):
        protocol.load_or_create_key(tmp_path / "none.jwk", create=False)
