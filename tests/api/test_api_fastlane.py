"""The look-up fast lane (dancu.api_fastlane) against Django's own path, through WSGI.

Each request is a WSGI environ (built by Django's RequestFactory) handed to the handler, exactly
as the server (granian) would; the same request through Django's plain handler is the reference.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from django.test import RequestFactory

from dancu import api_fastlane
from dancu.accounts import auth
from dancu.accounts import services as accounts
from dancu.accounts.models import ApiToken
from dancu.audit.models import AuditEvent
from dancu.population import selectors
from dancu.population.api import citizen_json, citizen_out
from dancu.population.models import Citizen
from dancu.residence import services as residence
from tests.factories import citizen_raw

URL = "/api/v1"
AUDITED = ("actor_id", "actor_label", "action", "source", "source_ref", "reason", "subject_type",
           "subject_id", "personal_id", "before", "after", "details", "ip")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    served_by_lane: bool

    def json(self) -> dict:
        return json.loads(self.body)


class _Lane(api_fastlane.LookupFastLane):
    """The lane's handler, noting the requests its fast view answered itself."""

    def __init__(self) -> None:
        super().__init__()
        self.answered = 0

    def resolve_request(self, request):
        match = super().resolve_request(request)
        if match.func is self._view:
            request.dancu_fast = True
        return match

    def declined(self, request):
        request.dancu_fast = False
        return super().declined(request)

    def get_response(self, request):
        response = super().get_response(request)
        if getattr(request, "dancu_fast", False):
            self.answered += 1
        return response


def _call(app, environ: dict) -> tuple[int, dict[str, str], bytes]:
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return int(seen["status"].split()[0]), dict(seen["headers"]), body


@pytest.fixture
def wsgi(settings):
    """request(path, token=..., headers=..., lane=True, **query) → Answer."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

    def request(path: str, token: str | None = None, *, headers: dict | None = None,
                lane_on: bool = True, remote_addr: str = "127.0.0.1", secure: bool = False,
                **query: str) -> Answer:
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        environ = RequestFactory().get(URL + path, query, headers=headers, secure=secure,
                                       REMOTE_ADDR=remote_addr).environ
        lane = _Lane()  # loads settings.MIDDLEWARE as it is now, as a new worker would
        status, response_headers, body = _call(lane if lane_on else WSGIHandler(), environ)
        return Answer(status, response_headers, body, lane.answered == 1)

    return request


@pytest.fixture(autouse=True)
def _test_transaction_keeps_its_connection():
    """As Django's test client does: the per-request connection clean-up would close the test's
    transaction (test_connection_life_cycle_* run it for real)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    auth.token_cache.clear()
    yield
    auth.token_cache.clear()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _token(username: str, role: str = "service", unit=None) -> str:
    profile = accounts.create_officer(username, None, role, jurisdiction=unit)
    return accounts.issue_api_token(profile, f"{username} test")


def _resident(actor, commune, **raw: str) -> Citizen:
    return residence.register_new_resident(
        actor, citizen_raw(**raw), commune=commune, address="12 Lê Lợi",
        started_on=dt.date(2025, 8, 1), reason="đăng ký thường trú").citizen


@pytest.fixture
def national(geo) -> str:
    return _token("svc.quocgia")


@pytest.fixture
def family(geo, ministry_admin) -> dict[str, Citizen]:
    father = _resident(ministry_admin, geo.hac_thanh, full_name="Nguyễn Văn Bình", birth_date="1960",
                       sex="M")
    mother = _resident(ministry_admin, geo.hac_thanh, full_name="Lê Thị Cúc", birth_date="1962-03")
    child = _resident(ministry_admin, geo.hac_thanh, full_name="Nguyễn Thị Hoà",
                      birth_date="1990-05-17", ethnicity="06", religion="02",
                      origin_unit="legacy:14758", old_id_number="172345678",
                      father_id=father.personal_id, mother_id=mother.personal_id)
    return {"father": father, "mother": mother, "child": child}


