"""Fixtures of the authentication service's tests: a citizen with a level-1 e-ID account, and a
relying party registered with the default agreement (a test module may define its own)."""

from __future__ import annotations

import pytest

from tests.eid_helpers import level1_account, person
from tests.oidc_helpers import make_client


@pytest.fixture
def account(geo, commune_officer):
    return level1_account(person(commune_officer, geo.hac_thanh))


@pytest.fixture
def rp(db):
    return make_client()
