"""The interconnected procedures under fire (design #13 D), shared by the crash test
(tests/publicservices/test_bundle_crash.py) and the benchmark (bench/bench_bundles.py).

Real processes only: ``dancu serve`` (the API the citizens and the officers call),
``dancu worker`` processes (the flows' ``advance`` task, the periodic ``resume_flows``) and the
social-insurance stand-in (``dancu agency serve social-insurance``, its own SQLite file). While
citizens submit birth and death bundles through the API and an officer thread decides the
officers' steps through the API, a chaos thread kills workers and the agency with SIGKILL at
random moments and starts them again. When every flow has ended, ``check`` looks for what must
never happen: a dossier left open, a step left unfinished, a second child, ID number,
residence registration, card or benefit, a message one side knows and the other does not.

This module imports Django only inside its functions: the benchmark imports it before
``django.setup()``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import http.client
import io
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BIRTH = "1.011571"  # lien-thong-khai-sinh-thuong-tru-bhyt
DEATH = "1.011572"  # lien-thong-khai-tu-xoa-thuong-tru-mai-tang
BUNDLES = (BIRTH, DEATH)
FINAL_STEPS = ("done", "refused", "cancelled")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
API = "/api/v1/publicservices"

# Vietnamese names, unique by their combination (ASCII-free digits are not names)
_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
           "Hồ", "Ngô", "Dương", "Lý"]
_MIDDLE = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu", "Hữu", "Thanh", "Quốc", "Gia", "Bảo", "Khánh"]
_GIVEN = ["An", "Bình", "Châu", "Dung", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Khoa",
          "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phúc", "Quang", "Sơn", "Tâm", "Thảo",
          "Trang", "Tuấn", "Uyên", "Vân", "Việt", "Yến"]


def vietnamese_name(n: int) -> str:
    """The n-th of 16 × 12 × 30 × 30 distinct names (family, middle, two given names)."""
    g1, rest = n % 30, n // 30
    g2, rest = rest % 30, rest // 30
    middle, rest = rest % 12, rest // 12
    return f"{_FAMILY[rest % 16]} {_MIDDLE[middle]} {_GIVEN[g2]} {_GIVEN[g1]}"


# ---- processes -----------------------------------------------------------------------------------


def _cpu_seconds(pgid: int) -> float:
    """User+system CPU of every live process of a process group (a server and its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += int(fields[11]) + int(fields[12])
    return total / ticks


def wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args!r} stopped:\n{log.read_text()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}:\n{log.read_text()[-3000:]}")