def _events() -> list[dict]:
    return list(AuditEvent.objects.filter(subject_type="citizen").order_by("id").values(*AUDITED))


# ---- the successful look-up -----------------------------------------------------------------

@pytest.mark.parametrize("who", ["child", "mother", "father"])
def test_lane_answers_exactly_as_django(wsgi, family, national, who) -> None:
    pid = family[who].personal_id
    fast = wsgi(f"/citizens/{pid}", national, purpose="xác minh")
    slow = wsgi(f"/citizens/{pid}", national, purpose="xác minh", lane_on=False)

    assert fast.served_by_lane and (fast.status, slow.status) == (200, 200)
    assert fast.body == slow.body  # byte for byte: same encoder, same key order
    assert fast.headers == slow.headers
    assert fast.headers["X-Content-Type-Options"] == "nosniff"
    assert fast.headers["X-Frame-Options"] == "DENY"
    assert fast.headers["Content-Type"] == "application/json; charset=utf-8"


def test_lane_document_matches_the_orm_record(wsgi, family, national, ministry_admin) -> None:
    child = family["child"]
    body = wsgi(f"/citizens/{child.personal_id}", national).json()
    # The reference: the ORM's record (get_citizen), rendered as the endpoint renders it.
    reference = citizen_out(selectors.get_citizen(ministry_admin, child.personal_id))
    assert body == json.loads(citizen_json(reference))
    assert body["father_personal_id"] == family["father"].personal_id
    assert body["origin_unit"] == {"code": "legacy:14758", "name": "Phường Hàm Rồng"}
    assert body["current_province"] == {"code": "2025:38", "name": "Tỉnh Thanh Hóa"}
    updated = dt.datetime.fromisoformat(body["updated_at"])
    assert abs(updated - Citizen.objects.get(pk=child.pk).updated_at) < dt.timedelta(milliseconds=1)


def test_deceased_person_has_a_death_date(wsgi, geo, ministry_admin, national) -> None:
    from dancu.population import services as population

    person = _resident(ministry_admin, geo.hac_thanh, full_name="Trần Văn Tư", sex="M",
                       birth_date="1930")
    population.correct_citizen(ministry_admin, person.personal_id,
                               {"life_status": "deceased", "death_date": "2024-02-29"},
                               reason="khai tử", expected_version=person.version)
    fast = wsgi(f"/citizens/{person.personal_id}", national)
    slow = wsgi(f"/citizens/{person.personal_id}", national, lane_on=False)
    assert fast.served_by_lane and fast.body == slow.body
    assert (fast.json()["death_date"], fast.json()["version"]) == ("2024-02-29", 2)


def test_one_audit_row_per_look_up_with_the_same_values(wsgi, family, national) -> None:
    pid = family["child"].personal_id
    before = len(_events())
    fast = wsgi(f"/citizens/{pid}", national, headers={"X-Purpose": quote("cấp thẻ căn cước")})
    after_fast = _events()
    slow = wsgi(f"/citizens/{pid}", national, headers={"X-Purpose": quote("cấp thẻ căn cước")},
                lane_on=False)
    after_slow = _events()

    assert fast.served_by_lane and slow.status == 200
    assert len(after_fast) == before + 1 and len(after_slow) == before + 2
    assert after_fast[-1] == after_slow[-1]
    event = after_fast[-1]
    assert (event["action"], event["source"], event["reason"]) == ("citizen.view", "api",
                                                                  "cấp thẻ căn cước")
    assert (event["personal_id"], event["subject_id"]) == (pid, str(family["child"].pk))
    assert (event["actor_label"], event["source_ref"]) == ("svc.quocgia", "token:" + national[:8])
    assert event["ip"] == "127.0.0.1"
    assert AuditEvent.objects.filter(subject_type="citizen").latest("id").at is not None


