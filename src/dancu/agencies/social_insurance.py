"""The social-insurance agency's stand-in (Vietnam Social Security, member ``VN:GOV:bhxh``): a
small WSGI app of its own, run by ``dancu agency serve social-insurance`` (docs/exchange.md).

It is not part of dancu: a separate process with its own SQLite file, its own signing key, its own
card-number series and benefit rules, reached only over HTTP through ``dancu.exchange``'s signed
messages. No Django here (the command that starts it reads dancu's settings for the paths only).

Endpoints:
- ``POST /x/health_card.issue`` and ``POST /x/funeral_allowance.decide`` — a request JWS signed by
  dancu (``application/jose``); the answer is a JWS signed by the agency (200). A request that does
  not verify gets a plain (unsigned) ``401`` JSON ``{"code": "E_SIGNATURE"}``; a malformed one
  ``400``; a known message id with other request bytes ``409``; a body of more than 64 KiB ``413``.
  A well-signed request whose body is invalid gets a signed ``refused`` answer (stored like any).
- ``GET /state`` — counts for invariant checks (JSON); ``GET /state?ids=1`` adds the message ids.
- ``GET /`` — the latest exchanges (HTML); ``GET /.well-known/jwks.json`` — its public key.

Idempotency: each message id is processed once. Processing, the card or decision it makes and
the stored answer are ONE SQLite transaction (``BEGIN IMMEDIATE``): killed at any moment, the
agency has either nothing of the message or everything, and a retry gets the stored answer byte
for byte. One card per child and one decision per deceased (primary keys): another message for
the same person returns the existing one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
import random
import re
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIServer
from zoneinfo import ZoneInfo

from dancu.core import httpserver
from dancu.exchange import protocol

log = logging.getLogger(__name__)

MEMBER = "VN:GOV:bhxh"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
StartResponse = Callable[..., Any]

# Benefit rules, as data. TO CONFIRM against the Law on Social Insurance 2024 (Law 41/2024/QH15,
# in force 1 July 2025) and its decrees before any real use — see docs/exchange.md.
RULES: dict[str, Any] = {
    # the reference amount ("mức tham chiếu", until set: the base salary), from the date given
    "reference_amounts": [("2019-07-01", 1_490_000), ("2023-07-01", 1_800_000), ("2024-07-01", 2_340_000)],
    "funeral_multiplier": 10,  # funeral allowance = 10 × the reference amount of the month of death
    "funeral_min_months": 12,  # contributions needed for the funeral allowance
    "survivor_min_months": 180,  # 15 years: a survivor lump sum in addition (simplified)
    # survivor lump sum (simplified): 1.5 × the average monthly salary per full year of contributions
    "survivor_per_year_halves": 3,
    "health_card_max_age_years": 6,  # children under 6: card "TE1", paid by the State budget
}
# Initial care facility by province code (legacy two-digit codes); others: the commune health station.
FACILITIES = {
    "01": "Trạm Y tế phường/xã nơi cư trú — Hà Nội",
    "79": "Trạm Y tế phường/xã nơi cư trú — Thành phố Hồ Chí Minh",
}
DEFAULT_FACILITY = "Trạm Y tế xã/phường nơi trẻ cư trú (tỉnh, thành phố mã {code})"
SI_NUMBER_BASE = 7_900_000_000
# How an answer is lost (--lose-answer-rate): a 503 after the commit, the connection closed in the
# middle of the answer, or either at random.
LOSE_MODES = ("503", "truncate", "mixed")  # its own series of 10-digit social-insurance numbers

SCHEMA = """
CREATE TABLE IF NOT EXISTS message (
    message_id TEXT PRIMARY KEY, client TEXT NOT NULL, service TEXT NOT NULL,
    request_sha256 TEXT NOT NULL, request_jws TEXT NOT NULL, status TEXT NOT NULL,
    answer_jws TEXT NOT NULL, received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log (            -- every request received, whatever became of it
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, message_id TEXT, service TEXT,
    http_status INTEGER NOT NULL, outcome TEXT NOT NULL, request_sha256 TEXT
);
CREATE TABLE IF NOT EXISTS card (
    personal_id TEXT PRIMARY KEY, card_number TEXT NOT NULL UNIQUE, insurance_number TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL, birth_date TEXT NOT NULL, sex TEXT, province_code TEXT NOT NULL,
    address TEXT, guardian_personal_id TEXT, valid_from TEXT NOT NULL, valid_to TEXT NOT NULL,
    facility TEXT NOT NULL, message_id TEXT NOT NULL, issued_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decision (
    personal_id TEXT PRIMARY KEY, decision_number TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    full_name TEXT NOT NULL, death_date TEXT NOT NULL, contribution_months INTEGER NOT NULL,
    funeral_vnd INTEGER NOT NULL, survivor_vnd INTEGER NOT NULL, total_vnd INTEGER NOT NULL,
    payee TEXT NOT NULL, message_id TEXT NOT NULL, decided_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS participant (    -- contribution history (else derived from the ID)
    personal_id TEXT PRIMARY KEY, months INTEGER NOT NULL, average_salary INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS seq (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Refused(Exception):
    """The agency's refusal: a signed ``refused`` answer with this code, reason and field."""

    def __init__(self, code: str, reason: str, field: str = "") -> None:
        super().__init__(reason)
        self.code, self.reason, self.field = code, reason, field

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, **({"field": self.field} if self.field else {})}


class HttpError(Exception):
    """A plain (unsigned) HTTP error answer."""

    def __init__(self, status: str, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


# ---- the rules --------------------------------------------------------------------------------

_PID = re.compile(r"^\d{12}$")


def _text(body: dict[str, Any], name: str, max_len: int, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if (
        not isinstance(value, str)
        or "\x00" in value
        or len(value) > max_len
        or (required and not value.strip())
    ):
        raise Refused("E_INVALID", f"Trường {name} không hợp lệ.", name)
    return value.strip()


def _pid(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = _text(body, name, 12, required=required)
    if value and not _PID.match(value):
        raise Refused("E_INVALID", f"Trường {name} phải là số định danh cá nhân 12 chữ số.", name)
    return value


def _date(body: dict[str, Any], name: str, today: dt.date) -> dt.date:
    value = _text(body, name, 10)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise Refused("E_INVALID", f"Trường {name} phải là ngày dạng YYYY-MM-DD.", name) from None
    if day > today or day.year < 1900:
        raise Refused("E_INVALID", f"Trường {name} không hợp lệ (ngày trong tương lai hoặc quá xa).", name)
    return day


def birthday(born: dt.date, years: int) -> dt.date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February: the birthday is 1 March in a common year
        return dt.date(born.year + years, 3, 1)


def reference_amount(on: dt.date) -> int:
    amount = RULES["reference_amounts"][0][1]
    for since, value in RULES["reference_amounts"]:
        if on >= dt.date.fromisoformat(since):
            amount = value
    return int(amount)


def contribution_history(db: sqlite3.Connection, personal_id: str) -> tuple[int, int]:
    """(months of contributions, average monthly salary VND): the participant's row, else derived
    from the ID number (sha256 % 480 months: about 2.5 % have fewer than 12 and are refused)."""
    row = db.execute(
        "SELECT months, average_salary FROM participant WHERE personal_id = ?", (personal_id,)
    ).fetchone()
    if row is not None:
        return int(row[0]), int(row[1])
    h = int(hashlib.sha256(personal_id.encode()).hexdigest(), 16)
    return h % 480, 4_000_000 + (h // 480 % 21) * 500_000


def _next(db: sqlite3.Connection, name: str) -> int:
    db.execute("INSERT OR IGNORE INTO seq (name, value) VALUES (?, 0)", (name,))
    return int(
        db.execute("UPDATE seq SET value = value + 1 WHERE name = ? RETURNING value", (name,)).fetchone()[0]
    )


def _card_body(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "card_number": row["card_number"],
        "insurance_number": row["insurance_number"],
        "personal_id": row["personal_id"],
        "full_name": row["full_name"],
        "valid_from": row["valid_from"],
        "valid_to": row["valid_to"],
        "initial_care_facility": row["facility"],
        "issued_at": row["issued_at"],
    }


def issue_health_card(
    db: sqlite3.Connection, body: dict[str, Any], message_id: str, today: dt.date
) -> dict[str, Any]:
    """``health_card.issue``: the child's card (the existing one if already issued)."""
    personal_id = _pid(body, "personal_id")
    full_name = _text(body, "full_name", 100)
    born = _date(body, "birth_date", today)
    sex = _text(body, "sex", 10, required=False)
    province = _text(body, "province_code", 2)
    if not re.match(r"^\d{2}$", province):
        raise Refused("E_INVALID", "Trường province_code phải gồm 2 chữ số.", "province_code")
    address = _text(body, "address", 300, required=False)
    guardian = _pid(body, "guardian_personal_id", required=False)
    existing = db.execute("SELECT * FROM card WHERE personal_id = ?", (personal_id,)).fetchone()
    if existing is not None:
        return _card_body(existing)
    sixth = birthday(born, RULES["health_card_max_age_years"])
    if today >= sixth:
        raise Refused(
            "E_AGE",
            "Trẻ đã đủ 6 tuổi: không thuộc đối tượng cấp thẻ BHYT trẻ em dưới 6 tuổi; "
            "đề nghị tham gia BHYT theo hộ gia đình hoặc học sinh.",
            "birth_date",
        )
    si_number = f"{SI_NUMBER_BASE + _next(db, 'insurance_number'):010d}"
    db.execute(
        "INSERT INTO card (personal_id, card_number, insurance_number, full_name, birth_date, sex, "
        "province_code, address, guardian_personal_id, valid_from, valid_to, facility, message_id, "
        "issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            personal_id,
            f"TE1{province}{si_number}",
            si_number,
            full_name,
            born.isoformat(),
            sex,
            province,
            address,
            guardian,
            born.isoformat(),
            (sixth - dt.timedelta(days=1)).isoformat(),
            FACILITIES.get(province, DEFAULT_FACILITY.format(code=province)),
            message_id,
            protocol.now_iso(),
        ),
    )
    return _card_body(db.execute("SELECT * FROM card WHERE personal_id = ?", (personal_id,)).fetchone())


def _decision_body(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "decision_number": row["decision_number"],
        "kind": row["kind"],
        "personal_id": row["personal_id"],
        "contribution_months": row["contribution_months"],
        "funeral_allowance_vnd": row["funeral_vnd"],
        "survivor_lump_sum_vnd": row["survivor_vnd"],
        "total_vnd": row["total_vnd"],
        "payee": json.loads(row["payee"]),
        "decided_at": row["decided_at"],
    }


def decide_funeral_allowance(
    db: sqlite3.Connection, body: dict[str, Any], message_id: str, today: dt.date
) -> dict[str, Any]:
    """``funeral_allowance.decide``: the decision on the deceased (the existing one if made)."""
    personal_id = _pid(body, "personal_id")
    full_name = _text(body, "full_name", 100)
    died = _date(body, "death_date", today)
    payee_in = body.get("payee")
    if not isinstance(payee_in, dict):
        raise Refused("E_INVALID", "Thiếu người nhận (payee).", "payee")
    payee = {
        "personal_id": _pid(payee_in, "personal_id"),
        "full_name": _text(payee_in, "full_name", 100),
        "relationship": _text(payee_in, "relationship", 50),
    }
    account = _text(payee_in, "bank_account", 30, required=False)
    if account:
        if not re.match(r"^[0-9A-Za-z]{6,30}$", account):
            raise Refused("E_INVALID", "Số tài khoản không hợp lệ.", "payee.bank_account")
        payee["bank_account"] = account
    if payee["personal_id"] == personal_id:
        raise Refused("E_INVALID", "Người nhận không thể là người đã mất.", "payee.personal_id")
    existing = db.execute("SELECT * FROM decision WHERE personal_id = ?", (personal_id,)).fetchone()
    if existing is not None:
        return _decision_body(existing)
    months, salary = contribution_history(db, personal_id)
    if months < RULES["funeral_min_months"]:
        raise Refused(
            "E_NOT_ENTITLED",
            f"Người đã mất có {months} tháng đóng bảo hiểm xã hội, chưa đủ "
            f"{RULES['funeral_min_months']} tháng để hưởng trợ cấp mai táng.",
        )
    funeral = RULES["funeral_multiplier"] * reference_amount(died)
    survivor = 0
    if months >= RULES["survivor_min_months"]:
        survivor = salary * (months // 12) * RULES["survivor_per_year_halves"] // 2
    kind = "funeral_allowance+survivor_lump_sum" if survivor else "funeral_allowance"
    number = f"{_next(db, 'decision'):06d}/{today.year}/QĐ-BHXH"
    db.execute(
        "INSERT INTO decision (personal_id, decision_number, kind, full_name, death_date, "
        "contribution_months, funeral_vnd, survivor_vnd, total_vnd, payee, message_id, decided_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            personal_id,
            number,
            kind,
            full_name,
            died.isoformat(),
            months,
            funeral,
            survivor,
            funeral + survivor,
            json.dumps(payee, ensure_ascii=False),
            message_id,
            protocol.now_iso(),
        ),
    )
    return _decision_body(
        db.execute("SELECT * FROM decision WHERE personal_id = ?", (personal_id,)).fetchone()
    )


SERVICES: dict[str, Callable[[sqlite3.Connection, dict[str, Any], str, dt.date], dict[str, Any]]] = {
    "health_card.issue": issue_health_card,
    "funeral_allowance.decide": decide_funeral_allowance,
}


# ---- the application --------------------------------------------------------------------------


class SocialInsurance:
    """The WSGI application. ``client_key_file``: dancu's public key (read again when replaced)."""

    def __init__(
        self,
        db_path: Path,
        key: Any,
        client_key_file: Path,
        *,
        client: str = protocol.CLIENT,
        delay_ms: int = 0,
        fail_rate: float = 0.0,
        lose_answer_rate: float = 0.0,
        lose_answer_mode: str = "mixed",
        today: Callable[[], dt.date] | None = None,
    ) -> None:
        self.db_path, self.key, self.client_key_file, self.client = (
            Path(db_path),
            key,
            Path(client_key_file),
            client,
        )
        self.delay_ms, self.fail_rate, self.lose_answer_rate = delay_ms, fail_rate, lose_answer_rate
        assert lose_answer_mode in LOSE_MODES
        self.lose_answer_mode = lose_answer_mode
        self.today = today or (lambda: dt.datetime.now(TZ).date())
        self._client_key: tuple[int, Any] | None = None
        self._key_lock = threading.Lock()
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        db = self._db()
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
        finally:
            db.close()

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA synchronous=FULL")
        return db

    def client_key(self) -> Any:
        try:
            mtime = self.client_key_file.stat().st_mtime_ns
        except OSError:
            raise HttpError(
                "401 Unauthorized", "E_CLIENT_KEY", "dancu's public key is not configured"
            ) from None
        with self._key_lock:
            if self._client_key is None or self._client_key[0] != mtime:
                self._client_key = (mtime, protocol.load_key(self.client_key_file))
            return self._client_key[1]

    # ---- WSGI ----

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        try:
            if path.startswith("/x/"):
                if method != "POST":
                    raise HttpError("405 Method Not Allowed", "E_METHOD", "POST only")
                return self.exchange(environ, start_response, path[3:])
            if method != "GET":
                raise HttpError("405 Method Not Allowed", "E_METHOD", "GET only")
            if path == "/state":
                return _json(
                    start_response,
                    "200 OK",
                    self.state(ids="ids" in parse_qs(environ.get("QUERY_STRING", ""))),
                )
            if path == "/.well-known/jwks.json":
                return _json(start_response, "200 OK", {"keys": [protocol.public_jwk(self.key)]})
            if path == "/":
                return self.index(start_response)
            raise HttpError("404 Not Found", "E_NOT_FOUND", "no such page")
        except HttpError as exc:
            return _json(start_response, exc.status, {"code": exc.code, "message": str(exc)})
        except Exception:  # a stand-in: log it, answer 500 (the tests assert bad input never gets here)
            log.error("social-insurance stand-in failed:\n%s", traceback.format_exc())
            return _json(start_response, "500 Internal Server Error", {"code": "E_INTERNAL"})

    def _log(
        self,
        db: sqlite3.Connection,
        message_id: str | None,
        service: str,
        http_status: int,
        outcome: str,
        request_sha256: str = "",
    ) -> None:
        db.execute(
            "INSERT INTO log (at, message_id, service, http_status, outcome, request_sha256) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                protocol.now_iso(),
                (message_id or "")[:64],
                service[:80],
                http_status,
                outcome[:200],
                request_sha256,
            ),
        )

    def _log_alone(self, *args: Any) -> None:
        db = self._db()
        try:
            self._log(db, *args)
        finally:
            db.close()

    def exchange(
        self, environ: dict[str, Any], start_response: StartResponse, service: str
    ) -> Iterable[bytes]:
        header_id = str(environ.get("HTTP_X_MESSAGE_ID", ""))[:64]
        service = service[:80]
        try:
            size = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = -1
        if size < 0 or size > protocol.MAX_MESSAGE_BYTES:
            raise HttpError("413 Content Too Large", "E_TOO_LARGE", "at most 64 KiB")
        raw = environ["wsgi.input"].read(size) if size else b""
        if self.fail_rate and random.random() < self.fail_rate:
            self._log_alone(header_id, service, 503, "fault: unavailable")
            raise HttpError("503 Service Unavailable", "E_UNAVAILABLE", "injected fault: unavailable")
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000)
        try:
            token = raw.decode("ascii").strip()
            payload = protocol.verify(token, self.client_key())
            message_id = protocol.check_request(payload, service=service, client=self.client)
        except UnicodeDecodeError:
            self._log_alone(header_id, service, 400, "refused: not ASCII")
            raise HttpError("400 Bad Request", "E_FORMAT", "a JWS is ASCII text") from None
        except protocol.ProtocolError as exc:
            status = "401 Unauthorized" if exc.code in ("E_SIGNATURE", "E_CLIENT") else "400 Bad Request"
            self._log_alone(header_id, service, int(status[:3]), f"refused: {exc.code}")
            raise HttpError(status, exc.code, str(exc)) from None
        if header_id != message_id:
            self._log_alone(header_id, service, 400, "refused: X-Message-Id differs")
            raise HttpError("400 Bad Request", "E_MESSAGE_ID", "X-Message-Id is not the signed message id")
        request_sha256 = protocol.sha256(token)
        lose = ""  # "503" or "truncate": how this answer will be lost (logged with the message)
        if self.lose_answer_rate and random.random() < self.lose_answer_rate:
            lose = self.lose_answer_mode
            if lose == "mixed":
                lose = random.choice(("503", "truncate"))
        answer = self._process(message_id, service, token, request_sha256, payload["body"], lose)
        if lose == "503":
            raise HttpError("503 Service Unavailable", "E_UNAVAILABLE", "injected fault: answer lost")
        data = answer.encode()
        start_response(
            "200 OK", [("Content-Type", protocol.CONTENT_TYPE), ("Content-Length", str(len(data)))]
        )
        # lost on the way: the announced length, half the bytes, then the connection closes
        return [data[: len(data) // 2] if lose else data]

    def _process(
        self, message_id: str, service: str, token: str, request_sha256: str, body: dict[str, Any], lose: str
    ) -> str:
        """The stored answer of a known message, or process it: all in one transaction."""
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT request_sha256, answer_jws FROM message WHERE message_id = ?", (message_id,)
                ).fetchone()
                if row is not None:
                    if row["request_sha256"] != request_sha256:
                        self._log(db, message_id, service, 409, "refused: message id reused", request_sha256)
                        db.execute("COMMIT")
                        raise HttpError(
                            "409 Conflict",
                            "E_MESSAGE_ID_REUSED",
                            "this message id was used for another request",
                        )
                    self._log(
                        db,
                        message_id,
                        service,
                        503 if lose == "503" else 200,
                        "replayed" + (f", answer lost ({lose})" if lose else ""),
                        request_sha256,
                    )
                    db.execute("COMMIT")
                    return str(row["answer_jws"])
                handler = SERVICES.get(service)
                try:
                    if handler is None:
                        raise Refused("E_UNKNOWN_SERVICE", "Cơ quan không cung cấp dịch vụ này.", "service")
                    db.execute("SAVEPOINT work")
                    status, result = protocol.OK, handler(db, body, message_id, self.today())
                    db.execute("RELEASE work")
                except Refused as refusal:
                    if handler is not None:
                        db.execute("ROLLBACK TO work")
                        db.execute("RELEASE work")
                    status, result = protocol.REFUSED, refusal.body()
                answer = protocol.sign(
                    protocol.answer_payload(
                        message_id=message_id,
                        request_sha256=request_sha256,
                        agency=MEMBER,
                        status=status,
                        body=result,
                    ),
                    self.key,
                )
                db.execute(
                    "INSERT INTO message (message_id, client, service, request_sha256, request_jws, status, "
                    "answer_jws, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        message_id,
                        self.client,
                        service,
                        request_sha256,
                        token,
                        status,
                        answer,
                        protocol.now_iso(),
                    ),
                )
                self._log(
                    db,
                    message_id,
                    service,
                    503 if lose == "503" else 200,
                    status + (f", answer lost ({lose})" if lose else ""),
                    request_sha256,
                )
                db.execute("COMMIT")
                return answer
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        finally:
            db.close()

    def state(self, *, ids: bool = False) -> dict[str, Any]:
        db = self._db()
        try:
            one = lambda sql: int(db.execute(sql).fetchone()[0])  # noqa: E731
            data: dict[str, Any] = {
                "messages": one("SELECT COUNT(*) FROM message"),
                "answers_ok": one("SELECT COUNT(*) FROM message WHERE status = 'ok'"),
                "answers_refused": one("SELECT COUNT(*) FROM message WHERE status = 'refused'"),
                "cards": one("SELECT COUNT(*) FROM card"),
                "decisions": one("SELECT COUNT(*) FROM decision"),
                "duplicate_cards": one(
                    "SELECT COUNT(*) FROM (SELECT personal_id FROM card GROUP BY personal_id "
                    "HAVING COUNT(*) > 1)"
                )
                + one(
                    "SELECT COUNT(*) FROM (SELECT card_number FROM card GROUP BY card_number "
                    "HAVING COUNT(*) > 1)"
                ),
                "duplicate_decisions": one(
                    "SELECT COUNT(*) FROM (SELECT personal_id FROM decision "
                    "GROUP BY personal_id HAVING COUNT(*) > 1)"
                ),
                "requests_logged": one("SELECT COUNT(*) FROM log"),
                "replays": one("SELECT COUNT(*) FROM log WHERE outcome LIKE 'replayed%'"),
                "conflicts": one("SELECT COUNT(*) FROM log WHERE http_status = 409"),
                "faults": one(
                    "SELECT COUNT(*) FROM log WHERE outcome LIKE 'fault%' OR outcome LIKE '%answer lost%'"
                ),
            }
            if ids:
                data["message_ids"] = [
                    r[0] for r in db.execute("SELECT message_id FROM message ORDER BY received_at")
                ]
            return data
        finally:
            db.close()

    def index(self, start_response: StartResponse) -> Iterable[bytes]:
        db = self._db()
        try:
            rows = db.execute(
                "SELECT at, message_id, service, http_status, outcome FROM log ORDER BY id DESC LIMIT 100"
            ).fetchall()
        finally:
            db.close()
        state = self.state()
        body = "<p>" + " · ".join(f"{html.escape(k)}: <b>{v}</b>" for k, v in state.items()) + "</p>"
        body += (
            "<table><tr><th>Lúc (UTC)</th><th>Mã thông điệp</th><th>Dịch vụ</th><th>HTTP</th>"
            "<th>Kết quả</th></tr>"
        )
        body += "".join(
            f"<tr><td>{html.escape(r['at'])}</td><td><code>{html.escape(r['message_id'] or '')}</code></td>"
            f"<td>{html.escape(r['service'] or '')}</td><td>{r['http_status']}</td>"
            f"<td>{html.escape(r['outcome'])}</td></tr>"
            for r in rows
        )
        page = (
            "<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>BHXH (thử nghiệm)</title></head><body><p><b>Hệ thống bảo hiểm xã hội thử nghiệm "
            "(stand-in) — không phải hệ thống thật</b></p><h1>Trao đổi gần đây</h1>"
            f"{body}</table></body></html>"
        ).encode()
        start_response(
            "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))]
        )
        return [page]


def add_participant(db_path: Path, personal_id: str, months: int, average_salary: int = 6_000_000) -> None:
    """Record (or replace) a person's contribution history in the stand-in's database."""
    if not _PID.match(personal_id) or not 0 <= months <= 1200 or not 0 < average_salary < 10**10:
        raise ValueError("a 12-digit ID, 0–1200 months and a positive salary")
    db = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    try:
        db.executescript(SCHEMA)
        db.execute(
            "INSERT OR REPLACE INTO participant (personal_id, months, average_salary) VALUES (?, ?, ?)",
            (personal_id, months, average_salary),
        )
    finally:
        db.close()


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def make(app: SocialInsurance, host: str, port: int, *, quiet: bool = False) -> WSGIServer:
    return httpserver.make(app, host, port, quiet=quiet)