class Fleet:
    """The processes of one run, each in its own process group (its CPU is read from /proc
    before it is killed or stopped): the API server, ``workers`` worker processes, the agency."""

    def __init__(self, env: dict[str, str], logs: Path, *, server_port: int, agency_port: int,
                 workers: int, server_workers: int = 1, agency_args: tuple[str, ...] = (),
                 agency_env: dict[str, str] | None = None) -> None:
        self.env, self.agency_env, self.logs = env, agency_env or env, logs
        self.server_port, self.agency_port = server_port, agency_port
        self.n_workers, self.server_workers, self.agency_args = workers, server_workers, agency_args
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.cpu: Counter[str] = Counter()  # role → CPU seconds of its ended processes
        self.kills: Counter[str] = Counter()  # role → SIGKILLs sent
        self.lock = threading.Lock()
        logs.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def role(name: str) -> str:
        return name.split("-")[0]

    def _argv(self, name: str) -> list[str]:
        dancu = [sys.executable, "-m", "dancu.cli"]
        if name == "server":
            return [*dancu, "serve", "--bind", f"127.0.0.1:{self.server_port}",
                    "--workers", str(self.server_workers)]
        if name == "agency":
            return [*dancu, "agency", "serve", "social-insurance", "--port", str(self.agency_port),
                    "--quiet", *self.agency_args]
        return [*dancu, "worker", "--interval", "0.2", "--verbosity", "0"]

    def start(self, name: str) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        env = self.agency_env if name == "agency" else self.env
        proc = subprocess.Popen(self._argv(name), env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        with self.lock:
            self.procs[name] = proc
        if name in ("server", "agency"):
            wait_listening(self.server_port if name == "server" else self.agency_port, proc,
                           self.logs / f"{name}.log")

    def start_all(self) -> None:
        self.start("agency")
        self.start("server")
        for i in range(self.n_workers):
            self.start(f"worker-{i}")

    def workers(self) -> list[str]:
        return [f"worker-{i}" for i in range(self.n_workers)]

    def _end(self, name: str, sig: int, timeout: float = 30) -> None:
        with self.lock:
            proc = self.procs.pop(name, None)
        if proc is None:
            return
        cpu = _cpu_seconds(proc.pid)
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.cpu[self.role(name)] += cpu

    def kill(self, name: str) -> None:
        """SIGKILL, no warning: the process and whatever it was doing end at once."""
        self._end(name, signal.SIGKILL)
        self.kills[self.role(name)] += 1

    def stop_all(self) -> None:
        for name in list(self.procs):
            self._end(name, signal.SIGTERM)

    def ensure_running(self) -> None:
        """Every process of the fleet alive (one that exited on its own is started again)."""
        for name in ["agency", "server", *self.workers()]:
            with self.lock:
                proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                if proc is not None:
                    self._end(name, signal.SIGKILL)
                self.start(name)

    def live_cpu(self) -> Counter[str]:
        out = Counter(self.cpu)
        with self.lock:
            for name, proc in self.procs.items():
                out[self.role(name)] += _cpu_seconds(proc.pid)
        return out


class Chaos(threading.Thread):
    """Kills a random worker (or, with probability ``agency_share``, the agency) every
    ``pause`` seconds (uniform), and starts it again after ``down`` seconds (uniform)."""

    def __init__(self, fleet: Fleet, *, seed: int, pause: tuple[float, float] = (1.0, 4.0),
                 down: tuple[float, float] = (0.0, 1.5), agency_share: float = 0.3) -> None:
        super().__init__(name="chaos", daemon=True)
        self.fleet, self.rng = fleet, random.Random(seed)
        self.pause, self.down, self.agency_share = pause, down, agency_share
        self.stop = threading.Event()
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            while not self.stop.wait(self.rng.uniform(*self.pause)):
                victim = ("agency" if self.rng.random() < self.agency_share
                          else self.rng.choice(self.fleet.workers()))
                self.fleet.kill(victim)
                time.sleep(self.rng.uniform(*self.down))
                self.fleet.start(victim)
        except BaseException as exc:  # reported by the caller
            self.errors.append(exc)


# ---- HTTP ----------------------------------------------------------------------------------------


class Http:
    """JSON over real HTTP (urllib), with the bearer token of the caller."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, token: str, body: Any = None, *,
             headers: dict[str, str] | None = None, files: dict[str, tuple[str, bytes, str]] | None = None,
             fields: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, Any]:
        head = {"Authorization": f"Bearer {token}", **(headers or {})}
        data = None
        if files is not None:
            boundary = uuid.uuid4().hex
            buf = io.BytesIO()
            for k, v in (fields or {}).items():
                buf.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode())
                buf.write(f"{v}\r\n".encode())
            for k, (filename, content, media) in files.items():
                buf.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; '
                          f'filename="{filename}"\r\nContent-Type: {media}\r\n\r\n'.encode())
                buf.write(content + b"\r\n")
            buf.write(f"--{boundary}--\r\n".encode())
            data = buf.getvalue()
            head["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif body is not None:
            data = json.dumps(body).encode()
            head["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method,  # noqa: S310 (local)
                                         headers=head)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (local)
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, raw[:500].decode(errors="replace")


def agency_state(agency_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(agency_url + "/state", timeout=30) as response:  # noqa: S310 (local)
        return dict(json.loads(response.read()))


# ---- the cast: who submits, who decides ----------------------------------------------------------


@dataclasses.dataclass
class Cast:
    commune_code: str
    parents: list[tuple[str, str]]  # (personal ID, access token): they declare births
    families: list[tuple[str, str, list[str]]]  # (head's ID, head's token, members who will die)
    officers: dict[str, str]  # role → API token (commune_justice, commune_police)


def _citizen_token(citizen: Any, phone: str) -> str:
    """A level-2 e-ID account (the bundles need level 2) and an access token of scope
    ``publicservices`` minted directly, as bench/_common.CITIZEN_TOKENS does (the sign-in and
    code flow are other tests' subject)."""
    import secrets

    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    from tests.eid_helpers import level1_account
    from tests.oidc_helpers import make_client

    account = level1_account(citizen, phone=phone)
    account.level = 2
    account.save(update_fields=["level"])
    global _APP
    if _APP is None:
        _APP = make_client("openid publicservices").application
    raw = secrets.token_urlsafe(32)
    get_access_token_model().objects.create(user=account.user, application=_APP, token=raw,
                                            scope="openid publicservices",
                                            expires=timezone.now() + dt.timedelta(hours=6))
    return raw


_APP: Any = None


def seed(commune: Any, *, parents: int, families: int, members: int, tag: str) -> Cast:
    """People of ``commune`` with a permanent residence: ``parents`` adults (each declares
    births), ``families`` households of a head and ``members`` others (the head declares their
    deaths); level-2 e-ID tokens for parents and heads; a commune justice and a commune police
    officer with API tokens. ``tag`` keeps usernames apart between runs on one database."""
    from django.conf import settings

    from dancu.accounts import services as accounts
    from dancu.accounts.actor import system_actor
    from dancu.accounts.models import OfficerProfile
    from dancu.residence import services as residence
    from dancu.residence.selectors import current_household
    from tests.factories import citizen_raw, officer_actor

    global _APP
    _APP = None
    settings.DANCU_OTP_RESEND_SECONDS = 0
    settings.DANCU_OTP_MAX_PER_HOUR = 1000
    actor = system_actor("test:chaos-seed")
    base = int(hashlib.sha256(tag.encode()).hexdigest(), 16) % 10_000 * 1000
    count = iter(range(base, base + 10**6))

    def person(birth: str, sex: str, household: str | None = None, relationship: str = "head") -> Any:
        n = next(count)
        raw = citizen_raw(full_name=vietnamese_name(n * 7919 % 172800), birth_date=birth, sex=sex)
        return residence.register_new_resident(
            actor, raw, commune=commune, address=f"Số {n % 500 + 1} Đường Lê Lợi",
            started_on=dt.date(2015, 1, 1), reason="chaos seed", household_number=household,
            relationship=relationship).citizen

    def phone(c: Any) -> str:
        return f"09{c.pk % 10**8:08d}"

    cast = Cast(commune_code=f"{commune.code_system}:{commune.code}", parents=[], families=[],
                officers={})
    for i in range(parents):
        p = person(f"{1985 + i % 10}-0{1 + i % 9}-1{i % 10}", "F" if i % 2 else "M")
        cast.parents.append((p.personal_id, _citizen_token(p, phone(p))))
    for i in range(families):
        head = person(f"{1960 + i % 15}-0{1 + i % 9}-2{i % 8}", "M")
        number = current_household(head).household.number
        dying = [person(f"{1930 + (i * members + j) % 30}-1{j % 3}-0{1 + j % 9}", "F" if j % 2 else "M",
                        household=number, relationship="other").personal_id for j in range(members)]
        cast.families.append((head.personal_id, _citizen_token(head, phone(head)), dying))
    for role in ("commune_justice", "commune_police"):
        username = f"chaos.{role.split('_')[1][:2]}.{tag}"[:60]
        officer_actor(username, role, commune)
        profile = OfficerProfile.objects.get(user__username=username)
        cast.officers[role] = accounts.issue_api_token(profile, f"chaos {tag}")
    return cast


# ---- citizens submitting -------------------------------------------------------------------------


@dataclasses.dataclass
class Submitted:
    code: str
    kind: str  # BIRTH | DEATH
    applicant: str
    submitted_at: float  # time.time() when the answer arrived
    child_name: str = ""
    deceased: str = ""


def bundle_requests(cast: Cast, births: int, deaths: int, *, seed: int) -> list[dict[str, Any]]:
    """The bundles to submit, births and deaths interleaved; each with its idempotency key."""
    rng = random.Random(seed)
    today = dt.date.today()
    dying = [(head, token, pid) for head, token, members in cast.families for pid in members]
    if deaths > len(dying):
        raise ValueError(f"{deaths} deaths asked, {len(dying)} people seeded to die")
    out: list[dict[str, Any]] = []
    for i in range(births):
        pid, token = cast.parents[i % len(cast.parents)]
        name = vietnamese_name(rng.randrange(172800))
        born = today - dt.timedelta(days=rng.randrange(1, 40))
        out.append({"kind": BIRTH, "token": token, "applicant": pid, "child_name": name,
                    "body": {"procedure_code": BIRTH, "relation": "parent",
                             "data": {"child_full_name": name,
                                      "child_birth_date": born.isoformat(),
                                      "child_sex": rng.choice("MF"), "child_ethnicity": "01"}},
                    "component": "birth_certificate"})
    for i in range(deaths):
        head, token, pid = dying[i]
        died = today - dt.timedelta(days=rng.randrange(1, 10))
        out.append({"kind": DEATH, "token": token, "applicant": head, "deceased": pid,
                    "body": {"procedure_code": DEATH, "relation": "household_head",
                             "subject_personal_id": pid,
                             "data": {"death_date": died.isoformat(),
                                      "death_place": "Bệnh viện Đa khoa tỉnh"}},
                    "component": "death_notice"})
    rng.shuffle(out)
    for n, r in enumerate(out):
        r["key"] = f"chaos-{seed}-{n}"
    return out


def submit_one(http: Http, request: dict[str, Any]) -> Submitted:
    """Upload the attachment, then submit the dossier with it; a connection error is retried
    with the same Idempotency-Key (the same dossier, never a second)."""
    for attempt in range(10):
        try:
            status, up = http.call("POST", f"{API}/uploads", request["token"],
                                   files={"file": (f"{request['component']}.pdf", PDF, "application/pdf")},
                                   fields={"field": f"components.{request['component']}"})
            if status != 201:
                raise AssertionError(f"upload: {status} {up}")
            body = {**request["body"], "components": {request["component"]: up["code"]}}
            status, answer = http.call("POST", f"{API}/dossiers", request["token"], body,
                                       headers={"Idempotency-Key": request["key"]})
            if status not in (200, 201):
                raise AssertionError(f"submission: {status} {answer}")
            return Submitted(code=answer["code"], kind=request["kind"], applicant=request["applicant"],
                             submitted_at=time.time(), child_name=request.get("child_name", ""),
                             deceased=request.get("deceased", ""))
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError(f"the server refused every attempt to submit {request['key']}")


class Submitter(threading.Thread):
    def __init__(self, http: Http, requests: list[dict[str, Any]], gap: float = 0.0) -> None:
        super().__init__(name="submitter", daemon=True)
        self.http, self.requests, self.gap = http, requests, gap
        self.submitted: list[Submitted] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        try:
            for request in self.requests:
                self.submitted.append(submit_one(self.http, request))
                if self.gap:
                    time.sleep(self.gap)
        except BaseException as exc:
            self.errors.append(exc)


# ---- officers deciding ---------------------------------------------------------------------------


TRANSPORT_ERRORS = (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException)


class Officers:
    """One thread per officer (a role's API token) polls their queue of ready steps
    (``GET …/steps?status=ready``) and decides every step through the API: approve, or refuse a
    ``refuse_rate`` share (chosen by a hash of dossier and step, so a run can be replayed); every
    ``replay_every``-th decision is sent twice and the second must be refused with 409 (a replay
    never applies twice). A watcher thread only reads the queues, every ``poll`` seconds: when
    each step was first seen ready (the deciding threads are busy while they decide)."""

    def __init__(self, http: Http, tokens: dict[str, str], *, refuse_rate: float = 0.0,
                 replay_every: int = 7, poll: float = 0.2) -> None:
        self.http, self.tokens, self.refuse_rate = http, tokens, refuse_rate
        self.replay_every, self.poll = replay_every, poll
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.first_seen: dict[tuple[str, str], float] = {}
        self.decided: dict[tuple[str, str], bool] = {}
        self.replays = self.replays_refused = self.transport_errors = 0
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._guarded, args=(self._decide_loop, t), daemon=True,
                                         name=f"officer-{role}") for role, t in tokens.items()]
        self.threads.append(threading.Thread(target=self._guarded, args=(self._watch_loop, ""), daemon=True,
                                             name="queue-watcher"))

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        for t in self.threads:
            t.join(timeout=120)

    def _guarded(self, loop: Callable[[str], None], token: str) -> None:
        try:
            loop(token)
        except BaseException as exc:  # reported by the caller
            self.errors.append(exc)

    def refuses(self, code: str, key: str) -> bool:
        digest = hashlib.sha256(f"{code}/{key}".encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < self.refuse_rate

    def ready(self, token: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            status, body = self.http.call("GET", f"{API}/steps?status=ready&page={page}", token)
            if status != 200:
                raise AssertionError(f"step queue: {status} {body}")
            items += body["items"]
            if not body.get("has_next") or not body["items"]:
                break
            page += 1
        now = time.time()
        with self.lock:
            for item in items:
                self.first_seen.setdefault((item["dossier_code"], item["key"]), now)
        return items

    def decide(self, token: str, code: str, key: str) -> None:
        approve = not self.refuses(code, key)
        body = {"approve": approve, "reason": "" if approve else "Hồ sơ chưa đủ điều kiện (kiểm thử)"}
        path = f"{API}/dossiers/{code}/steps/{key}/decision"
        status, answer = self.http.call("POST", path, token, body)
        if status == 409 and isinstance(answer, dict) and answer.get("code") == "E_STEP_DECIDED" \
                and self.transport_errors:
            # decided by an earlier try of this thread whose answer did not come (a transport error)
            return
        if status != 200:
            raise AssertionError(f"decision {code}/{key}: {status} {answer}")
        with self.lock:
            self.decided[(code, key)] = approve
            replay = len(self.decided) % self.replay_every == 0
        if replay:
            status, answer = self.http.call("POST", path, token, body)
            with self.lock:
                self.replays += 1
                self.replays_refused += status == 409
            if status != 409:
                raise AssertionError(f"a replayed decision {code}/{key} answered {status} {answer}")

    def _decide_loop(self, token: str) -> None:
        while not self.stop.is_set():
            try:
                todo = [(i["dossier_code"], i["key"]) for i in self.ready(token)]
                todo = [k for k in todo if k not in self.decided]
                for code, key in todo:
                    self.decide(token, code, key)
            except TRANSPORT_ERRORS:  # a slow answer or a dropped connection: look again
                self.transport_errors += 1
                todo = []
            if not todo:
                self.stop.wait(self.poll)

    def _watch_loop(self, _token: str) -> None:
        while not self.stop.wait(self.poll):
            for token in self.tokens.values():
                try:
                    self.ready(token)
                except TRANSPORT_ERRORS:
                    self.transport_errors += 1


# ---- the run -------------------------------------------------------------------------------------


def open_flows(codes: list[str]) -> int:
    """Bundle dossiers of ``codes`` not closed yet, or with a step not final."""
    from django.db import close_old_connections

    from dancu.publicservices.models import CLOSED_STATUSES, Dossier, DossierStep

    close_old_connections()
    open_dossiers = Dossier.objects.filter(code__in=codes).exclude(status__in=CLOSED_STATUSES).count()
    open_steps = DossierStep.objects.filter(dossier__code__in=codes).exclude(status__in=FINAL_STEPS).count()
    return open_dossiers + open_steps


def wait_until(done: Callable[[], bool], seconds: float, what: str, poll: float = 0.5,
               why: Callable[[], str] = str) -> float:
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"{what}: not within {seconds:.0f} s\n{why()}")
        time.sleep(poll)
    return time.monotonic() - start


def diagnose(codes: list[str]) -> str:
    """What is left open, for a run that does not end: the steps not final, the flow tasks."""
    from django_tasks_db.models import DBTaskResult

    from dancu.publicservices.models import DossierStep

    lines = [f"{s.dossier.code}/{s.key}: {s.status}, attempts {s.attempts}, next {s.next_attempt_at}, "
             f"error {s.last_error[:200]!r}"
             for s in DossierStep.objects.filter(dossier__code__in=codes).exclude(status__in=FINAL_STEPS)
             .select_related("dossier")[:20]]
    tasks = Counter(DBTaskResult.objects.values_list("status", flat=True))
    failed = [f"{t.exception_class_path}: {t.traceback[-300:]}"
              for t in DBTaskResult.objects.filter(status="FAILED").order_by("-finished_at")[:3]]
    return "\n".join([*lines, f"tasks {dict(tasks)}", *failed])


@dataclasses.dataclass
class Outcome:
    label: str
    submitted: list[Submitted]
    started: float  # time.time() of the first submission
    ended: float  # time.time() when the last flow ended
    kills: Counter[str]
    cpu: Counter[str]
    officers: Officers
    report: dict[str, Any] = dataclasses.field(default_factory=dict)


@contextlib.contextmanager
def running(fleet: Fleet) -> Iterator[Fleet]:
    try:
        fleet.start_all()
        yield fleet
    finally:
        fleet.stop_all()


def run_load(fleet: Fleet, cast: Cast, *, label: str, births: int, deaths: int, seed: int,
             chaos: bool, refuse_rate: float, timeout: float, chaos_pause: tuple[float, float] = (1.0, 4.0),
             agency_share: float = 0.3, submit_gap: float = 0.0, min_kills: int = 0) -> Outcome:
    """Submit the bundles, decide the officers' steps, kill processes (``chaos``) until every
    bundle is submitted and decided as far as it can be and at least ``min_kills`` processes
    were killed (or every flow has ended first), then let the fleet finish every flow."""
    http = Http(f"http://127.0.0.1:{fleet.server_port}")
    requests = bundle_requests(cast, births, deaths, seed=seed)
    cpu_before = fleet.live_cpu()
    kills_before = Counter(fleet.kills)
    submitter = Submitter(http, requests, gap=submit_gap)
    officers = Officers(http, cast.officers, refuse_rate=refuse_rate)
    killer = Chaos(fleet, seed=seed, pause=chaos_pause, agency_share=agency_share) if chaos else None
    started = time.time()
    submitter.start()
    officers.start()
    if killer is not None:
        killer.start()
    try:
        submitter.join()
        if submitter.errors:
            raise submitter.errors[0]
        codes = [s.code for s in submitter.submitted]
        # chaos while the officers still have steps to decide, then a calm end
        if killer is not None:
            def killed() -> int:
                return sum((Counter(fleet.kills) - kills_before).values())

            wait_until(lambda: open_flows(codes) == 0
                       or (_officer_steps_done(codes) and killed() >= min_kills)
                       or bool(officers.errors) or bool(killer.errors),
                       timeout, "the officers' steps", poll=1.0, why=lambda: diagnose(codes))
            if officers.errors:
                raise officers.errors[0]
            killer.stop.set()
            killer.join()
            if killer.errors:
                raise killer.errors[0]
            fleet.ensure_running()
        wait_until(lambda: open_flows(codes) == 0 or bool(officers.errors), timeout, "every flow ending",
                   why=lambda: diagnose(codes))
        if officers.errors:
            raise officers.errors[0]
        ended = _last_close(codes) or time.time()
    finally:
        officers.stop.set()
        if killer is not None:
            killer.stop.set()
    officers.join()
    cpu_after = fleet.live_cpu()
    return Outcome(label=label, submitted=submitter.submitted, started=started, ended=ended,
                   kills=Counter(fleet.kills) - kills_before, cpu=cpu_after - cpu_before, officers=officers)


def _officer_steps_done(codes: list[str]) -> bool:
    from dancu.publicservices.models import DossierStep

    return not DossierStep.objects.filter(dossier__code__in=codes).exclude(role="").exclude(
        status__in=FINAL_STEPS).exists()


def _last_close(codes: list[str]) -> float | None:
    from django.db.models import Max

    from dancu.publicservices.models import DossierStep

    last = DossierStep.objects.filter(dossier__code__in=codes).aggregate(m=Max("decided_at"))["m"]
    return last.timestamp() if last else None


# ---- the invariants ------------------------------------------------------------------------------


def agency_database(data_dir: Path) -> Path:
    """The stand-in's SQLite file (``dancu agency serve``'s default under its DATA_DIR)."""
    return data_dir / "agencies" / "social-insurance.sqlite3"


def _agency_rows(agency_db: Path) -> tuple[set[str], dict[str, list[str]], dict[str, list[str]]]:
    """The agency's own records, read from its file: message ids, card numbers by child,
    decision numbers by deceased (lists: a second one would show)."""
    db = sqlite3.connect(f"file:{agency_db}?mode=ro", uri=True, timeout=30)
    try:
        messages = {str(r[0]) for r in db.execute("SELECT message_id FROM message")}
        cards: dict[str, list[str]] = {}
        for pid, number in db.execute("SELECT personal_id, card_number FROM card"):
            cards.setdefault(pid, []).append(number)
        decisions: dict[str, list[str]] = {}
        for pid, number in db.execute("SELECT personal_id, decision_number FROM decision"):
            decisions.setdefault(pid, []).append(number)
    finally:
        db.close()
    return messages, cards, decisions


def check(outcome: Outcome, agency_url: str, agency_db: Path) -> dict[str, Any]:
    """Every invariant of design #13 on dancu's side and the agency's; returns the counts
    (``violations`` lists what broke, empty when all hold)."""
    from dancu.audit.models import AuditEvent
    from dancu.exchange.models import ExchangeMessage
    from dancu.population.models import Citizen
    from dancu.publicservices.models import CLOSED_STATUSES, Dossier, DossierStep
    from dancu.residence.models import Registration

    bad: list[str] = []
    codes = [s.code for s in outcome.submitted]
    if len(set(codes)) != len(codes):
        bad.append("two submissions answered with one dossier code")
    dossiers = {d.code: d for d in Dossier.objects.filter(code__in=codes).select_related("applicant")}
    not_closed = [c for c in codes if c not in dossiers or dossiers[c].status not in CLOSED_STATUSES]
    if not_closed:
        bad.append(f"{len(not_closed)} dossiers not closed: {not_closed[:5]}")
    steps: dict[str, dict[str, Any]] = {}
    for s in DossierStep.objects.filter(dossier__code__in=codes).select_related("dossier"):
        steps.setdefault(s.dossier.code, {})[s.key] = s
    lost = [f"{c}/{k}" for c, ks in steps.items() for k, s in ks.items() if s.status not in FINAL_STEPS]
    lost += [f"{c}/*" for c in codes if len(steps.get(c, {})) != 3]
    if lost:
        bad.append(f"{len(lost)} steps lost (not final, or missing): {lost[:5]}")

    state = agency_state(agency_url)
    agency_messages, cards, decisions = _agency_rows(agency_db)
    dup = Counter[str]()
    children: list[str] = []
    cards_done = decisions_done = 0
    for sub in outcome.submitted:
        code, st = sub.code, steps.get(sub.code, {})
        if sub.kind == BIRTH:
            parent = dossiers[code].applicant
            kids = list(Citizen.objects.filter(full_name=sub.child_name, mother=parent)
                        | Citizen.objects.filter(full_name=sub.child_name, father=parent))
            reg = st.get("birth_registration")
            want = 1 if reg is not None and reg.status == "done" else 0
            if len(kids) != want:
                dup["children"] += max(len(kids) - 1, 0)
                bad.append(f"{code}: {len(kids)} children registered, {want} expected")
            if not kids:
                continue
            child = kids[0]
            children.append(child.personal_id)
            if reg is not None and reg.result.get("child_personal_id") != child.personal_id:
                bad.append(f"{code}: the step names child {reg.result.get('child_personal_id')}, "
                           f"the registry {child.personal_id}")
            perm = Registration.objects.filter(citizen=child, kind="permanent").count()
            res = st.get("permanent_residence")
            want = 1 if res is not None and res.status == "done" else 0
            dup["residences"] += max(perm - 1, 0)
            if perm != want:
                bad.append(f"{code}: {perm} permanent registrations of the child, {want} expected")
            card, theirs = st.get("health_card"), cards.get(child.personal_id, [])
            dup["cards"] += max(len(theirs) - 1, 0)
            if card is not None and card.status == "done":
                cards_done += 1
                if theirs != [card.result.get("card_number")]:
                    bad.append(f"{code}: card {card.result.get('card_number')} in dancu, {theirs} at the "
                               "agency")
            elif theirs:
                bad.append(f"{code}: the agency issued {theirs}, dancu's step is "
                           f"{card.status if card else '-'}")
        else:
            person = Citizen.objects.get(personal_id=sub.deceased)
            reg = st.get("death_registration")
            if (reg is not None and reg.status == "done") != (person.life_status == "deceased"):
                bad.append(f"{code}: death step {reg.status if reg else '-'}, the person is "
                           f"{person.life_status}")
            res = st.get("residence_deletion")
            active = Registration.objects.filter(citizen=person, kind="permanent",
                                                 ended_on__isnull=True).count()
            if (res is not None and res.status == "done") != (active == 0):
                bad.append(f"{code}: residence step {res.status if res else '-'}, {active} active")
            benefit, theirs = st.get("funeral_allowance"), decisions.get(person.personal_id, [])
            dup["benefits"] += max(len(theirs) - 1, 0)
            if benefit is not None and benefit.status == "done":
                decisions_done += 1
                if theirs != [benefit.result.get("decision_number")]:
                    bad.append(f"{code}: decision {benefit.result.get('decision_number')} in dancu, "
                               f"{theirs} at the agency")
            elif theirs:
                bad.append(f"{code}: the agency decided {theirs}, dancu's step is "
                           f"{benefit.status if benefit else '-'}")
    dup["personal IDs"] = len(children) - len(set(children))
    for name, n in dup.items():
        if n:
            bad.append(f"{n} duplicate {name}")
    # both sides know the same messages, each hand-off audited
    ours = ExchangeMessage.objects.filter(message_id__in=[s.message_id for ks in steps.values()
                                                          for s in ks.values() if not s.role])
    logged = {str(m): status for m, status in ours.values_list("message_id", "status")}
    answered = {m for m, status in logged.items() if status == "answered"}
    if answered - agency_messages:
        bad.append(f"{len(answered - agency_messages)} messages answered to dancu the agency does not know")
    decided = [s for ks in steps.values() for s in ks.values()
               if not s.role and s.status in ("done", "refused")]
    if not_answered := [s for s in decided if str(s.message_id) not in answered]:
        bad.append(f"{len(not_answered)} agency steps decided without an answered message")
    sends = Counter(str(m) for m in AuditEvent.objects.filter(action="exchange.send").values_list(
        "details__message_id", flat=True))
    if unaudited := [m for m in logged if not sends.get(m)]:
        bad.append(f"{len(unaudited)} messages sent without an exchange.send audit record")
    statuses = Counter(d.status for d in dossiers.values())
    step_statuses = Counter(f"{k}:{s.status}" for ks in steps.values() for k, s in ks.items())
    return {"flows": len(codes), "births": sum(s.kind == BIRTH for s in outcome.submitted),
            "deaths": sum(s.kind == DEATH for s in outcome.submitted), "duplicates": sum(dup.values()),
            "steps_lost": len(lost), "violations": bad, "dossiers": dict(statuses),
            "steps": dict(sorted(step_statuses.items())), "messages": len(logged),
            "cards": cards_done, "decisions": decisions_done, "agency_state": state,
            "audited_sends": sum(sends[m] for m in logged)}


# ---- the numbers ---------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def latencies(outcome: Outcome) -> dict[str, list[float]]:
    """Seconds: officer's birth decision → card issued; death decision → benefit decided;
    submission → step 1 seen ready in the officer's queue."""
    from dancu.publicservices.models import DossierStep

    codes = [s.code for s in outcome.submitted]
    by: dict[str, dict[str, Any]] = {}
    for s in DossierStep.objects.filter(dossier__code__in=codes).select_related("dossier"):
        by.setdefault(s.dossier.code, {})[s.key] = s
    out: dict[str, list[float]] = {"card": [], "benefit": [], "ready": []}
    for sub in outcome.submitted:
        st = by.get(sub.code, {})
        for first, auto, name in (("birth_registration", "health_card", "card"),
                                  ("death_registration", "funeral_allowance", "benefit")):
            a, b = st.get(first), st.get(auto)
            if a and b and a.status == "done" and b.status in ("done", "refused") and b.decided_at:
                out[name].append((b.decided_at - a.decided_at).total_seconds())
        first_key = "birth_registration" if sub.kind == BIRTH else "death_registration"
        seen = outcome.officers.first_seen.get((sub.code, first_key))
        if seen is not None:
            out["ready"].append(max(seen - sub.submitted_at, 0.0))
    return out


def fmt_p(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{percentile(values, 50):.2f} / {percentile(values, 95):.2f}"


def table(outcomes: list[Outcome], workers: int) -> str:
    lines = ["| run | flows (birth + death) | worker processes | kills: workers / agency | duplicates found "
             "| steps lost | bundles/min | officer decision → card issued, p50 / p95 s "
             "| death decision → benefit decided, p50 / p95 s | submission → step 1 ready, p50 / p95 s "
             "| worker CPU ms/bundle | agency CPU ms/bundle | API server CPU ms/bundle |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for o in outcomes:
        r, lat = o.report, latencies(o)
        n = max(r["flows"], 1)
        minutes = max(o.ended - o.started, 1e-9) / 60
        lines.append(
            f"| {o.label} | {r['flows']} ({r['births']} + {r['deaths']}) | {workers} "
            f"| {o.kills['worker']} / {o.kills['agency']} | {r['duplicates']} | {r['steps_lost']} "
            f"| {r['flows'] / minutes:.1f} | {fmt_p(lat['card'])} | {fmt_p(lat['benefit'])} "
            f"| {fmt_p(lat['ready'])} | {o.cpu['worker'] * 1000 / n:.0f} | {o.cpu['agency'] * 1000 / n:.0f} "
            f"| {o.cpu['server'] * 1000 / n:.0f} |")
    return "\n".join(lines)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