def test_behind_a_trusted_proxy_both_paths_audit_the_callers_address(wsgi, family, national,
                                                                     settings) -> None:
    settings.DANCU_TRUSTED_PROXIES = "10.0.0.0/24"
    pid = family["child"].personal_id
    via_proxy = {"X-Purpose": "kiem tra", "X-Forwarded-For": "6.6.6.6, 198.51.100.1"}
    fast = wsgi(f"/citizens/{pid}", national, headers=via_proxy, remote_addr="10.0.0.2")
    slow = wsgi(f"/citizens/{pid}", national, headers=via_proxy, remote_addr="10.0.0.2",
                lane_on=False)
    assert fast.served_by_lane and slow.status == 200
    assert [e["ip"] for e in _events()[-2:]] == ["198.51.100.1", "198.51.100.1"]


def test_purpose_query_parameter_wins_over_the_header(wsgi, family, national) -> None:
    wsgi(f"/citizens/{family['child'].personal_id}", national, headers={"X-Purpose": "header"},
         purpose="  hồ sơ   số 12 ")
    assert _events()[-1]["reason"] == "hồ sơ số 12"


def test_area_limited_tokens(wsgi, geo, ministry_admin, family) -> None:
    commune = _token("svc.hacthanh", unit=geo.hac_thanh)
    province = _token("ca.tinh", "province_police", geo.thanh_hoa)
    in_ha_noi = _resident(ministry_admin, geo.hong_ha, full_name="Đỗ Thị Mai")
    pid = family["child"].personal_id

    assert wsgi(f"/citizens/{pid}", commune).served_by_lane
    assert wsgi(f"/citizens/{pid}", province).served_by_lane
    for token in (commune, province):
        refused = wsgi(f"/citizens/{in_ha_noi.personal_id}", token, purpose="tra cứu")
        assert not refused.served_by_lane
        assert refused.status == 403 and refused.json()["code"] == "E_JURISDICTION"
    actions = [e["action"] for e in _events() if e["personal_id"] == in_ha_noi.personal_id]
    assert actions[-2:] == ["citizen.view.denied", "citizen.view.denied"]  # once each, by Django


# ---- everything else goes to Django, unchanged ------------------------------------------------

def _same_answer(wsgi, path: str, token: str | None, **kw) -> Answer:
    fast = wsgi(path, token, **kw)
    slow = wsgi(path, token, lane_on=False, **kw)
    assert not fast.served_by_lane
    assert (fast.status, fast.json()) == (slow.status, slow.json())
    return fast


def test_unknown_person_is_django_404_audited_once(wsgi, geo, national) -> None:
    answer = _same_answer(wsgi, "/citizens/038190000001", national)
    assert answer.status == 404 and answer.json()["code"] == "E_CITIZEN_NOT_FOUND"
    assert [e["action"] for e in _events()] == ["citizen.view.not_found"] * 2  # one per request


@pytest.mark.parametrize("authorization", [None, "Bearer dct_not-a-real-token", "Basic Zm9vOmJhcg==",
                                           "Bearer ", "bearer"])
def test_missing_or_bad_token_is_django_401(wsgi, family, authorization) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = _same_answer(wsgi, f"/citizens/{family['child'].personal_id}", None, headers=headers)
    assert answer.status == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert not [e for e in _events() if e["action"].startswith("citizen.view")]


def test_lower_case_bearer_scheme_is_accepted_like_ninja(wsgi, family, national) -> None:
    pid = family["child"].personal_id
    answer = wsgi(f"/citizens/{pid}", headers={"Authorization": f"bearer {national}"})
    assert answer.served_by_lane and answer.status == 200


@pytest.mark.parametrize("path", ["/citizens/12345", "/citizens/03819000000A", "/citizens/0381900000011",
                                  "/citizens/038190000001/", "/citizens/038190000001/history"])
def test_other_citizen_paths_are_django(wsgi, family, national, path) -> None:
    _same_answer(wsgi, path, national)


def test_too_long_purpose_is_django_422(wsgi, family, national) -> None:
    answer = _same_answer(wsgi, f"/citizens/{family['child'].personal_id}", national, purpose="x" * 501)
    assert answer.status == 422 and answer.json()["field"] == "purpose"
    assert not [e for e in _events() if e["action"].startswith("citizen.view")]


