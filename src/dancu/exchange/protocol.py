"""The exchange protocol, shared by dancu and the agencies' systems (docs/exchange.md).

Pure: no Django, no database — the stand-in agencies (``dancu.agencies``) use it as dancu does.
The discipline is X-Road's: every request and every answer is a signed document (JWS, compact
serialisation, ES256 over P-256 keys kept as JWK files) naming its message id, so that each side
can prove what it sent and what it received, and the message id makes every service idempotent.

Request (``POST {agency_url}/x/{service}``, ``Content-Type: application/jose``,
``X-Message-Id: <uuid>``) — a JWS by dancu whose payload is::

    {"message_id": uuid, "client": "VN:GOV:dancu", "service": "health_card.issue",
     "issued_at": iso-8601, "body": {...}}

Answer (``200``, ``application/jose``) — a JWS by the agency whose payload is::

    {"message_id": uuid, "request_sha256": hex, "agency": "VN:GOV:bhxh",
     "status": "ok" | "refused", "body": {...}, "answered_at": iso-8601}

``request_sha256`` is the SHA-256 of the request's JWS text as sent: the answer is bound to
the exact request bytes. A retry resends those same bytes, so a repeated message gets the same
answer, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

CLIENT = "VN:GOV:dancu"  # dancu's member code on the exchange
CONTENT_TYPE = "application/jose"
ALGORITHM = "ES256"
MAX_MESSAGE_BYTES = 64 * 1024  # requests and answers are small documents
OK, REFUSED = "ok", "refused"
SERVICE_RE = re.compile(r"^[a-z][a-z_]{0,40}\.[a-z][a-z_]{0,40}$")


class ProtocolError(Exception):
    """A message that is not a valid signed document of this protocol. ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# ---- keys ------------------------------------------------------------------------------------

def generate_key() -> ECKey:
    return ECKey.generate_key("P-256", auto_kid=True)


def public_jwk(key: ECKey) -> dict[str, Any]:
    """The public half, as published (``/.well-known/jwks.json``) and handed to the other side."""
    data: dict[str, Any] = dict(key.as_dict(private=False))
    data.update(kid=key.thumbprint(), alg=ALGORITHM, use="sig")
    return data


def _write_once(path: Path, text: str, mode: int) -> bool:
    """Write ``path`` unless it exists; False if another process was first. Atomic: the file is
    written aside and linked into place, so no reader ever sees half a key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def load_key(path: Path) -> ECKey:
    """A key (private or public) from its JWK file. Raises ProtocolError if unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProtocolError("E_KEY", f"cannot read the key {path}: {type(exc).__name__}") from exc
    return load_key_from_jwk(data)


def load_key_from_jwk(data: Any) -> ECKey:
    """A P-256 key from its JWK (a dict). Raises ProtocolError otherwise."""
    try:
        key = ECKey.import_key(data)
    except (ValueError, JoseError, TypeError, KeyError) as exc:
        raise ProtocolError("E_KEY", f"not a usable key: {type(exc).__name__}") from exc
    if key.as_dict().get("crv") != "P-256":
        raise ProtocolError("E_KEY", "not a P-256 key")
    return key


def load_or_create_key(path: Path, public_path: Path | None = None, *, create: bool = True) -> ECKey:
    """The private key in ``path`` (a JWK file), made first if missing and ``create``; its public
    half is (re)written to ``public_path`` when given and missing. Safe with several processes
    starting at once: the first file written wins and every process loads that one."""
    path = Path(path)
    if not path.exists():
        if not create:
            raise ProtocolError("E_KEY", f"no key file {path}")
        _write_once(path, json.dumps(generate_key().as_dict(private=True)), 0o600)
    key = load_key(path)
    if public_path is not None and not Path(public_path).exists():
        _write_once(Path(public_path), json.dumps(public_jwk(key), indent=1), 0o644)
    return key


def public_path_for(private_path: Path) -> Path:
    """``dancu.jwk`` → ``dancu.public.jwk`` (where the public half is written beside the key)."""
    private_path = Path(private_path)
    return private_path.with_name(f"{private_path.stem}.public{private_path.suffix or '.jwk'}")


# ---- documents -------------------------------------------------------------------------------

