"""Property-based fuzzing of every JSON API operation (schemathesis), once per kind of caller.

Each operation of ``/api/v1/openapi.json`` gets generated requests — valid and invalid
parameters, bodies, paths — sent through the real WSGI stack (the fast lane, Django's middleware,
ninja) to the real database, as an officer, without a token, as a citizen (an access token of
scope ``eid.self publicservices``) and as a relying party (client credentials, scope ``ekyc``). Every response
must be no server error (no 5xx) and conform to the document: its status declared, its body
matching the declared schema, its content type the declared one. So the OpenAPI document tells
the truth, and bad input is a 4xx.

Bounded and repeatable: Hypothesis is derandomized (a fixed seed per test) and each operation
gets ``DANCU_FUZZ_EXAMPLES`` examples (default 20). It runs only with ``DANCU_FUZZ=1``: its own
step of ``.ci/run``, on PostgreSQL (a few minutes on two cores)::

    DANCU_FUZZ=1 DATABASE_URL=postgresql://… python -m pytest tests/api/test_fuzz_api.py
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import positive_data_acceptance

from dancu import api_fastlane
from dancu.accounts import auth
from dancu.accounts import services as accounts
from tests.eid_helpers import level1_account, person
from tests.oidc_helpers import exchange, get_code, make_client, pkce_pair, sign_in

EXAMPLES = int(os.environ.get("DANCU_FUZZ_EXAMPLES", "20"))
pytestmark = pytest.mark.skipif(os.environ.get("DANCU_FUZZ") != "1",
                                reason="fuzzing runs in its own CI step (DANCU_FUZZ=1, .ci/run)")

# The document is read through the application itself (no database needed for it).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json",
                                        api_fastlane.application(enabled=True))


@pytest.fixture(autouse=True)
def _requests_keep_the_test_transaction():
    """As Django's test client does: the per-request connection clean-up would end the test's
    transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    auth.token_cache.clear()
    yield
    auth.token_cache.clear()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _authorization(kind: str, geo, commune_officer) -> dict[str, str]:
    """The Authorization header of a caller of this kind (none for ``anonymous``)."""
    person(commune_officer, geo.hac_thanh)  # someone to find in the officer's commune
    client = Client()
    if kind == "officer":
        profile = accounts.create_officer("ca.fuzz", None, "commune_police", jurisdiction=geo.hac_thanh)
        token = accounts.issue_api_token(profile, "fuzz")
    elif kind == "citizen":
        account = level1_account(person(commune_officer, geo.hac_thanh, full_name="Trần Văn Bình"))
        app = make_client("openid eid.self publicservices", public=True)
        sign_in(client, account)
        verifier, challenge = pkce_pair()
        code = get_code(client, app.client_id, challenge, scope="openid eid.self publicservices")
        token = exchange(client, app, code, verifier).json()["access_token"]
    elif kind == "relying_party":
        app = make_client("ekyc", grant="client-credentials")
        basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
        token = client.post("/oidc/token/", {"grant_type": "client_credentials"},
                            HTTP_AUTHORIZATION=f"Basic {basic}").json()["access_token"]
    else:
        return {}
    headers = {"Authorization": f"Bearer {token}"}
    # The token works: the fuzzing runs as this caller, not as an unauthenticated one.
    probe = {"officer": "/api/v1/citizens?q=nguyen", "citizen": "/api/v1/me",
             "relying_party": "/api/v1/ekyc/verify"}[kind]
    if kind == "relying_party":
        response = client.post(probe, {"personal_id": "038190012345", "full_name": "A",
                                       "birth_date": "1990-01-01"}, content_type="application/json",
                               headers=headers)
    else:
        response = client.get(probe, headers=headers)
    assert response.status_code == 200, (kind, response.content)
    return headers


@pytest.fixture
def callers(geo, commune_officer, otp_without_waits, settings):
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    return lambda kind: _authorization(kind, geo, commune_officer)


@pytest.fixture
def as_officer(callers) -> dict[str, str]:
    return callers("officer")


@pytest.fixture
def as_anonymous(callers) -> dict[str, str]:
    return callers("anonymous")


@pytest.fixture
def as_citizen(callers) -> dict[str, str]:
    return callers("citizen")


@pytest.fixture
def as_relying_party(callers) -> dict[str, str]:
    return callers("relying_party")


def fuzz(test):
    """Every operation of the document, ``EXAMPLES`` derandomized examples each."""
    return schema.parametrize()(settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.filter_too_much, HealthCheck.data_too_large])(test))


def _check(case, headers: dict[str, str]) -> None:
    # The fixtures' test client connected the clean-up again after its requests.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # Not positive_data_acceptance: a well-formed request may still be refused by a rule (an
    # unknown commune, a phone number not on record, a wrong code), which no schema can state.
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])


@fuzz
def test_as_officer(case, as_officer) -> None:
    _check(case, as_officer)


@fuzz
def test_as_anonymous(case, as_anonymous) -> None:
    _check(case, as_anonymous)


@fuzz
def test_as_citizen(case, as_citizen) -> None:
    _check(case, as_citizen)


@fuzz
def test_as_relying_party(case, as_relying_party) -> None:
    _check(case, as_relying_party)
