"""The sandbox payment gateway: a small WSGI app of its own, speaking the protocol of
``protocol`` (VNPay's shape), for development and tests. Run it with ``dancu gateway serve``.

It is a separate process with its own SQLite file (never dancu's tables): what a real gateway
would hold — the transactions merchants sent it — and nothing of dancu. Pages and endpoints:

- ``GET /paymentv2/vpcpay.html?vnp_…`` — the payment page the merchant sends the browser to:
  the signature is checked, the transaction stored, and the tester chooses what happens:
  ``success``, ``failure`` (the payer cancels), ``timeout`` (the money is taken but nothing
  comes back: no notification, no return — only reconciliation finds it), ``late`` (the
  notification is sent after N seconds; the browser is not sent back), ``double`` (two
  notifications at once, then the return);
- ``POST /paymentv2/choose`` — that choice (form fields ``txn``, ``mode``, ``delay``);
- ``POST /merchant_webapi/api/transaction`` — ``querydr``: the status of a transaction (JSON);
- ``GET /`` — the latest transactions and notifications, for the tester.

The notification (IPN) is a GET of the merchant's IPN URL with the signed result (the URL is
the gateway's configuration of the merchant, as at VNPay: ``--ipn-url``, by default the origin of
the return URL + ``/payments/ipn``); the browser's return is a redirect to ``vnp_ReturnUrl``
with the same signed result. Every notification and its answer is kept in ``notification``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from wsgiref.simple_server import WSGIServer

from dancu.core import httpserver
from dancu.payments import protocol

MODES = ("success", "failure", "timeout", "late", "double")
SCHEMA = """
CREATE TABLE IF NOT EXISTS txn (
    no INTEGER PRIMARY KEY AUTOINCREMENT,      -- vnp_TransactionNo
    tmn_code TEXT NOT NULL, txn_ref TEXT NOT NULL, amount TEXT NOT NULL, order_info TEXT,
    return_url TEXT NOT NULL, create_date TEXT, expire_date TEXT,
    status TEXT NOT NULL DEFAULT '01',         -- 01 not completed, 00 paid, 02 failed
    response_code TEXT, pay_date TEXT, mode TEXT, created TEXT NOT NULL,
    UNIQUE (tmn_code, txn_ref)
);
CREATE TABLE IF NOT EXISTS notification (
    id INTEGER PRIMARY KEY AUTOINCREMENT, txn_no INTEGER NOT NULL, url TEXT NOT NULL,
    sent TEXT NOT NULL, status INTEGER, answer TEXT
);
"""
FIRST_NO = 14_000_000  # transaction numbers start here, as a real gateway's are long numbers
StartResponse = Callable[..., Any]



def result_notice(*, amount: str, no: int | str, order_info: str, pay_date: str, response_code: str,
                  tmn_code: str, status: str, txn_ref: str, secret: str) -> dict[str, str]:
    """The gateway's signed result of a transaction: what it puts on the payer's return URL and
    sends to the merchant's IPN URL (the demo's history sends it too, for payments made in the
    past)."""
    params = {
        "vnp_Amount": amount,
        "vnp_BankCode": "NCB",
        "vnp_BankTranNo": f"VNP{no}",
        "vnp_CardType": "ATM",
        "vnp_OrderInfo": order_info,
        "vnp_PayDate": pay_date,
        "vnp_ResponseCode": response_code,
        "vnp_TmnCode": tmn_code,
        "vnp_TransactionNo": str(no),
        "vnp_TransactionStatus": status,
        "vnp_TxnRef": txn_ref,
    }
    return protocol.sign(params, secret)

class Sandbox:
    """The WSGI application. ``merchants``: terminal code → secret."""

    def __init__(
        self, db_path: Path, merchants: dict[str, str], *, ipn_url: str = "", http_timeout: float = 10.0
    ) -> None:
        self.db_path, self.merchants, self.ipn_url = db_path, merchants, ipn_url
        self.http_timeout = http_timeout
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)
            db.execute(
                "INSERT OR IGNORE INTO sqlite_sequence (name, seq) "
                "SELECT 'txn', ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'txn')",
                (FIRST_NO,),
            )

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.db_path, timeout=20, isolation_level=None)
        db.row_factory = sqlite3.Row
        return db

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            db = self._db()
            try:
                return db.execute(sql, tuple(args)).fetchall()
            finally:
                db.close()

    # ---- WSGI ----

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
        try:
            if path == "/paymentv2/vpcpay.html" and method == "GET":
                return self.pay_page(environ, start_response)
            if path == "/paymentv2/choose" and method == "POST":
                return self.choose(environ, start_response)
            if path == "/merchant_webapi/api/transaction" and method == "POST":
                return self.querydr(environ, start_response)
            if path == "/" and method == "GET":
                return self.index(start_response)
            return _page(start_response, "404 Not Found", "Không tìm thấy", "<p>Không có trang này.</p>")
        except Exception as exc:  # a sandbox: say what failed
            return _page(
                start_response, "500 Internal Server Error", "Lỗi", f"<pre>{html.escape(repr(exc))}</pre>"
            )

    def pay_page(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        secret = self.merchants.get(params.get("vnp_TmnCode", ""))
        if secret is None:
            return _page(
                start_response,
                "400 Bad Request",
                "Lỗi",
                "<p data-code='02'>Mã website (vnp_TmnCode) không tồn tại.</p>",
            )
        if not protocol.verify(params, secret):
            return _page(
                start_response, "400 Bad Request", "Lỗi", "<p data-code='70'>Sai chữ ký (vnp_SecureHash).</p>"
            )
        missing = [
            k for k in ("vnp_TxnRef", "vnp_Amount", "vnp_ReturnUrl", "vnp_Command") if not params.get(k)
        ]
        if missing or params["vnp_Command"] != "pay" or protocol.parse_amount(params["vnp_Amount"]) is None:
            return _page(
                start_response,
                "400 Bad Request",
                "Lỗi",
                "<p data-code='03'>Dữ liệu không đúng định dạng: "
                f"{html.escape(', '.join(missing) or 'vnp_Amount')}</p>",
            )
        existing = self._query(
            "SELECT * FROM txn WHERE tmn_code = ? AND txn_ref = ?",
            (params["vnp_TmnCode"], params["vnp_TxnRef"]),
        )
        if existing:
            row = existing[0]
            if row["status"] != "01":
                return _page(
                    start_response,
                    "400 Bad Request",
                    "Lỗi",
                    "<p data-code='94'>Giao dịch đã được xử lý (trùng vnp_TxnRef).</p>",
                )
        else:
            self._query(
                "INSERT INTO txn (tmn_code, txn_ref, amount, order_info, return_url, create_date, "
                "expire_date, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    params["vnp_TmnCode"],
                    params["vnp_TxnRef"],
                    params["vnp_Amount"],
                    params.get("vnp_OrderInfo", ""),
                    params["vnp_ReturnUrl"],
                    params.get("vnp_CreateDate", ""),
                    params.get("vnp_ExpireDate", ""),
                    _now(),
                ),
            )
            row = self._query(
                "SELECT * FROM txn WHERE tmn_code = ? AND txn_ref = ?",
                (params["vnp_TmnCode"], params["vnp_TxnRef"]),
            )[0]
        amount = int(row["amount"]) // 100
        buttons = "".join(
            f'<button type="submit" name="mode" value="{m}" data-testid="gw-{m}">{label}</button> '
            for m, label in (
                ("success", "Thanh toán thành công"),
                ("failure", "Thất bại / hủy"),
                ("timeout", "Hết thời gian (không phản hồi)"),
                ("late", "Thông báo trễ"),
                ("double", "Thông báo hai lần"),
            )
        )
        body = (
            f"<p>Đơn vị: <b>{html.escape(row['tmn_code'])}</b> · Mã giao dịch: "
            f"<b data-testid='gw-txn-ref'>{html.escape(row['txn_ref'])}</b></p>"
            f"<p>Nội dung: {html.escape(row['order_info'] or '')}</p>"
            f"<p>Số tiền: <b data-testid='gw-amount'>{amount:,} VND</b></p>"
            f"<form method='post' action='/paymentv2/choose'>"
            f"<input type='hidden' name='txn' value='{row['no']}'>"
            f"<label>Trễ (giây) <input name='delay' value='3' size='3' data-testid='gw-delay'></label><br>"
            f"{buttons}</form>"
        )
        return _page(start_response, "200 OK", "Cổng thanh toán thử nghiệm", body)

    def choose(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(min(size, 100_000)).decode("utf-8", "replace")))
        mode = form.get("mode", "")
        rows = (
            self._query("SELECT * FROM txn WHERE no = ?", (form.get("txn", "0"),))
            if form.get("txn", "").isdigit()
            else []
        )
        if not rows or mode not in MODES:
            return _page(
                start_response, "400 Bad Request", "Lỗi", "<p>Giao dịch hoặc lựa chọn không hợp lệ.</p>"
            )
        row = rows[0]
        if row["status"] != "01":
            return _page(
                start_response, "400 Bad Request", "Lỗi", "<p data-code='94'>Giao dịch đã được xử lý.</p>"
            )
        expire = protocol.parse_date(row["expire_date"] or "")
        if expire is not None and dt.datetime.now(dt.UTC) > expire:
            return _page(
                start_response,
                "400 Bad Request",
                "Lỗi",
                "<p data-code='11'>Giao dịch đã hết hạn chờ thanh toán.</p>",
            )
        failed = mode == "failure"
        status, response_code = ("02", protocol.CUSTOMER_CANCELLED) if failed else ("00", protocol.SUCCESS)
        pay_date = protocol.format_date(dt.datetime.now(dt.UTC))
        self._query(
            "UPDATE txn SET status = ?, response_code = ?, pay_date = ?, mode = ? WHERE no = ?",
            (status, response_code, pay_date, mode, row["no"]),
        )
        result = self.result_params(self._query("SELECT * FROM txn WHERE no = ?", (row["no"],))[0])
        return_to = (
            f"{row['return_url']}{'&' if '?' in row['return_url'] else '?'}{protocol.query_string(result)}"
        )
        if mode in ("success", "failure"):
            self.notify(row, result)
        elif mode == "double":
            self.notify_at_once(row, result, 2)
        elif mode == "late":
            try:
                delay = max(0.0, min(float(form.get("delay") or 3), 3600.0))
            except ValueError:
                delay = 3.0
            thread = threading.Thread(target=self._late, args=(row, result, delay), daemon=True)
            self.threads.append(thread)
            thread.start()
            return _page(
                start_response,
                "200 OK",
                "Đã thanh toán",
                f"<p data-testid='gw-late'>Giao dịch thành công. Thông báo cho đơn vị sẽ gửi sau "
                f"{delay:g} giây.</p><p><a href='{html.escape(return_to)}' data-testid='gw-return'>"
                f"Quay lại trang của đơn vị</a></p>",
            )
        if mode == "timeout":
            return _page(
                start_response,
                "200 OK",
                "Hết thời gian chờ",
                "<p data-testid='gw-timeout'>Giao dịch đã được ghi nhận tại cổng, nhưng không có phản "
                "hồi nào về đơn vị (mô phỏng mất kết nối).</p>",
            )
        start_response("302 Found", [("Location", return_to), ("Content-Length", "0")])
        return [b""]

    def result_params(self, row: sqlite3.Row) -> dict[str, str]:
        return result_notice(amount=row["amount"], no=row["no"], order_info=row["order_info"] or "",
                             pay_date=row["pay_date"] or "", response_code=row["response_code"] or "",
                             tmn_code=row["tmn_code"], status=row["status"], txn_ref=row["txn_ref"],
                             secret=self.merchants[row["tmn_code"]])

    def ipn_url_for(self, row: sqlite3.Row) -> str:
        if self.ipn_url:
            return self.ipn_url
        parts = urlsplit(row["return_url"])
        return f"{parts.scheme}://{parts.netloc}/payments/ipn"

    def notify(self, row: sqlite3.Row, result: dict[str, str]) -> tuple[int | None, str]:
        """One IPN: GET the merchant's IPN URL with the signed result; its answer is kept."""
        url = f"{self.ipn_url_for(row)}?{protocol.query_string(result)}"
        sent = _now()
        try:
            with urllib.request.urlopen(url, timeout=self.http_timeout) as resp:  # noqa: S310
                status, answer = resp.status, resp.read(10_000).decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            status, answer = err.code, err.read(10_000).decode("utf-8", "replace")
        except OSError as exc:
            status, answer = None, f"{type(exc).__name__}: {exc}"
        self._query(
            "INSERT INTO notification (txn_no, url, sent, status, answer) VALUES (?, ?, ?, ?, ?)",
            (row["no"], url, sent, status, answer[:2000]),
        )
        return status, answer

    def notify_at_once(self, row: sqlite3.Row, result: dict[str, str], times: int) -> None:
        barrier = threading.Barrier(times)

        def send() -> None:
            barrier.wait()
            self.notify(row, result)

        threads = [threading.Thread(target=send) for _ in range(times)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

    def _late(self, row: sqlite3.Row, result: dict[str, str], delay: float) -> None:
        time.sleep(delay)
        self.notify(row, result)

    def querydr(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            request = json.loads(environ["wsgi.input"].read(min(size, 100_000)) or b"{}")
            assert isinstance(request, dict)
        except (ValueError, AssertionError):
            return _json(start_response, {"vnp_ResponseCode": "03", "vnp_Message": "Invalid request"})
        request = {str(k): str(v) for k, v in request.items()}
        tmn = request.get("vnp_TmnCode", "")
        secret = self.merchants.get(tmn)
        base = {
            "vnp_ResponseId": request.get("vnp_RequestId", ""),
            "vnp_Command": "querydr",
            "vnp_TmnCode": tmn,
            "vnp_TxnRef": request.get("vnp_TxnRef", ""),
        }
        if secret is None:
            return _json(
                start_response, {**base, "vnp_ResponseCode": "02", "vnp_Message": "Merchant not found"}
            )
        if not protocol.verify(request, secret):
            return _json(
                start_response,
                protocol.sign(
                    {
                        **base,
                        "vnp_ResponseCode": protocol.QUERY_BAD_SIGNATURE,
                        "vnp_Message": "Invalid signature",
                    },
                    secret,
                ),
            )
        rows = self._query(
            "SELECT * FROM txn WHERE tmn_code = ? AND txn_ref = ?", (tmn, request.get("vnp_TxnRef", ""))
        )
        if not rows:
            return _json(
                start_response,
                protocol.sign(
                    {
                        **base,
                        "vnp_ResponseCode": protocol.QUERY_NOT_FOUND,
                        "vnp_Message": "Transaction not found",
                    },
                    secret,
                ),
            )
        row = rows[0]
        answer = {
            **base,
            "vnp_ResponseCode": "00",
            "vnp_Message": "QueryDR Success",
            "vnp_Amount": row["amount"],
            "vnp_BankCode": "NCB",
            "vnp_PayDate": row["pay_date"] or "",
            "vnp_TransactionNo": str(row["no"]),
            "vnp_TransactionType": "01",
            "vnp_TransactionStatus": row["status"],
            "vnp_OrderInfo": row["order_info"] or "",
        }
        return _json(start_response, protocol.sign(answer, secret))

    def index(self, start_response: StartResponse) -> Iterable[bytes]:
        rows = self._query(
            "SELECT no, txn_ref, amount, status, mode, created FROM txn ORDER BY no DESC LIMIT 50"
        )
        notes = self._query("SELECT txn_no, sent, status, answer FROM notification ORDER BY id DESC LIMIT 50")
        body = ("<h2>Giao dịch</h2><table><tr><th>Số</th><th>vnp_TxnRef</th><th>Số tiền</th>"
                "<th>Trạng thái</th><th>Chọn</th><th>Lúc</th></tr>")
        body += "".join(
            f"<tr><td>{r['no']}</td><td>{html.escape(r['txn_ref'])}</td><td>{int(r['amount']) // 100:,}</td>"
            f"<td>{r['status']}</td><td>{html.escape(r['mode'] or '')}</td><td>{r['created']}</td></tr>"
            for r in rows
        )
        body += ("</table><h2>Thông báo (IPN)</h2><table><tr><th>Giao dịch</th><th>Lúc</th><th>HTTP</th>"
                 "<th>Trả lời</th></tr>")
        body += "".join(
            f"<tr><td>{n['txn_no']}</td><td>{n['sent']}</td><td>{n['status']}</td>"
            f"<td>{html.escape(n['answer'] or '')}</td></tr>"
            for n in notes
        )
        return _page(start_response, "200 OK", "Cổng thanh toán thử nghiệm", body + "</table>")

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait for the late notifications under way (tests)."""
        for thread in list(self.threads):
            thread.join(timeout=timeout)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _page(start_response: StartResponse, status: str, title: str, body: str) -> list[bytes]:
    page = (
        f"<!doctype html><html lang='vi'><head><meta charset='utf-8'><title>{html.escape(title)} · "
        "sandbox</title></head><body><p><b>Cổng thanh toán thử nghiệm (sandbox) — "
        "không dùng tiền thật</b></p>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()
    start_response(status, [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))])
    return [page]


def _json(start_response: StartResponse, body: dict[str, str]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def make(app: Sandbox, host: str, port: int, *, quiet: bool = False) -> WSGIServer:
    return httpserver.make(app, host, port, quiet=quiet)