def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sha256(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def sign(payload: dict[str, Any], key: ECKey) -> str:
    """The compact JWS of ``payload`` (canonical JSON) signed with ``key`` (ES256)."""
    return str(jws.serialize_compact({"alg": ALGORITHM, "kid": key.thumbprint()}, canonical(payload), key))


def verify(token: str | bytes, public_key: ECKey) -> dict[str, Any]:
    """The payload of a JWS signed by ``public_key``'s owner. ProtocolError otherwise: not a JWS
    (E_FORMAT), another algorithm or key, a bad signature (E_SIGNATURE), not a JSON object."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise ProtocolError("E_FORMAT", "a JWS is ASCII text") from None
    token = token.strip()
    if len(token) > MAX_MESSAGE_BYTES * 2 or token.count(".") != 2:
        raise ProtocolError("E_FORMAT", "not a compact JWS")
    try:
        obj = jws.deserialize_compact(token, public_key, algorithms=[ALGORITHM])
    except JoseError as exc:
        code = "E_SIGNATURE" if exc.error == "bad_signature" else "E_FORMAT"
        raise ProtocolError(code, f"{exc.error}: {exc.description or ''}"[:200]) from None
    except (ValueError, TypeError, KeyError) as exc:  # malformed segments the library lets through
        raise ProtocolError("E_FORMAT", f"not a valid JWS ({type(exc).__name__})") from None
    try:
        payload = json.loads(obj.payload)
    except (ValueError, TypeError):
        raise ProtocolError("E_FORMAT", "the payload is not JSON") from None
    if not isinstance(payload, dict):
        raise ProtocolError("E_FORMAT", "the payload is not a JSON object")
    return payload


def unverified_payload(token: str) -> dict[str, Any]:
    """The payload of one's OWN stored JWS, without checking it (already checked when sent)."""
    obj = jws.extract_compact(token.encode())
    payload = json.loads(obj.payload)
    assert isinstance(payload, dict)
    return payload


def normalise_message_id(value: Any) -> str:
    """The canonical text of a message id (a UUID); ProtocolError otherwise."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise ProtocolError("E_MESSAGE_ID", "the message id is not a UUID") from None


def request_payload(*, message_id: str, service: str, body: dict[str, Any], client: str = CLIENT,
                    issued_at: str | None = None) -> dict[str, Any]:
    return {"message_id": normalise_message_id(message_id), "client": client, "service": service,
            "issued_at": issued_at or now_iso(), "body": body}


def check_request(payload: dict[str, Any], *, service: str, client: str = CLIENT) -> str:
    """The message id of a verified request payload that is well formed for ``service`` (the
    URL's) from ``client``; ProtocolError otherwise."""
    message_id = normalise_message_id(payload.get("message_id"))
    if payload.get("client") != client:
        raise ProtocolError("E_CLIENT", "unknown client")
    if payload.get("service") != service or not SERVICE_RE.match(service):
        raise ProtocolError("E_SERVICE", "the signed service is not the one addressed")
    if not isinstance(payload.get("body"), dict):
        raise ProtocolError("E_FORMAT", "the body is not a JSON object")
    if not isinstance(payload.get("issued_at"), str):
        raise ProtocolError("E_FORMAT", "issued_at missing")
    return message_id


def answer_payload(*, message_id: str, request_sha256: str, agency: str, status: str,
                   body: dict[str, Any], answered_at: str | None = None) -> dict[str, Any]:
    assert status in (OK, REFUSED)
    return {"message_id": message_id, "request_sha256": request_sha256, "agency": agency,
            "status": status, "body": body, "answered_at": answered_at or now_iso()}


def check_answer(payload: dict[str, Any], *, message_id: str, request_sha256: str, agency: str) -> None:
    """A verified answer must echo the message id and the hash of the request sent, come from the
    agency addressed, and say ok or refused with a JSON object body; ProtocolError otherwise."""
    if payload.get("message_id") != message_id:
        raise ProtocolError("E_ECHO", "the answer is for another message")
    if payload.get("request_sha256") != request_sha256:
        raise ProtocolError("E_ECHO", "the answer is for other request bytes")
    if payload.get("agency") != agency:
        raise ProtocolError("E_ECHO", "the answer is from another agency")
    if payload.get("status") not in (OK, REFUSED) or not isinstance(payload.get("body"), dict):
        raise ProtocolError("E_FORMAT", "the answer has no status or body")


def main(argv: list[str] | None = None) -> int:
    """``python -m dancu.exchange.protocol key PATH``: make a signing key (refused if the file
    exists) and its public half beside it — without Django, so production can run it before its
    settings are complete."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "key":
        print("usage: python -m dancu.exchange.protocol key PATH", file=sys.stderr)
        return 2
    path = Path(args[1])
    if path.exists():
        print(f"{path} exists: a key is made once (rotation: docs/exchange.md)", file=sys.stderr)
        return 1
    public = public_path_for(path)
    load_or_create_key(path, public)
    print(f"key {path} (keep it secret); public key {public} (give it to every agency)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