def test_other_endpoints_are_django(wsgi, family, national) -> None:
    health = _same_answer(wsgi, "/health", None)
    assert health.json() == {"status": "ok", "database": "ok"}
    search = _same_answer(wsgi, "/citizens", national, q="nguyen thi hoa")
    assert [c["personal_id"] for c in search.json()["items"]] == [family["child"].personal_id]


def test_disallowed_host_is_left_to_django(wsgi, family, national, settings) -> None:
    settings.ALLOWED_HOSTS = ["dancu.example"]
    answer = wsgi(f"/citizens/{family['child'].personal_id}", national)
    assert not answer.served_by_lane and answer.status == 400
    assert not [e for e in _events() if e["action"] == "citizen.view"]


def test_lane_off_by_environment(monkeypatch) -> None:
    monkeypatch.setenv("DANCU_API_FASTLANE", "0")
    assert type(api_fastlane.application()) is WSGIHandler
    monkeypatch.setenv("DANCU_API_FASTLANE", "1")
    assert isinstance(api_fastlane.application(), api_fastlane.LookupFastLane)


# ---- the whole middleware chain ------------------------------------------------------------------

class StampMiddleware:
    """A middleware added later: it stamps responses, and refuses requests it is told to."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("HTTP_X_REFUSE"):
            from django.http import HttpResponseBadRequest

            return HttpResponseBadRequest("refused")
        response = self.get_response(request)
        response["X-Stamp"] = "seen"
        return response

    def process_view(self, request, view, args, kwargs):
        request.META["HTTP_X_PURPOSE"] = "đặt bởi middleware"  # the view sees what it did
        return None


def test_the_lane_runs_behind_every_middleware_even_one_added_later(wsgi, family, national,
                                                                     settings) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.api.test_api_fastlane.StampMiddleware"]
    pid = family["child"].personal_id
    fast = wsgi(f"/citizens/{pid}", national)
    slow = wsgi(f"/citizens/{pid}", national, lane_on=False)
    assert fast.served_by_lane and fast.status == slow.status == 200
    assert fast.headers["X-Stamp"] == slow.headers["X-Stamp"] == "seen"
    assert fast.headers == slow.headers and fast.body == slow.body
    assert [e["reason"] for e in _events()[-2:]] == ["đặt bởi middleware"] * 2  # process_view ran
    refused = wsgi(f"/citizens/{pid}", national, headers={"X-Refuse": "1"})
    assert (refused.status, refused.body, refused.served_by_lane) == (400, b"refused", False)
    assert len([e for e in _events() if e["action"] == "citizen.view"]) == 2  # nothing looked up


def test_https_redirect_and_security_headers_are_djangos(wsgi, family, national, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    pid = family["child"].personal_id
    answer = wsgi(f"/citizens/{pid}", national)
    assert answer.status == 301 and answer.headers["Location"].startswith("https://")
    settings.SECURE_SSL_REDIRECT = False
    settings.SECURE_HSTS_SECONDS = 3600
    fast = wsgi(f"/citizens/{pid}", national, headers={}, secure=True)
    assert fast.served_by_lane and fast.headers["Strict-Transport-Security"] == "max-age=3600"


# ---- tokens: the same cache and revocation rules ----------------------------------------------

def test_revocation_takes_effect_within_the_cache_ttl(wsgi, family, national, settings,
                                                    monkeypatch) -> None:
    settings.DANCU_API_TOKEN_CACHE_SECONDS = 30
    now = [1000.0]
    monkeypatch.setattr(auth.token_cache, "clock", lambda: now[0])
    pid = family["child"].personal_id
    assert wsgi(f"/citizens/{pid}", national).served_by_lane
    accounts.revoke_api_token(ApiToken.objects.get(profile__user__username="svc.quocgia").pk)
    now[0] += 29
    assert wsgi(f"/citizens/{pid}", national).served_by_lane  # the documented delay
    now[0] += 2
    late = wsgi(f"/citizens/{pid}", national)
    assert not late.served_by_lane and late.status == 401


def test_without_cache_revocation_is_immediate(wsgi, family, national, settings) -> None:
    settings.DANCU_API_TOKEN_CACHE_SECONDS = 0
    pid = family["child"].personal_id
    assert wsgi(f"/citizens/{pid}", national).status == 200
    accounts.revoke_api_token(ApiToken.objects.get(profile__user__username="svc.quocgia").pk)
    assert wsgi(f"/citizens/{pid}", national).status == 401


def test_one_rule_resolves_bearer_tokens_with_or_without_the_cache(geo, monkeypatch) -> None:
    token = _token("svc.quocgia")
    assert accounts.actor_for_token(token, "10.0.0.1") == auth.actor_for_bearer(token, "10.0.0.1")
    accounts.revoke_api_token(ApiToken.objects.get(prefix=token[:8]).pk)
    auth.token_cache.clear()
    assert accounts.actor_for_token(token) is None and auth.actor_for_bearer(token) is None
    # Both ask the same function: change its answer and both follow.
    other = _token("svc.khac", unit=geo.hac_thanh)
    auth.token_cache.clear()
    monkeypatch.setattr(accounts, "api_token_actor", lambda digest: None)
    assert accounts.actor_for_token(other) is None and auth.actor_for_bearer(other) is None


def test_last_used_at_is_written_by_the_lane(wsgi, family, national) -> None:
    assert wsgi(f"/citizens/{family['child'].personal_id}", national).served_by_lane
    assert ApiToken.objects.get(profile__user__username="svc.quocgia").last_used_at is not None


# ---- failures inside the lane -------------------------------------------------------------------

def _fail_once_after_the_audit_insert(monkeypatch) -> list[int]:
    """Make the look-up's transaction fail once, after its audit row was written in it."""
    failures = [0]
    if connection.vendor == "postgresql":
        real = selectors.fetchone_prepared

        def statement_fails(sql, params):
            if failures[0] == 0:
                failures[0] += 1
                # Same statement, whose final SELECT divides by zero: the INSERT above it
                # (its CTE) is part of the failed statement.
                head, _, tail = sql.rpartition(" FROM c")
                sql = head + ", 1 / (SELECT count(*) - count(*) FROM a) AS boom FROM c" + tail  # noqa: S608
                sql = sql.replace(" FROM c) SELECT", " FROM c RETURNING id) SELECT")
                assert "RETURNING id" in sql
            return real(sql, params)

        monkeypatch.setattr(selectors, "fetchone_prepared", statement_fails)
    else:
        real_record = selectors.audit.record

        class _Audit:
            event_fields = staticmethod(selectors.audit.event_fields)

            @staticmethod
            def record(*args, **kwargs):
                event = real_record(*args, **kwargs)
                if failures[0] == 0:
                    failures[0] += 1
                    raise RuntimeError("disk full")
                return event

        monkeypatch.setattr(selectors, "audit", _Audit)
    return failures


def test_a_failure_in_the_lane_leaves_no_audit_row_and_django_answers(wsgi, family, national,
                                                                       monkeypatch) -> None:
    pid = family["child"].personal_id
    before = len(_events())
    failures = _fail_once_after_the_audit_insert(monkeypatch)
    answer = wsgi(f"/citizens/{pid}", national, purpose="thử lỗi")
    assert failures == [1]
    assert not answer.served_by_lane and answer.status == 200  # Django's answer
    events = _events()
    assert len(events) == before + 1  # Django's look-up only: the lane's row was rolled back
    assert (events[-1]["action"], events[-1]["reason"]) == ("citizen.view", "thử lỗi")


def test_unexpected_error_on_both_paths_is_json_500(wsgi, family, national, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("dancu.population.api.lookup_citizen_document", broken)
    monkeypatch.setattr(selectors, "lookup_citizen_document", broken)
    answer = wsgi(f"/citizens/{family['child'].personal_id}", national)
    assert not answer.served_by_lane and answer.status == 500
    assert answer.json()["code"] == "E_INTERNAL" and b"secret internals" not in answer.body


# ---- the connection life cycle, with Django's per-request clean-up connected ----------------------

@pytest.fixture
def real_signals(_test_transaction_keeps_its_connection):
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_connection_life_cycle_after_a_look_up(transactional_db, geo, ministry_admin,
                                               real_signals, wsgi) -> None:
    token = _token("svc.quocgia")
    person = _resident(ministry_admin, geo.hac_thanh)
    for _ in range(3):
        answer = wsgi(f"/citizens/{person.personal_id}", token)
        assert answer.served_by_lane and answer.status == 200
        # Left as Django leaves it: no transaction open, autocommit on, no error pending.
        assert not connection.in_atomic_block and connection.get_autocommit()
        assert not connection.errors_occurred
    assert AuditEvent.objects.filter(action="citizen.view", personal_id=person.personal_id).count() == 3


def test_connection_life_cycle_after_a_database_error(transactional_db, geo, ministry_admin,
                                                      real_signals, wsgi, monkeypatch) -> None:
    token = _token("svc.quocgia")
    person = _resident(ministry_admin, geo.hac_thanh)
    _fail_once_after_the_audit_insert(monkeypatch)
    assert wsgi(f"/citizens/{person.personal_id}", token).status == 200  # delegated
    assert not connection.in_atomic_block and connection.get_autocommit()
    again = wsgi(f"/citizens/{person.personal_id}", token)
    assert again.served_by_lane and again.status == 200
    assert AuditEvent.objects.filter(action="citizen.view", personal_id=person.personal_id).count() == 2


def test_a_dead_database_connection_is_replaced_before_the_lane_uses_it(transactional_db, geo, ministry_admin,
                                                                   real_signals, wsgi) -> None:
    token = _token("svc.quocgia")
    person = _resident(ministry_admin, geo.hac_thanh)
    assert wsgi(f"/citizens/{person.personal_id}", token).served_by_lane
    connection.ensure_connection()
    connection.connection.close()  # the connection went away behind Django's back
    answer = wsgi(f"/citizens/{person.personal_id}", token)
    # the health check at the request's start replaced it: the lane answers on a new connection
    assert answer.status == 200 and answer.json()["personal_id"] == person.personal_id
    assert answer.served_by_lane
    if connection.vendor == "postgresql":
        from tests.core.test_pg_health_check import _terminate_own_backend

        _terminate_own_backend()  # the server closed it (a restart): the same
        answer = wsgi(f"/citizens/{person.personal_id}", token)
        assert answer.status == 200 and answer.served_by_lane
    assert wsgi(f"/citizens/{person.personal_id}", token).served_by_lane
    audited = 4 if connection.vendor == "postgresql" else 3
    assert AuditEvent.objects.filter(action="citizen.view", personal_id=person.personal_id).count() == audited


# ---- the look-up's statement through Django's cursor ----------------------------------------------

def test_the_look_up_statement_is_seen_by_djangos_cursor_hooks(family, national) -> None:
    """Query logging, test query counts and execute wrappers (tracing) see the hot path's one
    statement (core.pg.fetchone_prepared goes through Django's cursor) — still prepared."""
    from django.test.utils import CaptureQueriesContext

    pid = family["child"].personal_id
    actor = auth.actor_for_bearer(national)
    wrapped: list[str] = []

    def tracer(execute, sql, params, many, context):
        wrapped.append(sql)
        return execute(sql, params, many, context)

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(tracer):
        assert selectors.lookup_citizen_document(actor, pid, reason="kiểm tra") is not None
    logged = [q["sql"] for q in queries.captured_queries if "population_citizen" in q["sql"]]
    assert len(logged) == 1
    assert [s for s in wrapped if "population_citizen" in s]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements "
                           "WHERE statement LIKE %s", ["WITH c AS (SELECT%audit_auditevent%"])
            assert cursor.fetchone()[0] >= 1
